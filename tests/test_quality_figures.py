"""docs/quality.md reports the agreement figures the frozen annotation sets actually give."""
from __future__ import annotations

import re

from noncoop.agreement import compare
from noncoop.load import load

from conftest import ROOT

PAGE = (ROOT / "docs/quality.md").read_text(encoding="utf-8")


def _row(label: str) -> str:
    match = re.search(rf"^\| {re.escape(label)} \| (.+?) \|$", PAGE, re.M)
    assert match, f"row {label!r} missing from docs/quality.md"
    return match.group(1)


def test_reported_agreement_figures_match_a_recomputation():
    result = compare(ROOT / "agreement/annotator_a", ROOT / "agreement/annotator_b")
    events, quotes, kappa = result["events"], result["quotes"], result["kappa"]
    assert _row("events coded by A / B") == f"{events['a']} / {events['b']}"
    assert _row("matched events") == str(events["matched"])
    assert _row("event span F1, overlap match (B against A)").startswith(f"{events['f1']} (precision {events['precision']}")
    assert _row("event span F1, exact offsets") == str(events["exact"]["f1"])
    for field, label in (("event_type", "PLOVER event type"), ("status", "status"), ("violent", "violent"),
                         ("event_mode", "PLOVER mode"), ("sharp_method", "Sharp method"),
                         ("date_precision", "date precision")):
        assert _row(f"Cohen's kappa, {label}") == str(kappa[field])
    assert _row("quotes coded by A / B") == f"{quotes['a']} / {quotes['b']}"
    assert _row("quote recall (B finds A's quotes)") == str(quotes["recall"])
    assert _row("quote precision") == str(quotes["precision"])
    assert _row("Cohen's kappa, quote kind") == str(quotes["kind_kappa"])


def test_every_disagreement_is_adjudicated_on_the_page():
    result = compare(ROOT / "agreement/annotator_a", ROOT / "agreement/annotator_b")
    table = PAGE.split("## Disagreements and adjudication")[1]
    rows = [line for line in table.splitlines() if line.startswith("| 00")]
    disagreements = result["disagreements"]
    assert len(rows) >= len(disagreements["only_in_b"]) + len(disagreements["coded_differently"])


def test_reported_date_conflict_count_matches_the_data():
    conflicts = int(load("events").date_conflict.sum())
    assert f"`date_conflict` is true\n  for {conflicts} events" in PAGE


def test_reported_figures_after_the_review_match_a_recomputation():
    result = compare(ROOT, ROOT / "agreement/annotator_b")
    events, kappa = result["events"], result["kappa"]
    assert _row("events in the data / coded by B") == f"{events['a']} / {events['b']}"
    assert _row("event span F1 after review, overlap match") == str(events["f1"])
    assert _row("event span F1 after review, exact offsets") == str(events["exact"]["f1"])
    for field, label in (("status", "status"), ("event_mode", "PLOVER mode"), ("date_precision", "date precision")):
        assert _row(f"Cohen's kappa after review, {label}") == str(kappa[field])


def test_reported_incident_counts_match_the_data():
    events = load("events")
    acts = events[events.granularity == "act"]
    assert (f"{len(events)} rows report {events.incident_id.nunique()} incidents; {len(acts)} rows are `act`, "
            f"and they report {acts.incident_id.nunique()} distinct acts") in PAGE


def test_every_review_finding_has_a_decision():
    table = PAGE.split("## Outside expert review")[1].split("\n## ")[0]
    decided = re.findall(r"^\| (R\d+[a-e]?|J\d+|D\d|V\d|S\d) \| .+? \| \*\*.+?\*\*.* \| .+ \|$", table, re.M)
    expected = {f"R{i}" for i in range(1, 9)} | {f"R9{x}" for x in "abcde"} | {f"J{i}" for i in range(1, 15)} \
        | {"D1", "D2", "V1", "V2", "S1"}
    assert set(decided) == expected

"""`build.py show ID` prints any row in context with its links and referrers; `--check` names the
target of every new event reference, so that a wrong ID that happens to exist is visible."""
from __future__ import annotations

import pandas as pd
import pytest

from conftest import ROOT, run_build

EVENTS = pd.read_csv(ROOT / "data" / "events.csv", dtype=str, keep_default_na=False)
LINKS = pd.read_csv(ROOT / "data" / "event_links.csv", dtype=str, keep_default_na=False)
QUOTES = pd.read_csv(ROOT / "data" / "quotes.csv", dtype=str, keep_default_na=False)
A1 = "001_df0a884ed00454f2"


def test_show_an_event_gives_its_row_span_in_context_links_and_quotes():
    link = LINKS[LINKS["link_type"] == "same_as"].iloc[0]
    event = EVENTS.set_index("event_id").loc[link["event_id"]]
    result = run_build(ROOT, "show", link["event_id"])
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"[[{event['evidence']}]]" in out
    target = EVENTS.set_index("event_id").loc[link["linked_event_id"]]
    assert f"links to (same_as) {link['linked_event_id']}: {target['summary']}" in out
    for quote_id in QUOTES[QUOTES["event_id"] == link["event_id"]]["quote_id"]:
        assert quote_id in out


@pytest.mark.parametrize("key, expected", [
    ("ua-nrc", "quotes it speaks:"),
    ("kherson-oblast", "events there:"),
    (A1, "events:"),
    (QUOTES.iloc[0]["quote_id"], "in context:"),
])
def test_show_any_kind_of_row_with_who_refers_to_it(key, expected):
    result = run_build(ROOT, "show", key)
    assert result.returncode == 0 and expected in result.stdout, result.stderr


def test_show_an_unknown_id_suggests_the_nearest():
    result = run_build(ROOT, "show", "ua-nrcc")
    assert result.returncode == 1 and "did you mean 'ua-nrc'" in result.stderr


def test_a_new_reference_to_an_existing_but_wrong_event_is_named_with_its_summary(tree):
    """The defect of issue 14: a wrong-but-existing `linked_event_id` passed the check silently."""
    link = LINKS[LINKS["event_id"].str.startswith(A1) & LINKS["linked_event_id"].str.startswith("000_")].iloc[0]
    wrong = next(e for e in EVENTS["event_id"] if e.startswith("000_") and e != link["linked_event_id"])
    path = tree / "annotations" / f"{A1}.yaml"
    text = path.read_text(encoding="utf-8")
    assert f"linked_event_id: {link['linked_event_id']}" in text
    path.write_text(text.replace(f"linked_event_id: {link['linked_event_id']}", f"linked_event_id: {wrong}", 1),
                    encoding="utf-8")
    result = run_build(tree, "--check")
    summary = EVENTS.set_index("event_id").loc[wrong, "summary"]
    assert f"note: annotations/{A1}.yaml: " in result.stdout and f"{wrong}: “{summary}”" in result.stdout


def test_the_published_references_give_no_notes(tree):
    result = run_build(tree, "--check")
    assert result.returncode == 0 and "note:" not in result.stdout


def test_every_unpublished_reference_gets_one_note_in_row_order(tree, schema):
    """Two changed links and a changed quote target: exactly their notes, links first, in row order."""
    from noncoop.cache import Cache
    from noncoop.cli import Stages, _validated
    from noncoop.show import reference_notes

    path = tree / "annotations" / f"{A1}.yaml"
    text = path.read_text(encoding="utf-8")
    for old, new in (("linked_event_id: e05,", "linked_event_id: e03,"), ("linked_event_id: e12,", "linked_event_id: e02,"),
                     ("    event_id: e06\n", "    event_id: e02\n")):
        assert old in text
        text = text.replace(old, new, 1)
    path.write_text(text, encoding="utf-8")
    frames, _, _ = _validated(tree, schema, Stages(), Cache(tree, enabled=False))
    links = set(LINKS[["event_id", "linked_event_id", "link_type"]].itertuples(index=False, name=None))
    quotes = set(QUOTES[["quote_id", "event_id"]].itertuples(index=False, name=None))
    expected = [f": {e} (“" for e, t, k in frames["event_links"][["event_id", "linked_event_id", "link_type"]]
                .itertuples(index=False, name=None) if (e, t, k) not in links]
    expected += [f": {q} is about {e}: " for q, e in frames["quotes"][["quote_id", "event_id"]]
                 .itertuples(index=False, name=None) if isinstance(e, str) and (q, e) not in quotes]
    notes = reference_notes(tree, frames)
    assert len(expected) == 3 and len(notes) == 3, notes
    assert all(want in note for want, note in zip(expected, notes)), (expected, notes)

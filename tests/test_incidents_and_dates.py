"""Countable incidents, what a row stands for, and the act's time kept apart from the report's."""
from __future__ import annotations

import random

import pandas as pd
import pytest

from conftest import ROOT, make_tree, run_build
from noncoop import load
from noncoop.resolve import incident_ids

T = load()
EVENTS = T["events"].set_index("event_id")
A000, A001 = "000_96b9e111ca13f763", "001_df0a884ed00454f2"


def _same_as_components() -> list[set[str]]:
    """Connected components of the published same_as links, computed here independently."""
    links = T["event_links"][T["event_links"].link_type == "same_as"]
    components: list[set[str]] = [{e} for e in EVENTS.index]
    for a, b in zip(links.event_id, links.linked_event_id):
        ca = next(c for c in components if a in c)
        cb = next(c for c in components if b in c)
        if ca is not cb:
            components.remove(cb)
            ca |= cb
    return components


def test_reports_linked_same_as_share_one_incident_and_no_other_event_does():
    for component in _same_as_components():
        assert EVENTS.loc[sorted(component), "incident_id"].nunique() == 1, component
    assert EVENTS.incident_id.nunique() == len(_same_as_components())


@pytest.mark.parametrize("pair", [(f"{A001}-e07", f"{A000}-e06"), (f"{A001}-e08", f"{A000}-e07"),
                                  (f"{A001}-e02", f"{A000}-e29")])
def test_the_bank_branches_and_russian_control_are_one_incident_each(pair):
    assert EVENTS.at[pair[0], "incident_id"] == EVENTS.at[pair[1], "incident_id"] == pair[1].replace("-e", "-i")


def test_an_unlinked_event_is_an_incident_of_its_own():
    assert EVENTS.at[f"{A000}-e28", "incident_id"] == f"{A000}-i28"  # the bridge strike, in one article only
    assert EVENTS.at[f"{A001}-e12", "incident_id"] == f"{A001}-i12"


def test_incident_ids_do_not_depend_on_link_direction_or_order():
    ids = [f"s00{s}-e{n:02d}" for s in range(3) for n in range(1, 6)]
    links = [("s002-e03", "s000-e05"), ("s001-e01", "s002-e03"), ("s000-e02", "s001-e04")]
    expected = None
    for _ in range(20):
        random.shuffle(links)
        flipped = [(b, a) if random.random() < 0.5 else (a, b) for a, b in links]
        columns = {"event_id": [a for a, _ in flipped], "linked_event_id": [b for _, b in flipped],
                   "link_type": ["same_as"] * len(flipped)}
        got = dict(zip(ids, incident_ids(ids, columns)))
        expected = expected or got
        assert got == expected
    assert expected["s002-e03"] == expected["s001-e01"] == expected["s000-e05"] == "s000-i05"
    assert expected["s001-e04"] == "s000-i02" and expected["s002-e05"] == "s002-i05"


def test_a_later_articles_report_joins_an_incident_without_renaming_it():
    ids = ["000_a-e06", "001_b-e07", "002_c-e01"]
    before = incident_ids(ids[:2], {"event_id": ["001_b-e07"], "linked_event_id": ["000_a-e06"],
                                    "link_type": ["same_as"]})
    after = incident_ids(ids, {"event_id": ["001_b-e07", "002_c-e01"], "linked_event_id": ["000_a-e06", "001_b-e07"],
                               "link_type": ["same_as", "same_as"]})
    assert before == after[:2] == ["000_a-i06"] * 2 and after[2] == "000_a-i06"


def test_part_of_and_causes_links_do_not_merge_incidents():
    assert EVENTS.at[f"{A000}-e12", "incident_id"] != EVENTS.at[f"{A000}-e11", "incident_id"]  # part_of
    assert EVENTS.at[f"{A000}-e07", "incident_id"] != EVENTS.at[f"{A000}-e06", "incident_id"]  # causes


def test_granularity_is_a_defined_code_on_every_row(schema):
    vocabulary = schema.vocabularies["granularity"].codes
    assert set(vocabulary) == {"act", "pattern", "campaign", "continuing"}
    assert set(EVENTS.granularity.astype(str)) <= set(vocabulary)
    assert EVENTS.granularity.notna().all()


def test_umbrellas_and_patterns_are_not_counted_as_acts():
    links = T["event_links"]
    parents = set(links.loc[links.link_type == "part_of", "linked_event_id"])
    assert (EVENTS.loc[sorted(parents), "granularity"] != "act").sum() >= len(parents) - 2
    for event in (f"{A000}-e09", f"{A000}-e25", f"{A000}-e30", f"{A000}-e05", f"{A001}-e04", f"{A000}-e29"):
        assert EVENTS.at[event, "granularity"] != "act", event
    for event in (f"{A000}-e28", f"{A000}-e32", f"{A000}-e07", f"{A001}-e12"):
        assert EVENTS.at[event, "granularity"] == "act", event


def test_a_report_dated_row_keeps_the_act_interval_apart_from_the_report():
    bank = EVENTS.loc[f"{A000}-e03"]  # "Moscow last month announced it had opened ..."
    assert (bank.report_date_start, bank.report_date_end) == (pd.Timestamp("2022-06-01"), pd.Timestamp("2022-06-30"))
    assert bank.report_time_expression == "last month" and bank.report_date_basis == "relative"
    assert bank.date_basis == "report_date" and bank.date_start < bank.report_date_start
    assert bank.date_end == bank.report_date_end and bank.date_precision == "range"


def test_every_report_dated_act_ends_with_its_report_and_is_never_the_reports_interval():
    events = T["events"]
    dated_by_report = events[events.date_basis == "report_date"]
    assert len(dated_by_report) >= 8
    assert dated_by_report.report_date_start.notna().all()
    assert (dated_by_report.date_end == dated_by_report.report_date_end).all()
    assert (dated_by_report.date_start < dated_by_report.report_date_start).all()
    assert dated_by_report.time_expression.isna().all() and dated_by_report.report_time_expression.notna().all()
    reported = events[events.report_date_start.notna()]
    assert (reported.date_end <= reported.report_date_end).all()
    assert set(reported.report_date_basis.astype(str)) <= {"explicit", "relative", "context"}


def test_outside_dates_of_a_statement_conflict_with_the_reports_date_not_the_acts():
    doctors = EVENTS.loc[f"{A000}-e11"]  # text: the statement "earlier this month"; found: 2022-06-06
    assert doctors.external_date_start == pd.Timestamp("2022-06-06") and doctors.date_conflict
    assert doctors.date_start <= doctors.external_date_start <= doctors.date_end  # the act itself may be that early


@pytest.mark.parametrize("edit, message", [
    (("    date_basis: relative\n    time_expression: on Thursday\n", "    date_basis: report_date\n    time_expression: on Thursday\n"),
     "a `date_basis` of `report_date` needs them"),
    (("    granularity: act\n", "    granularity: incident\n"), "got 'incident'; expected one of act, pattern, campaign"),
])
def test_the_build_refuses_a_report_date_without_report_or_an_unknown_granularity(tmp_path, edit, message):
    tree = make_tree(tmp_path / "tree")
    path = tree / f"annotations/{A000}.yaml"
    text = path.read_text(encoding="utf-8")
    assert edit[0] in text
    path.write_text(text.replace(edit[0], edit[1], 1), encoding="utf-8")
    result = run_build(tree, "--check")
    assert result.returncode == 1 and message in result.stderr, result.stderr
    assert f"annotations/{A000}.yaml:" in result.stderr


def test_the_build_refuses_an_act_dated_after_its_report(tmp_path):
    tree = make_tree(tmp_path / "tree")
    path = tree / f"annotations/{A000}.yaml"
    text = path.read_text(encoding="utf-8")
    old = "    date_end: 2022-06-30\n    date_precision: range\n    date_basis: report_date\n"
    assert old in text
    path.write_text(text.replace(old, old.replace("2022-06-30", "2022-07-31"), 1), encoding="utf-8")
    result = run_build(tree, "--check")
    assert result.returncode == 1 and "`date_end` <= `report_date_end`" in result.stderr, result.stderr


def test_incident_ids_are_the_same_in_two_builds(tmp_path):
    first = pd.read_parquet(ROOT / "data/events.parquet", columns=["event_id", "incident_id"])
    tree = make_tree(tmp_path / "tree")
    assert run_build(tree).returncode == 0
    second = pd.read_parquet(tree / "data/events.parquet", columns=["event_id", "incident_id"])
    pd.testing.assert_frame_equal(first, second)


def test_the_viewer_timeline_draws_each_report_date_beside_its_act():
    index = (ROOT / "docs/viewer/index.html").read_text(encoding="utf-8")
    reported = T["events"][T["events"].report_date_start.notna()]
    assert index.count('<span class="rep" ') == len(reported)
    assert 'title="report: 2022-06-01 – 2022-06-30 (month, “last month”)"' in index


def test_the_reports_of_one_incident_agree_on_what_it_is():
    per_incident = T["events"].groupby("incident_id", observed=True)
    assert (per_incident.granularity.nunique() == 1).all()
    assert (per_incident.event_type.nunique() == 1).all()

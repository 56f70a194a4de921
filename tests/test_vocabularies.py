"""The code lists are complete against the references they cite, and the published codes use them."""
from __future__ import annotations

import pandas as pd

from noncoop import load

# ACLED Codebook, version of 7 October 2024 (acleddata.com/knowledge-base/codebook: "Published on:
# 2 June 2023 | Last updated: 3 October 2024"), section "Event Types and Sub-Event Types": six event
# types and 25 sub-event types, transcribed here independently of schemas/vocabularies.yaml.
ACLED = {
    "Battles": {"Government regains territory", "Non-state actor overtakes territory", "Armed clash"},
    "Protests": {"Excessive force against protesters", "Protest with intervention", "Peaceful protest"},
    "Riots": {"Violent demonstration", "Mob violence"},
    "Explosions/Remote violence": {"Chemical weapon", "Air/drone strike", "Suicide bomb",
                                   "Shelling/artillery/missile attack", "Remote explosive/landmine/IED", "Grenade"},
    "Violence against civilians": {"Sexual violence", "Attack", "Abduction/forced disappearance"},
    "Strategic developments": {"Agreement", "Arrests", "Change to group/activity", "Disrupted weapons use",
                               "Headquarters or base established", "Looting/property destruction",
                               "Non-violent transfer of territory", "Other"},
}
PAIRS = {(t, s) for t, subs in ACLED.items() for s in subs}

# PLOVER manual, draft 2.0 (openeventdata/PLOVER@5e0c24f): the modes of the event types this
# project's data uses most; each must be in the vocabulary under its event type.
PLOVER_MODES = {
    "ASSAULT": {"abduct", "beat", "torture", "sexual", "targeted", "destroy", "primitive", "firearms", "explosives",
                "suicide-attack", "aerial", "drone", "heavy-weapons", "crowd-control", "unconventional"},
    "PROTEST": {"demo", "riot", "strike", "hunger", "boycott", "obstruct", "vandalize"},
    "COERCE": {"seize", "restrict", "censor", "curfew", "martial-law", "arrest", "deport", "withhold",
               "misinformation", "cyber"},
    "THREATEN": {"restrict", "arrest", "relations", "expel", "territory", "violence"},
    "SANCTION": {"convict", "expel", "withdraw", "discontinue"},
    "RETREAT": {"withdraw", "release", "disarm", "ceasefire", "access", "resign"},
    "MOBILIZE": {"troops", "weapons", "police", "militia"},
}


def test_the_acled_vocabulary_is_the_full_current_list(schema):
    subs = schema.vocabularies["acled_sub_event_type"].codes
    assert {(spec["event_type"], code) for code, spec in subs.items()} == PAIRS
    assert set(schema.vocabularies["acled_event_type"].codes) == set(ACLED)
    assert len(PAIRS) == 25
    assert "7 October 2024" in schema.vocabularies["acled_sub_event_type"].source


def test_every_published_acled_pair_exists_in_the_cited_list():
    events = load("events")
    coded = events[events.acled_event_type.notna() | events.acled_sub_event_type.notna()]
    assert len(coded) >= 1
    for row in coded.itertuples():
        assert (row.acled_event_type, row.acled_sub_event_type) in PAIRS, row.event_id


def test_plover_modes_include_the_manuals_modes_for_each_type(schema):
    modes = schema.vocabularies["plover_mode"].codes
    for event_type, expected in PLOVER_MODES.items():
        have = {code for code, spec in modes.items() if event_type in spec["event_types"]}
        assert expected <= have, (event_type, expected - have)


def test_contributors_gaps_have_codes(schema):
    v = schema.vocabularies
    assert {"unnamed_person", "armed_group"} <= set(v["actor_type"].codes)
    assert "named" in v["actor_type"].codes["person"]["definition"]
    assert "facility" in v["feature_kind"].codes
    assert "und" in v["language"].codes
    assert "REB" in v["plover_sector"].codes
    assert "employee" not in v["plover_mode"].codes["resign"]["definition"].split("Employees")[0]


def test_published_codes_are_in_their_vocabularies(schema):
    tables = load()
    for name, table in schema.tables.items():
        for field in table.fields:
            if field.vocabulary:
                values = set(tables[name][field.name].dropna().astype(str))
                assert values <= set(schema.codes(field)), (name, field.name, values - set(schema.codes(field)))
    assert isinstance(tables["events"]["granularity"].dtype, pd.CategoricalDtype)

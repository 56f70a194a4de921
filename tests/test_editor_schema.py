"""The published JSON Schemas (schemas/json/, for yaml-language-server) complete what an annotator
types: registry IDs, codes with their definitions, Sharp numbers with names, and `event_mode`
limited to the modes of the chosen `event_type`, checked by the schema alone."""
from __future__ import annotations

import json

import pytest
from jsonschema import Draft7Validator

from conftest import ROOT
from noncoop.errors import Problems
from noncoop.read import load_yaml

ARTICLES = sorted(p.stem for p in (ROOT / "annotations").glob("*.yaml") if p.stem not in ("actors", "places"))


def _validator(kind: str) -> Draft7Validator:
    return Draft7Validator(json.loads((ROOT / "schemas" / "json" / f"{kind}.schema.json").read_text(encoding="utf-8")))


def _data(rel: str):
    return load_yaml(ROOT / rel, rel, Problems()).data


@pytest.mark.parametrize("rel, kind", [(f"annotations/{a}.yaml", "source") for a in ARTICLES]
                         + [("annotations/actors.yaml", "actors"), ("annotations/places.yaml", "places")])
def test_the_real_annotations_validate_against_the_published_schemas(rel, kind):
    assert [e.message for e in _validator(kind).iter_errors(_data(rel))] == []


def _first_event_of_type(data, event_type):
    return next(e for e in data["events"] if e["event_type"] == event_type)


def test_a_mode_of_another_type_is_refused_by_the_schema_alone(schema):
    data = _data(f"annotations/{ARTICLES[0]}.yaml")
    event = _first_event_of_type(data, "COERCE")
    modes = schema.vocabularies["plover_mode"].codes
    event["event_mode"] = next(m for m, spec in modes.items() if "COERCE" not in spec["event_types"])
    errors = list(_validator("source").iter_errors(data))
    assert errors and all(list(e.absolute_path)[-1] == "event_mode" for e in errors)
    event["event_mode"] = next(m for m, spec in modes.items() if "COERCE" in spec["event_types"])
    assert list(_validator("source").iter_errors(data)) == []


def test_every_event_type_offers_exactly_its_modes(schema):
    events = json.loads((ROOT / "schemas/json/source.schema.json").read_text(encoding="utf-8"))["properties"]["events"]
    offered = {c["if"]["properties"]["event_type"]["const"]: c["then"]["properties"]["event_mode"]["enum"]
               for c in events["items"]["allOf"]}
    modes = schema.vocabularies["plover_mode"].codes
    for event_type in schema.vocabularies["plover_event_type"].codes:
        assert offered[event_type] == [m for m, s in modes.items() if event_type in s["event_types"]] + [None]


def test_registry_ids_sharp_numbers_and_codes_are_offered_with_their_descriptions(schema):
    js = json.loads((ROOT / "schemas/json/source.schema.json").read_text(encoding="utf-8"))
    actors = _data("annotations/actors.yaml")["actors"]
    assert js["definitions"]["actor_id"]["enum"] == sorted(a["actor_id"] for a in actors)
    events = js["properties"]["events"]["items"]["properties"]
    places = sorted(p["place_id"] for p in _data("annotations/places.yaml")["places"])
    assert events["place_id"]["enum"] == places + [None]
    assert len(events["sharp_method"]["enum"]) == 199 and "113. Strike" in " ".join(events["sharp_method"]["enumDescriptions"])
    for name, prop in events.items():
        if "enum" in prop:
            assert len(prop["enumDescriptions"]) == len(prop["enum"]), name
    status = schema.vocabularies["event_status"].codes
    assert events["status"]["enumDescriptions"] == [s["definition"] for s in status.values()]


def test_an_unknown_actor_is_refused_by_the_schema_alone():
    data = _data(f"annotations/{ARTICLES[0]}.yaml")
    data["events"][0]["actors"] = ["ua-governmentt"]
    assert [list(e.absolute_path) for e in _validator("source").iter_errors(data)] == [["events", 0, "actors", 0]]

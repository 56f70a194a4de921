"""datapackage.json against the official Data Package v2 profiles (as shipped by dplib-py) and
what readers of either version need: `$schema`, a stable `id`, `categories` from schemas/,
`categoriesOrdered` for ordinal codes, and only resources that every tabular reader can read."""
from __future__ import annotations

import json
from pathlib import Path

import dplib
import jsonschema
import pyarrow.parquet as pq
import pytest

from conftest import ROOT

PROFILES = Path(dplib.__file__).parent / "profiles" / "2.0"
DESCRIPTOR = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))


def _profile(name: str) -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(json.loads((PROFILES / f"{name}.json").read_text(encoding="utf-8")))


def _errors(validator: jsonschema.Draft7Validator, document) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]


def test_descriptor_validates_against_the_official_v2_profiles():
    problems = _errors(_profile("datapackage"), DESCRIPTOR)
    for resource in DESCRIPTOR["resources"]:
        problems += [f"{resource['name']}: {p}" for p in _errors(_profile("dataresource"), resource)]
        problems += [f"{resource['name']}.schema: {p}" for p in _errors(_profile("tableschema"), resource["schema"])]
        problems += [f"{resource['name']}.dialect: {p}" for p in _errors(_profile("tabledialect"), resource["dialect"])]
    assert not problems, problems[:20]


def test_descriptor_declares_v2_and_a_stable_id(schema):
    assert DESCRIPTOR["$schema"] == "https://datapackage.org/profiles/2.0/datapackage.json"
    assert DESCRIPTOR["id"] == schema.package["id"]
    assert all(contributor["roles"] for contributor in DESCRIPTOR["contributors"])


def test_every_resource_is_a_tabular_resource_in_v1_and_v2_terms():
    # R's frictionless refuses a resource without profile "tabular-data-resource" and reads every
    # tabular resource as delimited text: only CSV resources may be listed.
    for resource in DESCRIPTOR["resources"]:
        assert resource["profile"] == "tabular-data-resource", resource["name"]
        assert resource["type"] == "table" and resource["format"] == "csv", resource["name"]
        assert resource["schema"]["$schema"] == "https://datapackage.org/profiles/2.0/tableschema.json"


def test_coded_fields_carry_categories_with_labels_and_enum_from_the_schema(schema):
    checked = 0
    for resource in DESCRIPTOR["resources"]:
        table = schema.tables[resource["name"]]
        for field in resource["schema"]["fields"]:
            spec = table.field(field["name"])
            if not spec.vocabulary:
                assert "categories" not in field
                continue
            vocabulary = schema.vocabularies[spec.vocabulary]
            assert field["categories"] == [{"value": code, "label": c["definition"]} for code, c in vocabulary.codes.items()]
            assert field["constraints"]["enum"] == list(vocabulary.codes)  # R builds factors from enum
            assert field.get("categoriesOrdered", False) is vocabulary.ordered
            checked += 1
    assert checked


def test_precision_scales_are_ordinal_in_the_descriptor_and_the_parquet(schema):
    for name in ("date_precision", "location_precision"):
        assert schema.vocabularies[name].ordered
    for resource in DESCRIPTOR["resources"]:
        arrow = pq.read_schema(ROOT / resource["parquet"]["path"])
        for field in resource["schema"]["fields"]:
            if "categories" in field:
                assert arrow.field(field["name"]).type.ordered is field.get("categoriesOrdered", False), field["name"]


def test_parquet_twins_are_described_with_size_and_checksum():
    import hashlib
    for resource in DESCRIPTOR["resources"]:
        twin = resource["parquet"]
        data = (ROOT / twin["path"]).read_bytes()
        assert twin["path"] == resource["path"].removesuffix(".csv") + ".parquet"
        assert (twin["bytes"], twin["hash"]) == (len(data), "sha256:" + hashlib.sha256(data).hexdigest())

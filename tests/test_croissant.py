"""croissant.json checked by MLCommons' own mlcroissant: it validates, and every record set loads
with the rows and values of the published CSV, foreign keys (self-references included) kept."""
from __future__ import annotations

import csv
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import mlcroissant as mlc
import pytest

from conftest import ROOT
from noncoop.schema import load_schema


SCHEMA = load_schema()
DOCUMENT = json.loads((ROOT / "croissant.json").read_text(encoding="utf-8"))


def test_mlcroissant_validates_without_warnings():
    cli = Path(sys.executable).with_name("mlcroissant")
    result = subprocess.run([str(cli), "validate", "--jsonld", "croissant.json"], cwd=ROOT, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "warning" not in result.stderr.lower(), result.stderr[-3000:]


def test_every_file_object_matches_its_file():
    for item in DOCUMENT["distribution"]:
        data = (ROOT / item["contentUrl"]).read_bytes()
        assert item["sha256"] == hashlib.sha256(data).hexdigest()
        assert item["contentSize"] == f"{len(data)} B"


def test_every_foreign_key_is_a_reference():
    for record_set in DOCUMENT["recordSet"]:
        table = SCHEMA.tables[record_set["name"]]
        references = {f["name"]: f["references"] for f in record_set["field"] if "references" in f}
        assert references == {fk.fields[0]: {"fileObject": {"@id": f"data/{fk.table}.csv"},
                                             "extract": {"column": fk.reference[0]}} for fk in table.foreign_keys}
        assert [f["name"] for f in record_set["field"]] == table.columns


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    folder = tmp_path_factory.mktemp("croissant")  # mlcroissant may write beside the document
    shutil.copy(ROOT / "croissant.json", folder / "croissant.json")
    shutil.copytree(ROOT / "data", folder / "data", ignore=shutil.ignore_patterns("*.parquet"))
    return mlc.Dataset(jsonld=str(folder / "croissant.json"))


@pytest.mark.parametrize("name", list(SCHEMA.tables))
def test_mlcroissant_loads_every_record_set_as_the_csv(dataset, name):
    with (ROOT / "data" / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        expected = list(csv.DictReader(handle))
    records = list(dataset.records(record_set=name))
    assert len(records) == len(expected)
    key = SCHEMA.tables[name].primary_key[0]
    got = sorted(v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in (r[f"{name}/{key}"] for r in records))
    assert got == sorted(row[key] for row in expected)

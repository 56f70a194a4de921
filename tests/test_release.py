"""One version everywhere, valid citation files, and a reproducible, verifiable release archive."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from importlib import metadata

import jsonschema
from ruamel.yaml import YAML

from noncoop.release import archive, verify

from conftest import ROOT

VERSION = (ROOT / "VERSION").read_text().strip()


def test_version_is_semver_and_agrees_in_every_file():
    assert re.fullmatch(r"\d+\.\d+\.\d+", VERSION)
    assert json.loads((ROOT / "datapackage.json").read_text())["version"] == VERSION
    assert YAML(typ="safe").load((ROOT / "CITATION.cff").read_text())["version"] == VERSION
    assert json.loads((ROOT / ".zenodo.json").read_text())["version"] == VERSION
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert re.findall(r"^## \[(\d+\.\d+\.\d+)\]", changelog, re.M)[0] == VERSION
    assert metadata.version("noncoop") == VERSION


def test_release_dates_agree():
    created = json.loads((ROOT / "datapackage.json").read_text())["created"][:10]
    assert str(YAML(typ="safe").load((ROOT / "CITATION.cff").read_text())["date-released"]) == created
    assert json.loads((ROOT / ".zenodo.json").read_text())["publication_date"] == created
    assert f"## [{VERSION}] - {created}" in (ROOT / "CHANGELOG.md").read_text()


def test_citation_cff_validates_against_the_cff_1_2_0_schema():
    schema = json.loads((ROOT / "tests/fixtures/cff-1.2.0.schema.json").read_text())
    cff = json.loads(json.dumps(YAML(typ="safe").load((ROOT / "CITATION.cff").read_text()), default=str))
    jsonschema.Draft7Validator(schema).validate(cff)
    assert cff["type"] == "dataset"


def test_licences_are_stated_in_license_readme_and_descriptor():
    descriptor = json.loads((ROOT / "datapackage.json").read_text())
    assert descriptor["licenses"][0]["name"] == "CC-BY-4.0"
    assert "not licensed by this package" in descriptor["description"]
    for text in ((ROOT / "LICENSE").read_text(), (ROOT / "README.md").read_text()):
        assert "MIT" in text and "CC BY 4.0" in text and "publisher" in text


def test_release_archive_is_reproducible_and_verifies(tmp_path, schema):
    name, first = archive(ROOT, schema)
    _, second = archive(ROOT, schema)
    assert name == f"{schema.package['name']}-{VERSION}.zip" and first == second
    path = tmp_path / name
    path.write_bytes(first)
    assert verify(path) == []
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        zf.extractall(tmp_path / "unpacked")
    for required in ("datapackage.json", "data/events.parquet", "docs/codebook.md", "LICENSE", "CITATION.cff",
                     "SHA256SUMS", "articles/000_96b9e111ca13f763.txt"):
        assert any(n.endswith("/" + required) for n in names), required
    folder = next((tmp_path / "unpacked").iterdir())
    assert verify(folder) == []
    sums = subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=folder, capture_output=True, text=True)
    assert sums.returncode == 0, sums.stdout + sums.stderr


def test_verify_detects_a_tampered_or_extra_file(tmp_path, schema):
    name, data = archive(ROOT, schema)
    with zipfile.ZipFile(__import__("io").BytesIO(data)) as zf:
        zf.extractall(tmp_path)
    folder = next(tmp_path.iterdir())
    (folder / "data/events.csv").write_bytes(b"tampered\n")
    (folder / "extra.txt").write_text("x")
    problems = verify(folder)
    assert "data/events.csv: sha256 differs from SHA256SUMS" in problems
    assert "extra.txt: not listed in SHA256SUMS" in problems
    result = subprocess.run([sys.executable, "-m", "noncoop.release", "verify", str(folder)], capture_output=True, text=True)
    assert result.returncode == 1

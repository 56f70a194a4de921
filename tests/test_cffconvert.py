"""CITATION.cff as cffconvert, the Citation File Format's own converter, reads it: valid, and its
BibTeX, APA and schema.org exports carry the title, version, date and (once recorded) the URL and
DOI. cffconvert pins jsonschema<4, which the project's pins exclude, so it runs in a virtual
environment of its own, made once in a cache folder under the temporary directory and reused."""
from __future__ import annotations

import dataclasses
import fcntl
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from conftest import ROOT, unavailable
from noncoop.release import citation_cff

CFFCONVERT = "cffconvert==2.0.0"
CACHE = (Path(tempfile.gettempdir()) / "noncoop-test-tools"
         / f"{CFFCONVERT.replace('==', '-')}-py{sys.version_info[0]}{sys.version_info[1]}")


def _install(venv: Path) -> str:
    """Make `venv` with cffconvert in it; '' when done, else what failed."""
    shutil.rmtree(venv, ignore_errors=True)
    steps = {"python -m venv": [sys.executable, "-m", "venv", str(venv)],
             f"pip install {CFFCONVERT}": [str(venv / "bin/python"), "-m", "pip", "install", "--quiet",
                                           "--disable-pip-version-check", CFFCONVERT]}
    for step, command in steps.items():
        result = subprocess.run(command, capture_output=True, text=True, timeout=600)
        if result.returncode:
            return f"{step}: {' '.join(result.stderr.split())[-500:]}"
    (venv / "installed").touch()  # the venv is complete: later sessions reuse it
    return ""


@pytest.fixture(scope="session")
def cffconvert() -> Path:
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    with open(CACHE.parent / f"{CACHE.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one session installs; the others wait and reuse it
        failed = "" if (CACHE / "installed").exists() else _install(CACHE)
    if failed:
        unavailable(f"cffconvert could not be installed in {CACHE} ({failed})")
    return CACHE / "bin" / "cffconvert"


def convert(cffconvert: Path, cff: Path, *args: str) -> str:
    result = subprocess.run([str(cffconvert), "-i", str(cff), *args], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture
def recorded(schema, tmp_path) -> Path:
    """CITATION.cff as the build writes it once a DOI and the code repository are recorded."""
    package = {**schema.package, "doi": "10.5281/zenodo.1", "repository": "https://example.org/noncoop"}
    path = tmp_path / "CITATION.cff"
    path.write_text(citation_cff(dataclasses.replace(schema, package=package)), encoding="utf-8")
    return path


def test_cffconvert_validates_citation_cff(cffconvert, recorded):
    for cff in (ROOT / "CITATION.cff", recorded):
        assert "valid according to schema version 1.2.0" in convert(cffconvert, cff, "--validate")


def test_bibtex_export_carries_title_and_date(cffconvert, schema):
    bibtex = convert(cffconvert, ROOT / "CITATION.cff", "-f", "bibtex")
    assert f"title = {{{schema.package['title']}}}" in bibtex
    assert f"year = {{{schema.package['created'][:4]}}}" in bibtex
    assert f"month = {{{int(schema.package['created'][5:7])}}}" in bibtex


def test_bibtex_export_carries_the_url_and_doi_once_recorded(cffconvert, recorded, schema):
    """No URL or DOI exists yet, and none is invented; once schemas/package.yaml records them, they reach the BibTeX."""
    bibtex = convert(cffconvert, recorded, "-f", "bibtex")
    assert "url = {https://example.org/noncoop}" in bibtex and "doi = {10.5281/zenodo.1}" in bibtex
    assert "url = " not in convert(cffconvert, ROOT / "CITATION.cff", "-f", "bibtex")


def test_apa_and_schema_org_exports_carry_the_version(cffconvert, schema):
    """cffconvert 2.0.0's BibTeX has no version field (author, doi, month, title, url, year only); its
    APA and schema.org exports carry the version."""
    version = schema.package["version"]
    assert f"(version {version})" in convert(cffconvert, ROOT / "CITATION.cff", "-f", "apalike")
    document = json.loads(convert(cffconvert, ROOT / "CITATION.cff", "-f", "schema.org"))
    assert document["version"] == version and document["name"] == schema.package["title"]
    assert not re.search(r"^version", convert(cffconvert, ROOT / "CITATION.cff", "-f", "bibtex"), re.M)

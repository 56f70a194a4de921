"""One version everywhere, valid citation files, and a reproducible, verifiable release archive."""
from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
import zipfile
from importlib import metadata

import jsonschema
import pytest
from ruamel.yaml import YAML

from noncoop.errors import BuildError
from noncoop.release import HAND_WRITTEN, ReleaseError, archive, verify

from conftest import ROOT, make_tree

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


# --- Building a release: exactly a fresh build's outputs plus the declared files -------------

def release_tree(tmp_path):
    """A scratch copy of everything a release ships, to release from without touching the project."""
    tree = make_tree(tmp_path / "tree")
    for rel in HAND_WRITTEN:
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / rel, tree / rel)
    return tree


def names(data: bytes) -> set[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n.split("/", 1)[1] for n in zf.namelist()}


def test_every_hand_written_doc_is_declared_or_generated(schema):
    """A doc nobody declared would silently be left out of the release."""
    _, data = archive(ROOT, schema)
    shipped = names(data)
    assert sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("docs/*.md") if str(p.relative_to(ROOT)) not in shipped) == []


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="needs the git repository")
def test_the_release_holds_only_committed_files(schema):
    """git, not our own globbing, says what the repository holds: every shipped file is tracked,
    and every tracked data, article and annotation file is shipped."""
    tracked = set(subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split("\n"))
    _, data = archive(ROOT, schema)
    shipped = names(data) - {"SHA256SUMS"}
    assert sorted(shipped - tracked) == []
    assert sorted(n for n in tracked if n.startswith(("data/", "articles/", "annotations/")) and n not in shipped) == []


STRAYS = ["data/.~lock.events.csv#", "data/events (copy).csv", "data/old_table.parquet", "docs/notes.md",
          "articles/unannotated.txt", "annotations/README.txt", "schemas/old.yaml", "docs/viewer/draft.html", "notes.txt"]


def test_stray_files_are_not_shipped(tmp_path, schema):
    tree = release_tree(tmp_path)
    for rel in STRAYS:
        (tree / rel).write_text("stray\n", encoding="utf-8")
    name, data = archive(tree, schema)
    assert sorted(set(STRAYS) & names(data)) == []
    assert names(data) == names(archive(release_tree(tmp_path / "clean"), schema)[1])


LINKED = ["LICENSE", "VERSION", "docs/datasheet.md", "schemas/rules.yaml", "README.md", "data/events.csv",
          "datapackage.json", "docs", "articles/000_96b9e111ca13f763.txt", "annotations/actors.yaml"]


@pytest.mark.parametrize("rel", LINKED)
def test_a_symbolic_link_in_a_declared_place_refuses_the_release(tmp_path, schema, rel):
    """Even a link to identical bytes: a release ships files, never what a link points at."""
    tree = release_tree(tmp_path)
    moved = tmp_path / "elsewhere" / rel
    moved.parent.mkdir(parents=True)
    (tree / rel).rename(moved)
    (tree / rel).symlink_to(moved)
    with pytest.raises((ReleaseError, BuildError)) as caught:
        archive(tree, schema)
    message = caught.value.report() if isinstance(caught.value, BuildError) else str(caught.value)
    assert "symbolic link" in message and rel in message


def test_a_link_to_a_system_file_is_refused(tmp_path, schema):
    tree = release_tree(tmp_path)
    (tree / "docs/quality.md").unlink()
    (tree / "docs/quality.md").symlink_to("/etc/passwd")
    with pytest.raises(ReleaseError, match="docs/quality.md"):
        archive(tree, schema)


def test_published_files_that_differ_from_the_build_refuse_the_release(tmp_path, schema):
    tree = release_tree(tmp_path)
    with (tree / "data/events.csv").open("a", encoding="utf-8") as handle:
        handle.write("hand-added row\n")
    (tree / "data/quotes.parquet").unlink()
    (tree / "docs/codebook.md").write_text("edited\n", encoding="utf-8")
    with pytest.raises(ReleaseError) as caught:
        archive(tree, schema)
    message = str(caught.value)
    for rel in ("data/events.csv", "data/quotes.parquet", "docs/codebook.md"):
        assert rel in message
    assert "make data" in message


def test_a_missing_declared_file_refuses_the_release(tmp_path, schema):
    tree = release_tree(tmp_path)
    (tree / "LICENSE").unlink()
    with pytest.raises(ReleaseError, match="LICENSE"):
        archive(tree, schema)


def release_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "noncoop.release", *args], capture_output=True, text=True, timeout=300)


def test_invalid_annotations_refuse_the_release_with_the_build_report(tmp_path):
    tree = release_tree(tmp_path)
    path = tree / "annotations/000_96b9e111ca13f763.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("status: planned", "status: planed", 1), encoding="utf-8")
    result = release_cli("build", "--root", str(tree), "--out", str(tmp_path / "dist"))
    assert result.returncode == 1
    assert "events[1].status: got 'planed'" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "dist").exists()


def test_the_release_command_writes_the_same_archive_twice(tmp_path):
    tree = release_tree(tmp_path)
    first, second = (release_cli("build", "--root", str(tree), "--out", str(tmp_path / out)) for out in ("a", "b"))
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    (a,), (b,) = (list((tmp_path / out).iterdir()) for out in ("a", "b"))
    assert a.read_bytes() == b.read_bytes()
    assert release_cli("verify", str(a)).returncode == 0

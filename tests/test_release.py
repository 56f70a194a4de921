"""One version everywhere, valid citation files, and a reproducible, verifiable release archive."""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import stat
import struct
import subprocess
import sys
import warnings
import zipfile
import zlib
from importlib import metadata
from pathlib import Path

import jsonschema
import pandas as pd
import pytest
from ruamel.yaml import YAML

from noncoop import release
from noncoop.errors import BuildError
from noncoop.excel import workbook_path
from noncoop.release import HAND_WRITTEN, ReleaseError, archive, verify
from noncoop.stata import dta_path

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


def test_citation_files_carry_the_identifier_and_the_reference_codebooks(schema):
    cff = YAML(typ="safe").load((ROOT / "CITATION.cff").read_text())
    zenodo = json.loads((ROOT / ".zenodo.json").read_text())
    meta = schema.package
    assert {"type": "other", "value": meta["id"], "description": "Data Package id (datapackage.json)"} in cff["identifiers"]
    assert [r["identifier"] for r in zenodo["related_identifiers"]] == [r["url"] for r in meta["related"]]
    assert all(r["relation"] == "references" for r in zenodo["related_identifiers"])
    for key, source in (("doi", "doi"), ("repository-code", "repository")):  # only once they exist, never invented
        assert (key in cff) == bool(meta.get(source))
    assert ("doi" in zenodo) == bool(meta.get("doi"))


def test_a_doi_and_repository_once_recorded_reach_both_citation_files(schema):
    import dataclasses
    recorded = dataclasses.replace(schema, package={**schema.package, "doi": "10.5281/zenodo.1",
                                                    "repository": "https://example.org/noncoop"})
    cff = YAML(typ="safe").load(release.citation_cff(recorded))
    jsonschema.Draft7Validator(json.loads((ROOT / "tests/fixtures/cff-1.2.0.schema.json").read_text())).validate(
        json.loads(json.dumps(cff, default=str)))
    assert cff["doi"] == "10.5281/zenodo.1" and cff["repository-code"] == "https://example.org/noncoop"
    assert {"type": "doi", "value": "10.5281/zenodo.1"} in cff["identifiers"]
    assert json.loads(release.zenodo_json(recorded))["doi"] == "10.5281/zenodo.1"


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
        assert required in names, required  # at the archive's root: no top folder
    folder = tmp_path / "unpacked"
    assert verify(folder) == []
    sums = subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=folder, capture_output=True, text=True)
    assert sums.returncode == 0, sums.stdout + sums.stderr


def test_verify_detects_a_tampered_or_extra_file(tmp_path, schema):
    name, data = archive(ROOT, schema)
    folder = tmp_path / "unpacked"
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        zf.extractall(folder)
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
        return set(zf.namelist())


def test_every_hand_written_doc_is_declared_or_generated(schema):
    """A doc nobody declared would silently be left out of the release."""
    _, data = archive(ROOT, schema)
    shipped = names(data)
    assert sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("docs/*.md") if str(p.relative_to(ROOT)) not in shipped) == []


def release_made(schema) -> list[str]:
    """The files only the release holds: a Stata file per table and the Excel workbook."""
    return sorted([*map(dta_path, schema.tables), workbook_path(schema)])


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="needs the git repository")
def test_the_release_holds_only_committed_files(schema):
    """git, not our own globbing, says what the repository holds: every shipped file is tracked but
    the Stata and Excel files the release makes, and every tracked data, article and annotation file
    is shipped."""
    tracked = set(subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split("\n"))
    _, data = archive(ROOT, schema)
    shipped = names(data) - {"SHA256SUMS"}
    assert sorted(shipped - tracked) == release_made(schema)
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


def test_the_release_makes_stata_and_excel_afresh_whatever_old_copies_lie_on_disk(tmp_path, schema, release_zip):
    tree = release_tree(tmp_path)
    for rel in release_made(schema):
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        (tree / rel).write_bytes(b"an old copy\n")
    assert archive(tree, schema)[1] == release_zip.read_bytes()


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


# --- Verifying a release: nothing in the archive is trusted ---------------------------------

@pytest.fixture(scope="module")
def good(release_zip) -> dict[str, bytes]:
    """The real release's files by name."""
    with zipfile.ZipFile(release_zip) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def resigned(entries: dict[str, bytes], changes: dict[str, bytes | None]) -> dict[str, bytes]:
    """`entries` with `changes` (None removes a file) and a regenerated SHA256SUMS: what anyone can do."""
    out = {n: d for n, d in {**entries, **changes}.items() if d is not None}
    out["SHA256SUMS"] = "".join(f"{hashlib.sha256(d).hexdigest()}  {n}\n"
                                for n, d in sorted(out.items()) if n != "SHA256SUMS").encode()
    return out


def members(entries: dict[str, bytes], links: tuple[str, ...] = (), folder: str = "") -> list[tuple[str, bytes, int]]:
    """Zip members (name, bytes, mode), in `folder`; `links` are symbolic links to the text they hold."""
    return [(folder + n, d, (stat.S_IFLNK | 0o777) if n in links else (stat.S_IFREG | 0o644))
            for n, d in sorted(entries.items())]


def write_zip(path, items) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are the point of one case
        with zipfile.ZipFile(path, "w") as zf:
            for name, data, mode in items:
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                info.create_system, info.external_attr, info.compress_type = 3, mode << 16, zipfile.ZIP_DEFLATED
                zf.writestr(info, data)


def bomb(entries: dict[str, bytes], declared: int, inflated_mib: int = 4000) -> bytes:
    """A zip whose one extra entry is 4 MB of deflate stream inflating to `inflated_mib` MiB of
    zeros (repeated full-flush blocks), declaring `declared` bytes; the other entries as given."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(bytes(1 << 20)) + compressor.flush(zlib.Z_FULL_FLUSH)
    stream = block * inflated_mib + compressor.flush()
    out, central = io.BytesIO(), io.BytesIO()
    files = [(n, zlib.compress(d, 9)[2:-4], len(d), zlib.crc32(d)) for n, d in sorted(entries.items())]
    files.append(("data/zeros.csv", stream, declared, 0))
    for name, data, size, crc in files:
        raw = name.encode()
        header = struct.pack("<HHHHHIIIHH", 20, 0, 8, 0, 33, crc, len(data), size, len(raw), 0)
        central.write(b"PK\x01\x02" + struct.pack("<H", 3 << 8 | 20) + header
                      + struct.pack("<HHHII", 0, 0, 0, (stat.S_IFREG | 0o644) << 16, out.tell()) + raw)
        out.write(b"PK\x03\x04" + header + raw + data)
    offset, size = out.tell(), central.tell()
    out.write(central.getvalue() + b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, len(files), len(files), size, offset, 0))
    return out.getvalue()


def descriptor_without_hashes(entries):
    doc = json.loads(entries["datapackage.json"])
    for resource in doc["resources"]:
        resource.pop("hash", None)
    return json.dumps(doc).encode()


def descriptor_pointing_outside(entries):
    doc = json.loads(entries["datapackage.json"])
    doc["resources"][0]["path"] = "../elsewhere.csv"
    return json.dumps(doc).encode()


def tampered(data: bytes) -> bytes:
    return data.replace(b"e01", b"e09", 1) if b"e01" in data else data[:-1] + bytes([data[-1] ^ 1])


# Each case: (how to make the archive from the good release's files, what the one line says).
ZIP_CASES = {
    "a changed table, SHA256SUMS regenerated": (
        lambda e: members(resigned(e, {"data/events.csv": tampered(e["data/events.csv"])})),
        "data/events.csv"),
    "no SHA256SUMS": (lambda e: members({n: d for n, d in e.items() if n != "SHA256SUMS"}), "SHA256SUMS"),
    "only an empty SHA256SUMS": (lambda e: [("SHA256SUMS", b"", stat.S_IFREG | 0o644)], "SHA256SUMS"),
    "a symbolic link entry": (
        lambda e: members(resigned(e, {"docs/passwd": b"/etc/passwd"}), links=("docs/passwd",)),
        "symbolic link"),
    "a duplicate entry": (
        lambda e: members(e) + [("data/events.csv", tampered(e["data/events.csv"]), stat.S_IFREG | 0o644)],
        "duplicate"),
    "a ../ entry": (
        lambda e: members(resigned(e, {"../evil.txt": b"x"})), ".."),
    "an absolute entry": (lambda e: members(e) + [("/tmp/evil.txt", b"x", stat.S_IFREG | 0o644)], "absolute"),
    "every entry in one top folder (not at the root)": (
        lambda e: members(e, folder="release/"), "no SHA256SUMS at the release's root"),
    "a file no SHA256SUMS line lists": (
        lambda e: members(e) + [("elsewhere/evil.txt", b"x", stat.S_IFREG | 0o644)], "not listed in SHA256SUMS"),
    "a file posing as a folder": (
        lambda e: members(resigned(e, {"data": b"x"})), "folder"),
    "a folder entry with content": (
        lambda e: members(e) + [("docs/", b"x", stat.S_IFDIR | 0o755)], "folder"),
    "a bad SHA256SUMS line": (
        lambda e: members({**e, "SHA256SUMS": e["SHA256SUMS"] + b"not a checksum line\n"}), "SHA256SUMS line"),
    "an undecodable SHA256SUMS": (
        lambda e: members({**e, "SHA256SUMS": b"\xff\xfe" + e["SHA256SUMS"]}), "SHA256SUMS"),
    "a missing datapackage.json": (
        lambda e: members(resigned(e, {"datapackage.json": None})), "datapackage.json"),
    "a datapackage.json that is not JSON": (
        lambda e: members(resigned(e, {"datapackage.json": b'{"resources": ['})), "datapackage.json"),
    "a datapackage.json nested too deep": (
        lambda e: members(resigned(e, {"datapackage.json": b"[" * 100_000})), "datapackage.json"),
    "a datapackage.json without hashes": (
        lambda e: members(resigned(e, {"datapackage.json": descriptor_without_hashes(e)})), "hash"),
    "a datapackage.json pointing outside the archive": (
        lambda e: members(resigned(e, {"datapackage.json": descriptor_pointing_outside(e)})), ".."),
}
RAW_CASES = {
    "an empty file": (lambda e, good_zip: b"", "zip"),
    "not a zip": (lambda e, good_zip: b"just text\n", "zip"),
    "a truncated zip": (lambda e, good_zip: good_zip[: len(good_zip) // 2], "zip"),
    "a zip cut just before its end": (lambda e, good_zip: good_zip[:-10], "zip"),
    "an empty zip": (lambda e, good_zip: b"PK\x05\x06" + bytes(18), "empty"),
    "a zip bomb of 4 MB declaring its 4 GB": (lambda e, good_zip: bomb(e, 4000 << 20), "data/zeros.csv"),
    "a zip bomb of 4 MB declaring 1 KB": (lambda e, good_zip: bomb(e, 1000), "data/zeros.csv"),
}

# Runs the verifier and prints its peak memory in kB on stdout: the process's own VmHWM, since
# after fork and exec Linux's getrusage ru_maxrss still counts the parent's (pytest's) peak.
MEASURED = ("import re, sys\nfrom noncoop.release import main\ncode = main(['verify', sys.argv[1]])\n"
            "print(re.search(r'VmHWM:\\s+(\\d+) kB', open('/proc/self/status').read())[1])\nsys.exit(code)")


def assert_refused_in_one_line(path, expected: str) -> None:
    result = subprocess.run([sys.executable, "-c", MEASURED, str(path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 1 and expected in result.stderr, result.stderr
    assert int(result.stdout.split()[-1]) < 200_000, "the verifier's peak memory exceeds 200 MB"


@pytest.mark.parametrize("case", list(ZIP_CASES))
def test_a_malicious_or_malformed_zip_is_refused_in_one_line(tmp_path, good, case):
    make, expected = ZIP_CASES[case]
    write_zip(tmp_path / "release.zip", make(good))
    assert_refused_in_one_line(tmp_path / "release.zip", expected)


@pytest.mark.parametrize("case", list(RAW_CASES))
def test_a_broken_zip_or_zip_bomb_is_refused_in_one_line_and_small_memory(tmp_path, good, case):
    make, expected = RAW_CASES[case]
    write_zip(tmp_path / "good.zip", members(good))
    (tmp_path / "release.zip").write_bytes(make(good, (tmp_path / "good.zip").read_bytes()))
    assert_refused_in_one_line(tmp_path / "release.zip", expected)


def unpack(folder, items) -> None:
    for name, data, mode in items:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if stat.S_ISLNK(mode):
            path.symlink_to(data.decode())
        else:
            path.write_bytes(data)


FOLDER_CASES = ["a changed table, SHA256SUMS regenerated", "only an empty SHA256SUMS", "a symbolic link entry",
                "a bad SHA256SUMS line", "an undecodable SHA256SUMS", "a missing datapackage.json",
                "a datapackage.json that is not JSON", "a datapackage.json without hashes"]


@pytest.mark.parametrize("case", FOLDER_CASES)
def test_a_malicious_or_malformed_folder_is_refused_in_one_line(tmp_path, good, case):
    make, expected = ZIP_CASES[case]
    unpack(tmp_path / "release", make(good))
    assert_refused_in_one_line(tmp_path / "release", expected)


def test_a_symbolic_link_to_a_folder_or_a_fifo_in_a_release_folder_is_refused(tmp_path, good):
    for odd in ("link", "fifo"):
        folder = tmp_path / odd
        unpack(folder, members(good))
        if odd == "link":
            (folder / "elsewhere").symlink_to("/etc")
        else:
            os.mkfifo(folder / "data/pipe")
        assert_refused_in_one_line(folder, "symbolic link" if odd == "link" else "not a regular file")


def test_every_resource_hash_in_the_archive_descriptor_is_checked(tmp_path, good):
    """Each file the descriptor lists, changed and SHA256SUMS regenerated, is caught."""
    resources = json.loads(good["datapackage.json"])["resources"]
    paths = [r["path"] for r in resources] + [r["parquet"]["path"] for r in resources]  # and each Parquet twin
    assert paths
    for rel in paths:
        folder = tmp_path / rel.replace("/", "_")
        unpack(folder, members(resigned(good, {rel: tampered(good[rel])})))
        problems = verify(folder)
        assert len(problems) == 1 and rel in problems[0] and "datapackage.json" in problems[0], (rel, problems)


def test_declared_sizes_above_the_limits_are_refused_before_reading(tmp_path, good, monkeypatch):
    write_zip(tmp_path / "release.zip", members(good))
    assert verify(tmp_path / "release.zip") == []
    monkeypatch.setattr(release, "MAX_TOTAL_BYTES", sum(len(d) for d in good.values()) - 1)
    assert "in total" in verify(tmp_path / "release.zip")[0]
    monkeypatch.setattr(release, "MAX_ENTRY_BYTES", 1000)
    assert "per file" in verify(tmp_path / "release.zip")[0]


def test_the_archive_stands_alone_for_every_tool(good, schema, release_zip):
    """What a user with only the zip needs: the docs, licence, citation and every format, loadable by
    noncoop.load (typed from the archive's own descriptor)."""
    from noncoop import load

    expected = {"README.md", "docs/codebook.md", "docs/datasheet.md", "LICENSE", "CITATION.cff", ".zenodo.json",
                "croissant.json", "datapackage.json", workbook_path(schema), *map(dta_path, schema.tables)}
    assert expected <= set(good)
    loaded, here = load(root=release_zip), load()
    for name in schema.tables:
        pd.testing.assert_frame_equal(loaded[name], here[name], obj=name)


def test_frictionless_reads_every_resource_of_the_zip_as_it_is(release_zip):
    """`frictionless.Package(<zip>)`, no inner path given: the descriptor is at the archive's root."""
    from frictionless import Package

    from noncoop import load

    package, here = Package(str(release_zip)), load()
    assert sorted(r.name for r in package.resources) == sorted(here)
    for resource in package.resources:
        rows, key = resource.read_rows(), resource.schema.primary_key[0]
        assert [str(row[key]) for row in rows] == here[resource.name][key].astype(str).tolist(), resource.name


def test_frictionless_validate_on_the_zip_validates_every_table(release_zip, release_folder, schema):
    """The official validator's command line on the zip checks the tables, not only a JSON file."""
    result = subprocess.run([str(Path(sys.executable).parent / "frictionless"), "validate", "--json", str(release_zip)],
                            capture_output=True, text=True, timeout=300, cwd=release_zip.parent)
    report = json.loads(result.stdout)
    assert result.returncode == 0 and report["valid"], result.stdout[-3000:] + result.stderr[-2000:]
    tasks = {task["name"]: task for task in report["tasks"]}
    assert sorted(tasks) == sorted(schema.tables)
    for name, task in tasks.items():
        assert task["type"] == "table" and task["place"] == f"data/{name}.csv" and task["valid"], task
        assert task["stats"]["rows"] == len(pd.read_csv(release_folder / f"data/{name}.csv")), name

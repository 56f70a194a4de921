"""Publishing trusts nothing on disk: recovery replays only the build's own outputs, never through
a link; one build at a time; `--check` sees published outputs that the inputs no longer produce."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, make_tree, run_build, snapshot
from test_build_cli import _changed_tree

ANNOTATION = "annotations/000_96b9e111ca13f763.yaml"


def _everything(folder: Path, skip=(".build-staging", ".build.lock", ".cache")) -> dict[str, bytes | str]:
    """Every file (bytes) and link (its target) under `folder`, outside the build's own working files."""
    found = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if rel.parts[0] in skip or (path.is_dir() and not path.is_symlink()):
            continue
        found[str(rel)] = os.readlink(path) if path.is_symlink() else path.read_bytes()
    return found


# --- the output set -----------------------------------------------------------------------------

def test_the_output_set_is_exactly_what_the_build_renders(schema):
    from noncoop.cli import build, output_set

    _, outputs = build(ROOT, schema)
    rendered = [rel for rel, _ in outputs]
    allowed = output_set(schema)
    assert rendered and all(rel in allowed for rel in rendered)
    assert set(allowed.fixed) <= set(rendered)  # every fixed member is rendered; the rest are article pages
    assert {"data/events.csv", "data/events.parquet", "datapackage.json", "README.md", "docs/codebook.md",
            "CITATION.cff", ".zenodo.json", "docs/viewer/index.html", "schemas/json/source.schema.json",
            "docs/viewer/000_96b9e111ca13f763.html"} <= set(rendered)
    for rel in ("annotations/000_96b9e111ca13f763.yaml", "articles/x.txt", "a/../../X", "data/../X",
                "data/events.csv/../../X", "/etc/passwd", "data/unknown.csv", "data/events.csv\n",
                "docs/viewer/../../X.html", "docs/viewer/a/b.html", "docs/viewer/Upper.html", "docs/viewer/.html",
                "docs/viewer/ab.html", "./datapackage.json", "data//events.csv", "schemas/json/x.schema.json",
                "schemas/fields.yaml", ".build-staging/COMMIT.json", "", ".", "data"):
        assert rel not in allowed, rel


# --- recovery trusts nothing in the staging folder ---------------------------------------------

def _plant(tree: Path, record, staged: dict[str, bytes] = {}) -> None:
    staging = tree / ".build-staging"
    for rel, data in staged.items():
        (staging / rel).parent.mkdir(parents=True, exist_ok=True)
        (staging / rel).write_bytes(data)
    staging.mkdir(exist_ok=True)
    (staging / "COMMIT.json").write_bytes(record if isinstance(record, bytes) else json.dumps(record).encode())


def traversal(tree):
    (tree / "secret.txt").write_text("stays here")
    (tree / ".build-staging/a").mkdir(parents=True)
    _plant(tree, ["a/../../secret.txt"])


def absolute(tree):
    (tree.parent / "outside").mkdir()
    (tree.parent / "outside/file.txt").write_text("outside")
    _plant(tree, [str(tree.parent / "outside/file.txt"), "data/events.csv"], {"data/events.csv": b"planted"})


def not_json(tree):
    _plant(tree, b"[\"data/events.csv\"", {"data/events.csv": b"planted"})


def not_utf8(tree):
    _plant(tree, b"\xff\xfe[]")


def not_a_list(tree):
    _plant(tree, {"data/events.csv": 1}, {"data/events.csv": b"planted"})


def not_strings(tree):
    _plant(tree, [1, None, ["data/events.csv"]])


def an_input_file(tree):
    _plant(tree, [ANNOTATION], {ANNOTATION: b"events: []\n"})


def outside_the_set(tree):
    _plant(tree, ["Makefile", "data/events.csv"], {"Makefile": b"all:\n\trm -rf /\n", "data/events.csv": b"planted"})


def staged_link(tree):
    (tree.parent / "passwd").write_text("root:x:0:0")
    _plant(tree, ["data/events.csv"])
    (tree / ".build-staging/data").mkdir()
    (tree / ".build-staging/data/events.csv").symlink_to(tree.parent / "passwd")


def staged_folder_is_a_link(tree):
    outside = tree.parent / "outside"
    (outside / "data").mkdir(parents=True)
    (outside / "data/events.csv").write_bytes(b"planted")
    (outside / "COMMIT.json").write_text(json.dumps(["data/events.csv"]))
    (tree / ".build-staging").symlink_to(outside)


def staged_parent_is_a_link(tree):
    outside = tree.parent / "outside"
    outside.mkdir()
    (outside / "events.csv").write_bytes(b"planted")
    _plant(tree, ["data/events.csv"])
    (tree / ".build-staging/data").symlink_to(outside)


def record_is_a_link(tree):
    (tree.parent / "record.json").write_text(json.dumps(["data/events.csv"]))
    _plant(tree, [], {"data/events.csv": b"planted"})
    (tree / ".build-staging/COMMIT.json").unlink()
    (tree / ".build-staging/COMMIT.json").symlink_to(tree.parent / "record.json")


def target_is_a_link(tree):
    (tree.parent / "events.csv").write_bytes((tree / "data/events.csv").read_bytes())
    (tree / "data/events.csv").unlink()
    (tree / "data/events.csv").symlink_to(tree.parent / "events.csv")
    _plant(tree, ["data/events.csv"], {"data/events.csv": b"planted"})


PLANTED = [traversal, absolute, not_json, not_utf8, not_a_list, not_strings, an_input_file, outside_the_set,
           staged_link, staged_folder_is_a_link, staged_parent_is_a_link, record_is_a_link, target_is_a_link]


@pytest.mark.parametrize("plant", PLANTED, ids=[p.__name__.replace("_", "-") for p in PLANTED])
def test_a_planted_commit_record_is_discarded_and_moves_nothing(tree, plant):
    plant(tree)
    inside, outside = _everything(tree), _everything(tree.parent, skip=(tree.name,))
    result = run_build(tree)
    assert "Traceback" not in result.stderr, result.stderr
    assert "discarded" in result.stderr and "nothing was moved" in result.stderr, result.stderr
    if plant is target_is_a_link:  # the build itself then refuses to write through the link
        assert result.returncode == 1 and "data/events.csv is a symbolic link" in result.stderr, result.stderr
    else:
        assert result.returncode == 0, result.stderr
    assert _everything(tree) == inside
    assert _everything(tree.parent, skip=(tree.name,)) == outside
    assert not os.path.lexists(tree / ".build-staging")


@pytest.mark.parametrize("folder", ["data", "docs"])
def test_publishing_refuses_to_write_through_a_linked_folder(tree, folder):
    _changed_tree(tree)
    outside = tree.parent / f"real-{folder}"
    (tree / folder).rename(outside)
    (tree / folder).symlink_to(outside)
    before, before_outside = _everything(tree), _everything(outside)
    result = run_build(tree)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert f"{folder} is a symbolic link" in result.stderr and "nothing published changed" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert _everything(tree) == before and _everything(outside) == before_outside
    assert not os.path.lexists(tree / ".build-staging")


def test_a_genuine_interrupted_publish_is_still_completed(tree, schema):
    """The planted cases above must not cost the protocol its point: a real record is replayed."""
    from noncoop.cli import output_set
    from noncoop.write import recover

    reference = make_tree(tree.parent / "reference")
    _changed_tree(reference)
    assert run_build(reference).returncode == 0
    staged = {rel: data for rel, data in snapshot(reference).items() if snapshot(tree).get(rel) != data}
    assert "data/events.csv" in staged
    _plant(tree, sorted(staged), staged)
    assert recover(tree, output_set(schema)) == "completed an interrupted publish"
    assert snapshot(tree) == snapshot(reference)
    assert not os.path.lexists(tree / ".build-staging")


# --- one build at a time -----------------------------------------------------------------------

def _paused_build(tree: Path, point: str, seconds: float) -> subprocess.Popen:
    env = {**os.environ, "NONCOOP_PAUSE_AT": point, "NONCOOP_PAUSE_SECONDS": str(seconds)}
    process = subprocess.Popen([sys.executable, str(ROOT / "build.py"), "--root", str(tree)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert process.stdout.readline().strip() == f"paused at {point}"
    return process


def _tables_agree_with_descriptor(tree: Path) -> None:
    descriptor = json.loads((tree / "datapackage.json").read_text(encoding="utf-8"))
    for resource in descriptor["resources"]:
        data = (tree / resource["path"]).read_bytes()
        assert resource["hash"] == "sha256:" + hashlib.sha256(data).hexdigest(), resource["path"]


def test_two_builds_started_together_both_finish_one_after_the_other(tree):
    reference = make_tree(tree.parent / "reference")
    _changed_tree(reference)
    assert run_build(reference).returncode == 0
    _changed_tree(tree)
    first = _paused_build(tree, "staged", 3)  # holds the staging folder, half written
    second = subprocess.Popen([sys.executable, str(ROOT / "build.py"), "--root", str(tree)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = second.communicate(timeout=300)
    first_out, first_err = first.communicate(timeout=300)
    assert first.returncode == 0, first_err
    assert second.returncode == 0, err
    assert f"waiting for another build (pid {first.pid})" in err
    _tables_agree_with_descriptor(tree)
    assert snapshot(tree) == snapshot(reference)


def test_a_build_that_may_not_wait_says_why_it_stops(tree):
    before = _changed_tree(tree)
    first = _paused_build(tree, "validated", 30)
    try:
        result = run_build(tree, "--wait", "0.5")
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
        assert f"another build (pid {first.pid})" in result.stderr and "0.5 s" in result.stderr, result.stderr
        assert snapshot(tree) == before
    finally:
        first.kill()
        first.wait()


# --- --check sees stale or hand-edited outputs -------------------------------------------------

def test_check_lists_every_published_file_that_differs_from_a_fresh_build(tree, schema):
    from noncoop.cli import output_set

    allowed = output_set(schema)
    published = sorted(rel for rel in snapshot(tree) if rel in allowed)
    assert len(published) > 20
    for rel in published:  # a hand edit of each (README.md: of its generated table)
        path = tree / rel
        data = path.read_bytes()
        path.write_bytes(data.replace(b"| `events` | ", b"| `events` | 1") if rel == "README.md" else data + b"\n")
    (tree / "data/events.parquet").unlink()  # and one deleted
    before = snapshot(tree)
    result = run_build(tree, "--check")
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    listed = [line.strip() for line in result.stderr.splitlines() if line.startswith("  ")]
    assert sorted(listed) == published, result.stderr
    assert "run `make data`" in result.stderr
    assert snapshot(tree) == before


def test_check_reports_stale_outputs_after_an_annotation_changed(tree):
    _changed_tree(tree)
    result = run_build(tree, "--check")
    assert result.returncode == 1, result.stderr
    assert "  data/events.csv" in result.stderr and "  datapackage.json" in result.stderr
    assert "  data/sources.csv" not in result.stderr
    assert run_build(tree).returncode == 0
    assert run_build(tree, "--check").returncode == 0


def test_check_reports_input_problems_before_stale_outputs(tree):
    (tree / "data/events.csv").write_bytes(b"edited by hand\n")
    path = tree / ANNOTATION
    path.write_text(path.read_text(encoding="utf-8").replace("status: planned", "status: planed", 1), encoding="utf-8")
    result = run_build(tree, "--check")
    assert result.returncode == 1
    assert result.stderr.rstrip().endswith("problem(s); nothing was written."), result.stderr
    assert "data/events.csv" not in result.stderr


def test_check_without_published_outputs_says_so_and_passes(tree):
    for rel in ("data", "docs", "schemas"):
        subprocess.run(["rm", "-rf", str(tree / rel)], check=True)
    for rel in ("datapackage.json", "croissant.json", "README.md", "CITATION.cff", ".zenodo.json"):
        (tree / rel).unlink()
    result = run_build(tree, "--check")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("check passed: sources ")
    assert "no published outputs" in result.stdout + result.stderr
    assert sorted(p.name for p in tree.iterdir() if not p.name.startswith(".")) == ["annotations", "articles"]


def test_a_published_file_is_unchanged_only_when_it_holds_exactly_the_bytes(tmp_path):
    """`unchanged` reads in chunks: every length around the chunk size, with the file equal, one
    byte different at each position, a byte longer and a byte shorter."""
    from noncoop.write import unchanged
    path = tmp_path / "f"
    for size in range(0, 10):
        data = bytes(range(65, 65 + size))
        variants = [data, data + b"!", data[:-1]] + [data[:i] + b"?" + data[i + 1:] for i in range(size)]
        for content in variants:
            path.write_bytes(content)
            assert unchanged(path, data, chunk=4) is (content == data), (size, content)

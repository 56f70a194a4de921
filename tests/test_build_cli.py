"""build.py as contributors and CI use it: exit codes, located errors, atomic and reproducible."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from conftest import ROOT, run_build, snapshot


def test_check_passes_and_writes_nothing(tree):
    before = snapshot(tree)
    result = run_build(tree, "--check")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("check passed: sources ")
    assert "events" in result.stdout and "quotes" in result.stdout
    assert snapshot(tree) == before


def test_old_stata_and_excel_copies_are_neither_checked_nor_touched(tree, schema):
    """The build once published data/stata/ and data/excel/; only the release makes them now. A user's
    old copies, stale ones too, neither fail the check nor are rewritten or deleted by the build."""
    from noncoop.excel import workbook_path
    from noncoop.stata import dta_path
    old = [dta_path("events"), workbook_path(schema)]
    for rel in old:
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        (tree / rel).write_bytes(b"an old copy\n")
    for args in (("--check",), ()):
        result = run_build(tree, *args)
        assert result.returncode == 0, result.stderr
    assert [(tree / rel).read_bytes() for rel in old] == [b"an old copy\n"] * len(old)


def test_usage_error_exits_2(tree):
    result = subprocess.run([sys.executable, str(ROOT / "build.py"), "--no-such-option"], capture_output=True, text=True)
    assert result.returncode == 2
    result = run_build(tree / "articles")  # a folder without annotations/
    assert result.returncode == 2 and "annotations/" in result.stderr


def test_broken_annotation_is_located_and_nothing_published_changes(tree):
    before = snapshot(tree)
    path = tree / "annotations/000_96b9e111ca13f763.yaml"
    text = path.read_text(encoding="utf-8")
    line = text[: text.index("status: planned")].count("\n") + 1
    path.write_text(text.replace("status: planned", "status: planed", 1), encoding="utf-8")
    for args in ((), ("--check",)):
        result = run_build(tree, *args)
        assert result.returncode == 1
        assert f"annotations/000_96b9e111ca13f763.yaml:{line}:13: events[1].status: got 'planed'" in result.stderr
        assert "did you mean 'planned'?" in result.stderr
        assert "Traceback" not in result.stderr
        assert snapshot(tree) == before


def test_all_errors_of_a_run_are_reported_together(tree):
    path = tree / "annotations/001_df0a884ed00454f2.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("event_type: PROTEST", "event_type: PROTESTS", 1).replace("kind: partial", "kind: parital", 1)
    text = text.replace("evidence: doctors refuse to treat", "evidence: doctors refused to treat", 1)
    path.write_text(text, encoding="utf-8")
    result = run_build(tree, "--check")
    assert result.returncode == 1
    assert "3 problem(s)" in result.stderr
    assert "did you mean 'PROTEST'?" in result.stderr and "did you mean 'partial'?" in result.stderr
    assert "nearest passage at offset" in result.stderr


def test_an_edited_article_is_refused_with_the_annotations_it_breaks(tree):
    article = tree / "articles/001_df0a884ed00454f2.txt"
    article.write_bytes(article.read_bytes().replace(b"Cherson", b"Kherson"))
    result = run_build(tree, "--check")
    assert result.returncode == 1
    assert "annotations/001_df0a884ed00454f2.yaml" in result.stderr and "source.sha256" in result.stderr
    assert "the article text changed since it was annotated" in result.stderr
    annotation = (tree / "annotations/001_df0a884ed00454f2.yaml").read_text(encoding="utf-8")
    events, quotes = annotation.count("\n  - id: e"), annotation.count("\n  - id: q")
    assert f"{events} events and {quotes} quotes" in result.stderr


def test_two_builds_give_byte_identical_outputs(tmp_path):
    from conftest import make_tree

    first, second = make_tree(tmp_path / "a"), make_tree(tmp_path / "b")
    for tree in (first, second):
        shutil.rmtree(tree / "data")
        assert run_build(tree).returncode == 0
    assert snapshot(first) == snapshot(second)


def _changed_tree(tree):
    """A tree whose rebuild changes every table file (an edited summary)."""
    path = tree / "annotations/000_96b9e111ca13f763.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("summary: Russia holds Kherson.", "summary: Russia occupies Kherson."), encoding="utf-8")
    return snapshot(tree)


def _kill_build_paused_at(tree, point):
    """Start a real build that pauses at `point` of its publish, and SIGKILL it there."""
    env = {**os.environ, "NONCOOP_PAUSE_AT": point}
    process = subprocess.Popen([sys.executable, str(ROOT / "build.py"), "--root", str(tree)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert process.stdout.readline().strip() == f"paused at {point}"
    process.send_signal(signal.SIGKILL)
    process.wait()


@pytest.mark.parametrize("point", ["staged", "before-commit"])
def test_a_build_killed_before_its_commit_point_leaves_published_files_untouched(tree, point):
    before = _changed_tree(tree)
    _kill_build_paused_at(tree, point)
    assert snapshot(tree) == before
    assert (tree / ".build-staging").exists()
    result = run_build(tree, "--check")  # a check neither publishes nor touches the staging folder...
    assert result.returncode == 1 and "  data/events.csv" in result.stderr  # ...and sees the outputs are stale
    assert snapshot(tree) == before and (tree / ".build-staging").exists()
    result = run_build(tree)
    assert result.returncode == 0 and "discarded an interrupted build" in result.stderr
    assert not (tree / ".build-staging").exists()


@pytest.mark.parametrize("point", ["committed", "renamed"])
def test_a_build_killed_after_its_commit_point_is_completed_by_the_next_run(tree, point):
    _changed_tree(tree)
    reference = tree.parent / "reference"
    from conftest import make_tree
    make_tree(reference)
    _changed_tree(reference)
    assert run_build(reference).returncode == 0
    _kill_build_paused_at(tree, point)
    result = run_build(tree)
    assert result.returncode == 0 and "completed an interrupted publish" in result.stderr
    assert snapshot(tree) == snapshot(reference)


def test_a_build_killed_at_random_moments_never_leaves_a_partial_or_mixed_state(tree):
    from conftest import make_tree

    before = _changed_tree(tree)
    reference = make_tree(tree.parent / "reference")
    _changed_tree(reference)
    assert run_build(reference).returncode == 0
    after = snapshot(reference)
    for delay in (0.05, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0):
        process = subprocess.Popen([sys.executable, str(ROOT / "build.py"), "--root", str(tree)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        now = snapshot(tree)
        committed = (tree / ".build-staging" / "COMMIT.json").exists()
        assert all(now[f] in (before[f], after[f]) for f in now), "a published file is neither old nor new"
        if not committed:
            assert now in (before, after), "published files mix two versions without a commit record"
    assert run_build(tree).returncode == 0
    assert snapshot(tree) == after

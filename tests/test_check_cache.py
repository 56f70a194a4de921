"""The check's cache (cache.py, record.py) never changes a result, only how fast it comes.

Two copies of the project (code, schemas, inputs and outputs) take the same random edits: of
annotations, registries, articles, schemas and published files. After each, the copy with the
cache (warm from every earlier step) and the copy without it (`--no-cache`) must print and exit
alike, and, when built, publish the same bytes. Entries planted or corrupted in the cache are
ignored.
"""
from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import sys
from functools import partial
from pathlib import Path

import pytest

from conftest import ROOT, make_tree, snapshot

sys.path.insert(0, str(ROOT / "src"))

import fastjsonschema  # noqa: E402

from noncoop import resolve as resolve_module  # noqa: E402
from noncoop.cache import FOLDER, Cache  # noqa: E402
from noncoop.cli import Verdict, _inputs_key  # noqa: E402
from noncoop.errors import Problems  # noqa: E402
from noncoop.read import load_yaml  # noqa: E402

ARTICLE = "000_96b9e111ca13f763"
_STALE = re.compile(r"build\.py: (the published files were built from other data|\d+ published file\(s\) differ)"
                    r".*?\n((?:  .*\n)*)", re.S)


def project_copy(target: Path) -> Path:
    """The code, schemas and inputs and outputs of the project: a build there uses its own schemas."""
    make_tree(target)
    for rel in ("src", "schemas"):
        shutil.copytree(ROOT / rel, target / rel, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
    for rel in ("build.py", "VERSION"):
        shutil.copy(ROOT / rel, target / rel)
    return target


def run(tree: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(tree / "build.py"), *args], capture_output=True, text=True,
                          env=env, timeout=300)


def _stale_files(stderr: str) -> tuple[str, list[str]]:
    """The stale report's form and the files it lists ('', [] when there is none)."""
    found = _STALE.search(stderr)
    if not found:
        return "", []
    return found.group(1), [line.strip() for line in found.group(2).splitlines() if not line.startswith("  ...")]


def assert_same_result(cached: subprocess.CompletedProcess, cold: subprocess.CompletedProcess, step: str) -> None:
    assert cached.returncode == cold.returncode, (step, cached.stderr, cold.stderr)
    assert cached.stdout == cold.stdout, step
    form, listed = _stale_files(cached.stderr)
    cold_form, cold_listed = _stale_files(cold.stderr)
    assert bool(form) == bool(cold_form), (step, cached.stderr, cold.stderr)
    if form.startswith("the published files were built from other data"):
        # known without rendering: the changed tables' files, among those a rendering finds
        assert listed and set(listed) <= set(cold_listed), (step, listed, cold_listed)
        assert _STALE.sub("", cached.stderr) == _STALE.sub("", cold.stderr), step
    else:
        assert cached.stderr == cold.stderr, step


def _edit_annotation(tree: Path, rng: random.Random, kind: int) -> str:
    path = tree / "annotations" / f"{ARTICLE}.yaml"
    text = path.read_text(encoding="utf-8")
    if kind == 0:  # a valid change of a value: the outputs go stale
        m = rng.choice(list(re.finditer(r"^    summary: (.*)$", text, re.M)))
        text = text[:m.start(1)] + "Edited: " + text[m.start(1):]
    elif kind == 1:  # an invalid code
        text = re.sub(r"^(    event_type: ).*$", r"\1not_a_code", text, count=1, flags=re.M)
    elif kind == 2:  # a comment: nothing published changes
        text += f"# note {rng.random()}\n"
    else:  # a syntax error
        text = text.replace("events:\n", "events:\n  - [\n", 1)
    path.write_text(text, encoding="utf-8")
    return f"annotation edit {kind}"


def _edit_registry(tree: Path, rng: random.Random) -> str:
    path = tree / "annotations" / "actors.yaml"
    text = path.read_text(encoding="utf-8")
    if rng.random() < 0.5:
        text = text.replace("aliases: [Kyiv, Kiev, Ukraine]", "aliases: [Kyiv, Kiev, Ukraine, Nowhere-in-the-text]", 1)
    else:
        text = re.sub(r"^(    description: )(.*)$", r"\1Edited. \2", text, count=1, flags=re.M)
    path.write_text(text, encoding="utf-8")
    return "registry edit"


def _edit_article(tree: Path, rng: random.Random) -> str:
    path = tree / "articles" / f"{ARTICLE}.txt"
    path.write_bytes(path.read_bytes() + b" ")
    return "article edit"


def _edit_schema(tree: Path, rng: random.Random) -> str:
    path = tree / "schemas" / "vocabularies.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("definition: ", "definition: Edited. ", 1), encoding="utf-8")
    return "schema edit"


def _edit_output(tree: Path, rng: random.Random) -> str:
    """Published files edited by hand: a table, a viewer page and README's generated overview."""
    page = rng.choice(sorted((tree / "docs" / "viewer").glob("*.html")))
    page.write_bytes(page.read_bytes().replace(b"</body>", b"<p>planted</p></body>", 1))
    events = tree / "data" / "events.csv"
    events.write_bytes(events.read_bytes() + b"\n")
    readme = tree / "README.md"
    readme.write_text(re.sub(r"^\| `sources` \| \d+ \|", "| `sources` | 999 |", readme.read_text(encoding="utf-8"),
                             count=1, flags=re.M), encoding="utf-8")
    return f"output edit {page.name}"


EDITS = [*(partial(_edit_annotation, kind=k) for k in range(4)), _edit_registry, _edit_article, _edit_schema, _edit_output]


def test_cached_checks_and_builds_equal_cold_ones_over_random_edits(tmp_path):
    rng = random.Random(7)
    warm, cold = project_copy(tmp_path / "warm"), project_copy(tmp_path / "cold")
    originals = {rel: (warm / rel).read_bytes() for rel in
                 (f"annotations/{ARTICLE}.yaml", "annotations/actors.yaml", f"articles/{ARTICLE}.txt",
                  "schemas/vocabularies.yaml")}
    assert_same_result(run(warm, "--check"), run(cold, "--check", "--no-cache"), "start")
    for step, edit in enumerate(rng.sample(EDITS, len(EDITS))):  # every kind of edit, in a random order
        for tree in (warm, cold):  # from the valid inputs: the cache holds results for them from before
            for rel, data in originals.items():
                (tree / rel).write_bytes(data)
        state = rng.getstate()
        what = edit(warm, rng)
        rng.setstate(state)
        edit(cold, rng)
        for _ in range(2):  # the first check fills the cache, the second replays it
            assert_same_result(run(warm, "--check"), run(cold, "--check", "--no-cache"), f"{step}: {what}")
        if step % 2:
            built, built_cold = run(warm), run(cold, "--no-cache")
            assert built.returncode == built_cold.returncode and built.stdout == built_cold.stdout, what
            assert snapshot(warm) == snapshot(cold), what
            assert_same_result(run(warm, "--check"), run(cold, "--check", "--no-cache"), f"{step}: after build")
    assert (warm / FOLDER).is_dir() and not (cold / FOLDER).exists()


def test_a_planted_verdict_is_ignored(tmp_path, tree, schema, monkeypatch):
    """An entry signed with another key (a committed .cache/, an attacker's) is never trusted."""
    path = tree / "annotations" / f"{ARTICLE}.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("language: en", "language: not-a-language", 1),
                    encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "attacker"))
    Cache(tree).put("check", _inputs_key(tree, schema)[1], Verdict([], {"events": 1}))
    monkeypatch.undo()
    assert (tree / FOLDER / "check").is_dir()
    result = run_build_checked(tree)
    assert result.returncode == 1 and "not-a-language" in result.stderr, result.stderr


def test_a_corrupt_or_moved_entry_is_a_miss(tree):
    first = run_build_checked(tree)
    assert first.returncode == 0, first.stderr
    entries = sorted(p for p in (tree / FOLDER).rglob("*") if p.is_file())
    assert entries
    for i, entry in enumerate(entries):
        data = entry.read_bytes()
        entry.write_bytes(data[:-1] + bytes([data[-1] ^ 1]) if i % 2 else data[: len(data) // 2])
    again = run_build_checked(tree)
    assert (again.returncode, again.stdout, again.stderr) == (first.returncode, first.stdout, first.stderr)


def run_build_checked(tree: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("XDG_CACHE_HOME", "NONCOOP_CACHE")}
    return subprocess.run([sys.executable, str(ROOT / "build.py"), "--root", str(tree), "--check"],
                          capture_output=True, text=True, env=env, timeout=300)


def test_a_project_moved_with_its_cache_locates_problems_in_its_own_files(tmp_path):
    """Cached articles' rows point into their annotation files: after the project (and its cache)
    moved, a problem found in them is located by reading the files where they are now."""
    before = project_copy(tmp_path / "before")
    assert run(before, "--check").returncode == 0
    after = tmp_path / "after"
    shutil.move(before, after)
    registry = after / "annotations/actors.yaml"
    registry.write_text(registry.read_text(encoding="utf-8").replace("actor_id: ru-government", "actor_id: ru-gov"),
                        encoding="utf-8")
    cached, cold = run(after, "--check"), run(after, "--check", "--no-cache")
    assert cached.returncode == 1 and "ru-government" in cached.stderr, cached.stderr
    assert re.search(rf"annotations/{ARTICLE}\.yaml:\d+:\d+", cached.stderr), cached.stderr
    assert (cached.stdout, cached.stderr) == (cold.stdout, cold.stderr)


def test_a_compiled_validator_is_taken_from_the_cache_and_validates_alike(tmp_path, schema, monkeypatch):
    cache = Cache(tmp_path)
    first = resolve_module._validators(schema, "source", cache)[0]
    monkeypatch.setattr(fastjsonschema, "compile_to_code", lambda *_: pytest.fail("compiled again"))
    again = resolve_module._validators(schema, "source", cache)[0]
    valid = load_yaml(ROOT / "annotations" / f"{ARTICLE}.yaml", f"annotations/{ARTICLE}.yaml", Problems()).data
    for validate in (first, again):
        validate(valid)
        with pytest.raises(fastjsonschema.JsonSchemaException):
            validate({**valid, "source": {**valid["source"], "language": 7}})

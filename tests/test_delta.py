"""The delta check (delta.py) passes exactly what a full check passes, with the same verdict.

A synthetic corpus (benchmarks/scale.py) of a dozen articles, with same_as links between
neighbours, is built (leaving the baseline), then edited at random: an event's summary, a quote's
event, a link, an article added or removed, an invalid code, an event that another article links
to renamed, a registry, an article's text. After each edit, `delta.check` must give way (None)
wherever the full check finds a problem, and whenever it answers, answer as the full check does:
counts, fingerprint, notes and completeness notes. The edits it exists for must be answered by it,
and `build.py --check` must print the same with it and without it.
"""
from __future__ import annotations

import random
import re
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest

from conftest import ROOT, without_timings

sys.path.insert(0, str(ROOT / "benchmarks"))

import scale  # noqa: E402
from noncoop import delta  # noqa: E402
from noncoop.cache import FOLDER, Cache, sha256  # noqa: E402
from noncoop.cli import Stages, _verdict, main  # noqa: E402

N = 12
ADDED = "syn000100"  # the article a contributor adds: a copy of another under a new name


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """The corpus, with one `causes` link into another article, built: the build leaves the baseline."""
    root = tmp_path_factory.mktemp("delta") / "corpus"
    scale.generate(root, N, seed=3)
    own = (root / "annotations/syn000005.yaml").read_text(encoding="utf-8")
    everything = "".join(p.read_text(encoding="utf-8") for p in (root / "annotations").glob("syn*.yaml"))
    number = max(f"e{i:02d}" for i in range(1, 29) if not re.search(
        rf'(event_id: "e{i:02d}"|linked_event_id: e{i:02d}\b)', own) and f"syn000005-e{i:02d}" not in everything)
    path = root / "annotations" / "syn000006.yaml"
    path.write_text(_with_link(path.read_text(encoding="utf-8"), "e01", "causes", f"syn000005-{number}"), encoding="utf-8")
    assert main(["--root", str(root)]) == 0
    assert (root / FOLDER / delta.KIND).is_dir()
    return root


def _with_link(text: str, event: str, link_type: str, target: str) -> str:
    """An annotation's `text` with a link added to its event `event` (a local ID)."""
    start = text.index(f"  - id: {event}\n")
    end = text.find("\n  - id: ", start + 1)
    end = end if end > 0 else text.index("\nquotes:")
    block, line = text[start:end], f"      - {{link_type: {link_type}, linked_event_id: {target}}}"
    block = block.replace("    links:\n", f"    links:\n{line}\n", 1) if "    links:\n" in block else f"{block}\n    links:\n{line}"
    return text[:start] + block + text[end:]


def _copy(corpus: Path, target: Path) -> Path:
    return shutil.copytree(corpus, target, symlinks=True)


def _annotation(root: Path, rng: random.Random) -> tuple[Path, str]:
    path = root / "annotations" / f"syn{rng.randint(0, N - 1):06d}.yaml"
    return path, path.read_text(encoding="utf-8")


def _summary(root, rng):
    path, text = _annotation(root, rng)
    m = rng.choice(list(re.finditer(r'^    summary: "', text, re.M)))
    path.write_text(text[:m.end()] + "Edited. " + text[m.end():], encoding="utf-8")


def _quote_event(root, rng):
    path, text = _annotation(root, rng)
    m = rng.choice(list(re.finditer(r'^    event_id: "(e\d\d)"$', text, re.M)))
    other = f"e{int(m.group(1)[1:]) % 28 + 1:02d}"
    path.write_text(text[:m.start(1)] + other + text[m.end(1):], encoding="utf-8")


def _link_type(root, rng):
    path, text = _annotation(root, rng)
    m = rng.choice(list(re.finditer(r"link_type: (causes|part_of), linked_event_id: e", text)))
    swapped = "part_of" if m.group(1) == "causes" else "causes"
    path.write_text(text[:m.start(1)] + swapped + text[m.end(1):], encoding="utf-8")


def _same_as(root, rng):
    """A same_as link to an event of another article, before or after it (incidents merge)."""
    k = rng.randint(1, N - 2)
    path = root / "annotations" / f"syn{k:06d}.yaml"
    target = f"syn{k + rng.choice([-1, 1]):06d}-e{rng.randint(1, 28):02d}"
    path.write_text(_with_link(path.read_text(encoding="utf-8"), f"e{rng.randint(1, 28):02d}", "same_as", target),
                    encoding="utf-8")


def _added(root, rng):
    for folder, suffix in (("annotations", ".yaml"), ("articles", ".txt")):
        shutil.copy(root / folder / f"syn000005{suffix}", root / folder / f"{ADDED}{suffix}")


def _removed(root, rng):
    source_id = f"syn{rng.randint(0, N - 1):06d}"
    (root / "annotations" / f"{source_id}.yaml").unlink()
    (root / "articles" / f"{source_id}.txt").unlink()


def _invalid_code(root, rng):
    path, text = _annotation(root, rng)
    path.write_text(re.sub(r'^(    event_type: ).*$', r'\1"NOT_A_CODE"', text, count=1, flags=re.M), encoding="utf-8")


def _renamed_linked_event(root, rng):
    """Rename an event that only another article refers to (a same_as link): a foreign key breaks there."""
    for k in rng.sample(range(N - 1), N - 1):
        path = root / "annotations" / f"syn{k:06d}.yaml"
        text = path.read_text(encoding="utf-8")
        later = (root / "annotations" / f"syn{k + 1:06d}.yaml").read_text(encoding="utf-8")
        for number in sorted(set(re.findall(rf"linked_event_id: syn{k:06d}-e(\d\d)", later))):
            if not re.search(rf'(event_id: "e{number}"|linked_event_id: e{number}\b)', text):
                path.write_text(text.replace(f"  - id: e{number}\n", "  - id: e99\n", 1), encoding="utf-8")
                return
    pytest.fail("the corpus has no event that only another article refers to")


def _renamed_cause(root, rng):
    """Rename the event that only another article's `causes` link refers to (see `corpus`)."""
    number = re.search(r"causes, linked_event_id: syn000005-(e\d\d)", (root / "annotations/syn000006.yaml").read_text()).group(1)
    path = root / "annotations" / "syn000005.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(f"  - id: {number}\n", "  - id: e99\n", 1), encoding="utf-8")


def _registry(root, rng):
    path = root / "annotations" / "actors.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('description: "Synthetic', 'description: "Edited synthetic', 1), encoding="utf-8")


def _article_text(root, rng):
    """An article's text changed (and its checksum with it): valid, but no longer the baseline's text."""
    path, text = _annotation(root, rng)
    article = root / "articles" / f"{path.stem}.txt"
    data = article.read_bytes() + b" More words."
    article.write_bytes(data)
    path.write_text(re.sub(r"sha256: \w+", f"sha256: {sha256(data)}", text, count=1), encoding="utf-8")


def _unpublished(root, rng):
    """An article's row gone from the published sources.csv: its completeness notes are due, and a
    baseline left by a build holds none."""
    path = root / "data" / "sources.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    del lines[rng.randint(1, len(lines) - 1)]
    path.write_text("".join(lines), encoding="utf-8")


# edit -> whether a delta check must answer it (True), give way (False), or may do either (None)
EDITS = {_summary: True, _quote_event: True, _link_type: True, _added: True, _same_as: None, _removed: False,
         _invalid_code: False, _renamed_linked_event: False, _renamed_cause: False, _registry: False, _article_text: False,
         _unpublished: False}


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("edit", EDITS, ids=lambda e: e.__name__.strip("_"))
def test_a_delta_check_answers_as_the_full_check_or_gives_way(corpus, tmp_path, schema, edit, seed):
    root = _copy(corpus, tmp_path / "corpus")
    edit(root, random.Random(seed))
    outcome = delta.check(root, schema, Cache(root))
    full, _, _ = _verdict(root, schema, Stages(), Cache(root, enabled=False), notes=True)
    if full.problems:
        assert outcome is None
    if EDITS[edit] is not None:
        assert (outcome is not None) == EDITS[edit], full.problems[:3]
    if outcome is not None:
        assert outcome.counts == full.counts
        assert outcome.fingerprint == full.fingerprint
        assert (outcome.notes, outcome.hints) == (full.notes, full.hints)


def test_notes_of_the_unpublished_come_from_the_baseline_and_anew(corpus, tmp_path, schema):
    """A baseline left by a check holds the completeness notes of an article not yet published;
    a delta check after an edit of another article repeats them (and gives notes of its own)."""
    root = _copy(corpus, tmp_path / "corpus")
    _added(root, None)
    shutil.rmtree(root / FOLDER / delta.KIND)
    assert main(["--root", str(root), "--check"]) == 1  # a full check (the outputs are stale): it leaves a baseline
    assert (root / FOLDER / delta.KIND).is_dir()
    _quote_event(root, random.Random(5))
    outcome = delta.check(root, schema, Cache(root))
    full, _, _ = _verdict(root, schema, Stages(), Cache(root, enabled=False), notes=True)
    assert outcome is not None and full.hints and full.notes
    assert (outcome.notes, outcome.hints, outcome.fingerprint) == (full.notes, full.hints, full.fingerprint)


@pytest.mark.parametrize("edit", [_summary, _added, _invalid_code], ids=lambda e: e.__name__.strip("_"))
def test_the_check_prints_the_same_with_and_without_the_delta(corpus, tmp_path, monkeypatch, capsys, edit):
    root = _copy(corpus, tmp_path / "corpus")
    edit(root, random.Random(1))
    outputs = []
    for answered in (True, False):
        shutil.rmtree(root / FOLDER / "check", ignore_errors=True)  # no verdict of an earlier check
        if not answered:
            monkeypatch.setattr(delta, "check", lambda *args, **kwargs: None)
        code = main(["--root", str(root), "--check", "--timings"])
        out, err = capsys.readouterr()
        outputs.append((code, out, without_timings(err)))
        if answered and edit is not _invalid_code:  # the delta check answered alone: nothing else was resolved
            assert '"delta"' in err and '"resolve"' not in err, err
    assert outputs[0] == outputs[1]


def test_a_delta_check_keeps_the_other_articles_cache_entries(corpus, tmp_path, monkeypatch):
    """It resolves one article: pruning to what one article needs would drop every other's entry."""
    root = _copy(corpus, tmp_path / "corpus")
    before = {p.name for p in (root / FOLDER / "article").rglob("*") if p.is_file()}
    pruned = []
    monkeypatch.setattr(Cache, "prune", lambda self, kind, keep: pruned.append((kind, keep)))
    _summary(root, random.Random(2))
    assert main(["--root", str(root), "--check"]) == 1  # the outputs are stale now
    after = {p.name for p in (root / FOLDER / "article").rglob("*") if p.is_file()}
    assert before < after and len(after) == len(before) + 1
    assert not [kind for kind, _ in pruned if kind == "article"], pruned


def test_a_new_row_whose_key_a_kept_row_has_gives_way(corpus, tmp_path, schema):
    """Keys are unique across the corpus: a changed article's row whose primary key (its hash) is
    also a kept row's sends the check to the full one (no two articles' keys can be equal today,
    as every key holds its source_id: the baseline is altered to make them so)."""
    root = _copy(corpus, tmp_path / "corpus")
    _added(root, None)
    cache = Cache(root)
    assert delta.check(root, schema, cache) is not None
    base = cache.get(delta.KIND, delta.SLOT)
    key = pd.DataFrame({"source_id": pd.array([ADDED], dtype="string")})
    keys = base.tables["sources"].keys.copy()  # (unpickled arrays are read-only)
    keys[0] = delta._key_hashes(key, schema.tables["sources"])[0]
    base.tables["sources"].keys = keys
    cache.put(delta.KIND, delta.SLOT, base)
    assert delta.check(root, schema, cache) is None

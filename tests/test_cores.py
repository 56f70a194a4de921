"""Work spread over several cores gives exactly what one process gives: the same rows, the same
problems in the same order, the same pages byte for byte (results are taken in the tasks' order)."""
from __future__ import annotations

import hashlib
import multiprocessing
import sys

import pytest

from conftest import ROOT
from noncoop import cli, cores, resolve as resolve_module, viewer
from noncoop.cache import Cache
from noncoop.cli import _validated, Stages
from noncoop.resolve import resolve

sys.path.insert(0, str(ROOT / "benchmarks"))
import scale  # noqa: E402  (the benchmark's synthetic corpus)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("cores") / "corpus"
    scale.generate(root, 9, seed=3)
    return root


def _forced(monkeypatch, workers: int):
    """Every stage that can use workers uses `workers` of them, whatever this machine has."""
    monkeypatch.setattr(cores, "cores", lambda: workers)
    monkeypatch.setattr(resolve_module, "_PER_WORKER", 1)
    monkeypatch.setattr(viewer, "PAGES_PER_WORKER", 1)


def _resolved(root, schema):
    rows, problems = resolve(root, schema, Cache(root, enabled=False))
    return rows.columns, [(o.doc and o.doc.file, o.path) for t in rows.origins for o in rows.origins[t]], \
        [str(p) for p in problems.items]


@pytest.mark.parametrize("workers", [2, 3])
def test_resolving_on_several_cores_gives_the_rows_and_problems_of_one(corpus, schema, tmp_path, monkeypatch, workers):
    broken = tmp_path / "broken"
    scale.generate(broken, 9, seed=3)
    for name, old, new in (("syn000002.yaml", "event_type: ", "event_type: protestt"),
                           ("syn000006.yaml", "evidence: ", "evidence: words not in the article ")):
        path = broken / "annotations" / name
        path.write_text(path.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    for root in (corpus, broken):
        one = _resolved(root, schema)
        _forced(monkeypatch, workers)
        assert _resolved(root, schema) == one
        monkeypatch.undo()
    assert _resolved(broken, schema)[2], "the broken copy must have problems to compare"


@pytest.mark.parametrize("workers", [2, 3])
def test_viewer_pages_rendered_on_several_cores_are_byte_identical(corpus, schema, monkeypatch, workers):
    frames, texts, _ = _validated(corpus, schema, Stages(), Cache(corpus, enabled=False))
    one = list(viewer.render_viewer(schema, frames, texts))
    _forced(monkeypatch, workers)
    assert list(viewer.render_viewer(schema, frames, texts)) == one
    assert len(one) == 9 + 1


def _digest(rel: str, data: bytes) -> tuple[str, str]:
    return rel, hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("workers", [2, 3])
def test_pages_judged_on_several_cores_are_judged_as_in_one_process(corpus, schema, monkeypatch, workers):
    frames, texts, _ = _validated(corpus, schema, Stages(), Cache(corpus, enabled=False))
    pages = list(viewer.render_viewer(schema, frames, texts))
    judged = [(rel, _digest(rel, page) if rel != viewer.page_path("index") else page) for rel, page in pages]
    assert list(viewer.render_viewer(schema, frames, texts, _digest)) == judged
    _forced(monkeypatch, workers)
    assert list(viewer.render_viewer(schema, frames, texts, _digest)) == judged


def test_a_check_on_several_cores_finds_exactly_the_page_edited_by_hand(tmp_path, monkeypatch, capsys):
    root = tmp_path / "corpus"
    scale.generate(root, 9, seed=3)
    assert cli.main(["--root", str(root), "--no-cache"]) == 0
    page = root / viewer.page_path("syn000004")
    page.write_bytes(page.read_bytes().replace(b"</body>", b"<!-- edited --></body>"))
    _forced(monkeypatch, 2)
    capsys.readouterr()
    assert cli.main(["--check", "--root", str(root), "--no-cache"]) == 1
    report = capsys.readouterr().err
    assert "1 published file(s) differ" in report and "docs/viewer/syn000004.html" in report, report


def test_pages_started_before_validation_stop_when_it_fails(tmp_path, monkeypatch, capsys):
    """A check starts rendering the pages while it validates; a problem found then stops the workers."""
    root = tmp_path / "corpus"
    scale.generate(root, 9, seed=3)
    assert cli.main(["--root", str(root), "--no-cache"]) == 0
    path = root / "annotations" / "syn000003.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("violent: false", "violent: true", 1), encoding="utf-8")
    started = []
    monkeypatch.setattr(cli, "render_viewer", lambda *a: started.append(viewer.render_viewer(*a)) or started[-1])
    _forced(monkeypatch, 2)
    capsys.readouterr()
    assert cli.main(["--check", "--root", str(root), "--no-cache"]) == 1
    assert started and "syn000003.yaml" in capsys.readouterr().err
    assert multiprocessing.active_children() == []


def test_a_worker_s_exception_reaches_the_build(corpus, schema, monkeypatch):
    frames, texts, _ = _validated(corpus, schema, Stages(), Cache(corpus, enabled=False))
    _forced(monkeypatch, 2)
    monkeypatch.setattr(viewer, "_article_page", lambda *a: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        list(viewer.render_viewer(schema, frames, texts))


def _double(offset: int, task: int) -> int:
    return offset + 2 * task


def test_workers_are_handed_only_a_few_tasks_ahead_of_the_consumer():
    """Results nobody has taken yet must not pile up (1 GB of pages at 10,000 articles)."""
    drawn = []

    def tasks():
        for task in range(1000):
            drawn.append(task)
            yield task

    with cores.forked_map(_double, (1,), tasks(), 2) as results:
        assert next(results) == 1
        assert len(drawn) <= 2 * cores.AHEAD + 1
        assert list(results) == [1 + 2 * t for t in range(1, 1000)]


@pytest.mark.parametrize("every", [1, 2, 4])
def test_rows_moved_into_arrow_every_few_articles_give_the_same_frames(corpus, schema, monkeypatch, every):
    """Resolved.seal packs the values of every SEAL_EVERY articles; the tables must not depend on when."""
    import pandas as pd
    from noncoop.tables import build_frames

    def frames():
        return build_frames(schema, resolve(corpus, schema, Cache(corpus, enabled=False))[0])

    monkeypatch.setattr(resolve_module, "SEAL_EVERY", 10**9)
    plain = frames()
    monkeypatch.setattr(resolve_module, "SEAL_EVERY", every)
    for name, df in frames().items():
        pd.testing.assert_frame_equal(df, plain[name], check_exact=True)
        assert [type(df[c].array) for c in df] == [type(plain[name][c].array) for c in df]

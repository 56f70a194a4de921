"""`build.py new`: the text is copied unchanged, the scaffold holds what the text tells, and the
check refuses every stub, at its line, until an annotator completes or deletes it."""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import shutil

import pytest
import yaml

from conftest import ROOT, run_build
from noncoop.scaffold import Interval, measure, quotations, resolve_time, time_expressions

SEEDS = sorted(p.stem for p in (ROOT / "articles").glob("*.txt"))


def _as_new(tmp_path, source_id):
    """A tree without `source_id`, and its text outside it (to be added as a new article)."""
    root = tmp_path / "tree"
    for rel in ("articles", "annotations"):
        shutil.copytree(ROOT / rel, root / rel)
        (root / rel / f"{source_id}{'.txt' if rel == 'articles' else '.yaml'}").unlink()
    text = tmp_path / "article.txt"
    shutil.copy(ROOT / "articles" / f"{source_id}.txt", text)
    published = yaml.safe_load((ROOT / "annotations" / f"{source_id}.yaml").read_text(encoding="utf-8"))["source"]
    return root, text, f"{published['published_start']}..{published['published_end']}"


@pytest.fixture(params=SEEDS)
def scaffolded(request, tmp_path):
    root, text, published = _as_new(tmp_path, request.param)
    result = run_build(root, "new", str(text), "--published", published)
    assert result.returncode == 0, result.stderr
    article, annotation = result.stdout.split()
    return root, text, root / article, root / annotation


def test_new_copies_the_text_unchanged_under_the_documented_source_id(scaffolded):
    root, text, article, annotation = scaffolded
    data = text.read_bytes()
    assert article.read_bytes() == data
    digest = hashlib.sha256(data).hexdigest()
    number = max(int(p.name[:3]) for p in (root / "articles").glob("*.txt") if p != article) + 1
    assert article.stem == annotation.stem == f"{number:03d}_{digest[:16]}"
    assert yaml.safe_load(annotation.read_text(encoding="utf-8"))["source"]["sha256"] == digest


def test_new_refuses_a_text_already_in_the_project(tmp_path):
    text = tmp_path / "again.txt"
    shutil.copy(ROOT / "articles" / f"{SEEDS[0]}.txt", text)
    root = tmp_path / "tree"
    shutil.copytree(ROOT / "articles", root / "articles")
    shutil.copytree(ROOT / "annotations", root / "annotations")
    result = run_build(root, "new", str(text))
    assert result.returncode == 2 and f"already articles/{SEEDS[0]}.txt" in result.stderr
    assert sorted(p.name for p in (root / "articles").iterdir()) == sorted(p.name for p in (ROOT / "articles").iterdir())


@pytest.mark.parametrize("published", ["2022-07-32", "2022-07-31..2022-07-28", "July 2022"])
def test_new_refuses_a_bad_publication_date_and_writes_nothing(tmp_path, published):
    root, text, _ = _as_new(tmp_path, SEEDS[0])
    before = sorted(p.name for p in (root / "articles").iterdir())
    result = run_build(root, "new", str(text), "--published", published)
    assert result.returncode == 2 and f"--published {published!r}" in result.stderr
    assert sorted(p.name for p in (root / "articles").iterdir()) == before


def _stub_lines(annotation) -> list[int]:
    """Line numbers of every stub: each `todo:` key of an item, and each line of the `todo` section."""
    lines = annotation.read_text(encoding="utf-8").splitlines()
    section = lines.index("todo:")
    items = [n for n, line in enumerate(lines[:section], 1) if re.match(r"\s+todo: ", line)]
    return items + [n for n, line in enumerate(lines[section:], section + 1) if line.startswith("    - {")]


def test_the_check_refuses_every_stub_at_its_line(scaffolded):
    root, _, _, annotation = scaffolded
    result = run_build(root, "--check")
    assert result.returncode == 1
    rel = f"annotations/{annotation.name}"
    refused = {int(m.group(1)) for m in re.finditer(rf"^{re.escape(rel)}:(\d+):\d+: \S*todo\S*: .*no scaffold proposal left",
                                                     result.stderr, re.M)}
    assert refused == set(_stub_lines(annotation))


@pytest.mark.parametrize("source_id", SEEDS)
def test_a_completed_scaffold_passes_the_check(tmp_path, source_id):
    """Once every proposal is dealt with (here: quotes completed, the rest deleted), what the
    scaffold wrote itself is valid: quote texts are found verbatim, the source block fits.
    (The seed's text with a line added, as a new article beside all the published ones.)"""
    root = tmp_path / "tree"
    for rel in ("articles", "annotations"):
        shutil.copytree(ROOT / rel, root / rel)
    new = tmp_path / "new.txt"
    new.write_bytes((ROOT / "articles" / f"{source_id}.txt").read_bytes() + "\nA line added.".encode())
    result = run_build(root, "new", str(new), "--published", "2022-07-28")
    assert result.returncode == 0, result.stderr
    annotation = root / result.stdout.split()[1]
    text = annotation.read_text(encoding="utf-8")
    text = re.sub(r"^\s+todo: .*\n", "", text, flags=re.M).split("\ntodo:")[0]
    text = text.replace("    kind:\n", "    kind: direct\n")
    for key, value in (("language", "en"), ("original_language", "en"), ("is_translation", "false"),
                       ("original_language_basis", "text"), ("published_basis", "text")):
        text = text.replace(f"  {key}:\n", f"  {key}: {value}\n")
    annotation.write_text(text, encoding="utf-8")
    result = run_build(root, "--check")
    assert result.returncode == 0, result.stderr


def test_quotations_found_in_every_form():
    text = ('He said “one”, then „two“ and «three» and "four". She added: Five is here. '
            'It is ‘six’ but the cat’s toy stays. They said: “seven.”')
    assert [f.text for f in quotations(text)] == ["one", "two", "three", "four", "Five is here.", "six", "seven."]
    # the guide's rule: everything inside the marks, a trailing comma included, nothing outside
    assert [f.text for f in quotations("“We will not work for them,” a nurse said.")] == ["We will not work for them,"]


PUBLISHED = Interval(dt.date(2022, 7, 28), dt.date(2022, 7, 31))  # article 000's interval, Thursday to Sunday


@pytest.mark.parametrize("expression, start, end, basis", [
    ("on Thursday", "2022-07-28", "2022-07-28", "relative"),
    ("last month", "2022-06-01", "2022-06-30", "relative"),
    ("this week", "2022-07-25", "2022-07-31", "relative"),
    ("earlier this month", "2022-07-01", "2022-07-31", "relative"),
    ("On May 30", "2022-05-30", "2022-05-30", "relative"),
    ("On December 30", "2021-12-30", "2021-12-30", "relative"),  # year-less, after the publication month: last year
    ("since early March", "2022-03-01", "2022-07-31", "relative"),
    ("in late June", "2022-06-21", "2022-06-30", "relative"),
    ("in 2014", "2014-01-01", "2014-12-31", "explicit"),
    ("yesterday", "2022-07-27", "2022-07-30", "relative"),
    ("for weeks", "2022-02-24", "2022-07-31", "context"),
])
def test_time_expressions_resolve_against_the_publication_interval(expression, start, end, basis):
    interval, found_basis, how = resolve_time(expression, PUBLISHED)
    assert (interval.start.isoformat(), interval.end.isoformat(), found_basis) == (start, end, basis), how
    assert [f.text for f in time_expressions(f"It happened {expression}.", PUBLISHED)] == [expression]


def test_words_that_only_look_like_dates_are_not_time_expressions():
    assert [f.text for f in time_expressions("Workers may march on the square, now.", PUBLISHED)] == []


def test_without_a_publication_interval_relative_expressions_get_no_interval():
    interval, basis, how = resolve_time("last month", None)
    assert interval is None and "--published" in how


def test_the_measured_figures_in_the_docs_are_current():
    doc = (ROOT / "docs/workbench.md").read_text(encoding="utf-8")
    for source_id in SEEDS:
        for name, (found, total) in measure(ROOT, source_id).items():
            assert f"| {source_id} | {name} | {found} of {total} |" in doc, (source_id, name, found, total)


def test_the_check_notes_what_a_new_article_leaves_uncoded_and_strict_refuses_it(tmp_path):
    """Completeness hints: a quotation no quote covers, and a registry alias no row of the article
    refers to. Notes, exit 0; `--strict` makes them errors."""
    root = tmp_path / "tree"
    for rel in ("articles", "annotations"):
        shutil.copytree(ROOT / rel, root / rel)  # nothing published: every article counts as new
    annotation = root / "annotations" / f"{SEEDS[0]}.yaml"
    text = annotation.read_text(encoding="utf-8")
    start = text.index("  - id: q01\n")
    annotation.write_text(text[:start] + text[text.index("  - id: q02\n"):], encoding="utf-8")  # drop a quote
    quoted = re.search(r"^    text: (.*)$", text[start:], re.M).group(1)
    article = (root / "articles" / f"{SEEDS[0]}.txt").read_text(encoding="utf-8")
    offset = article.index(quoted)
    line, col = article.count("\n", 0, offset) + 1, offset - article.rfind("\n", 0, offset)
    result = run_build(root, "--check")
    assert result.returncode == 0, result.stderr
    assert (f"note: articles/{SEEDS[0]}.txt:{line}:{col}: the quotation “{quoted}” is covered by no quote"
            in result.stdout), result.stdout
    assert "“Kyiv” is an alias of place kyiv, to which no row of" in result.stdout
    strict = run_build(root, "--check", "--strict")
    assert strict.returncode == 1 and "completeness note(s), which --strict makes errors" in strict.stderr
    assert "“Kyiv” is an alias of place kyiv" in strict.stderr


def test_published_articles_get_no_completeness_notes(tree):
    result = run_build(tree, "--check", "--strict")
    assert result.returncode == 0, result.stderr
    assert "note:" not in result.stdout

"""The repository stands alone: every path a file cites resolves inside it, and none points outside."""
from __future__ import annotations

import re
import subprocess

import pytest

from conftest import ROOT

# The frozen agreement inputs are evidence and never edited (agreement/README.md); article texts
# are kept exactly as received.
FROZEN = ("articles/", "agreement/annotator_a/", "agreement/annotator_b/")
OUTSIDE = re.compile(r"/work/|shared/seeds|\.\./seeds|(?<![\w-])reference/[\w.-]+")
TOP = "annotations|articles|schemas|docs|data|src|tests|agreement|benchmarks|\\.ci|\\.github"
IN_REPO = re.compile(rf"(?<![\w/.:-])((?:{TOP})/[\w./-]*\w)")
LINK = re.compile(r"\]\(([^)\s#]+)(?:#[^)]*)?\)")


def _tracked_text_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    files = []
    for rel in listed:
        if rel.startswith(FROZEN) or not (ROOT / rel).is_file():
            continue
        try:
            (ROOT / rel).read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # Parquet and other binaries
        files.append(rel)
    return files


FILES = _tracked_text_files()


def test_the_scan_sees_the_files_that_cite_sources():
    assert {"annotations/000_96b9e111ca13f763.yaml", "docs/annotation-guide.md", "docs/sources.md",
            "schemas/vocabularies.yaml", "data/events.csv", "datapackage.json"} <= set(FILES)


@pytest.mark.parametrize("rel", FILES)
def test_no_file_cites_a_path_outside_the_repository(rel):
    text = (ROOT / rel).read_text(encoding="utf-8")
    if rel == "tests/test_citations.py":
        text = text.split('OUTSIDE = re.compile(')[0]  # the patterns themselves
    found = sorted(set(m.group(0) for m in OUTSIDE.finditer(text)))
    assert not found, f"{rel} cites {found}: bring the facts into the repository (docs/sources.md) and cite that"


@pytest.mark.parametrize("rel", [f for f in FILES if not f.startswith("tests/")])  # tests name scratch files
def test_every_path_a_file_cites_resolves(rel, request):
    """In the repository, or, for the files only the release makes (Stata, Excel), in the unpacked release."""
    text = (ROOT / rel).read_text(encoding="utf-8")
    missing = []
    for match in IN_REPO.finditer(text):
        path = match.group(1).rstrip(".")
        if re.search(r"[<>{}*]|NN|XX", text[match.start(1):match.end(1) + 1]) or path.startswith("src/noncoop.egg"):
            continue  # a template such as articles/<source_id>.txt
        if not (ROOT / path).exists() and not (request.getfixturevalue("release_folder") / path).exists():
            missing.append(path)
    if rel.endswith(".md"):
        for match in LINK.finditer(text):
            target = match.group(1)
            if re.match(r"[a-z]+:", target):
                continue  # a web address
            if not (ROOT / rel).parent.joinpath(target).resolve().exists():
                missing.append(target)
    assert not missing, f"{rel} cites paths that do not exist: {sorted(set(missing))}"


def test_a_release_carries_every_hand_written_page_the_files_cite():
    from noncoop.release import HAND_WRITTEN

    pages = {rel for rel in FILES if rel.startswith("docs/") and rel.endswith(".md") and rel != "docs/codebook.md"}
    assert "docs/sources.md" in pages and pages <= set(HAND_WRITTEN)

"""Every Python and SQL snippet in README.md runs, from the repository root and from the unpacked
release archive; those that read the Stata or Excel files, which only the release holds, from the release."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys

import duckdb
import pytest

from conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"^```(python|sql)\n(.*?)^```", README, re.M | re.S)
RELEASE_ONLY = ("data/stata/", "data/excel/")
RUNS = [(kind, code, place) for kind, code in BLOCKS
        for place in (("release",) if any(path in code for path in RELEASE_ONLY) else ("repository", "release"))]


def test_readme_starts_with_the_two_quick_start_commands():
    first_block = re.search(r"^```sh\n(.*?)^```", README, re.M | re.S).group(1)
    assert [line.split("#")[0].strip() for line in first_block.splitlines()] == ["make data", "make test"]
    assert README.index("make data") < README.index("## What this is")


def test_readme_has_python_and_sql_snippets():
    kinds = [kind for kind, _ in BLOCKS]
    assert kinds.count("python") >= 4 and kinds.count("sql") >= 2


def test_readme_runs_stata_and_excel_snippets_from_the_release():
    assert {path for _, code in BLOCKS for path in RELEASE_ONLY if path in code} == set(RELEASE_ONLY)


@pytest.mark.parametrize("kind,code,place", RUNS, ids=[f"{k}-{i}-{p}" for i, (k, _, p) in enumerate(RUNS)])
def test_readme_snippet_runs(kind, code, place, monkeypatch, request):
    monkeypatch.chdir(ROOT if place == "repository" else request.getfixturevalue("release_folder"))
    if kind == "python":
        exec(compile(code, "README.md", "exec"), {"__name__": "readme"})
    else:
        rows = duckdb.connect().execute(code).fetchall()
        assert rows, "the query returned no rows"


def test_the_documented_build_command_works_outside_the_virtual_environment(tree):
    """`python build.py --check`, as the docs write it, with a Python that lacks the dependencies."""
    bare = subprocess.run([sys.executable, "-S", "-c", "import pandas"], capture_output=True, text=True)
    assert bare.returncode != 0  # -S: no site-packages, as a system Python without them
    result = subprocess.run([sys.executable, "-S", str(ROOT / "build.py"), "--root", str(tree), "--check"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("check passed")


def test_the_documented_unzip_and_sha256sum_check_a_release(release_zip, tmp_path):
    """README's by-hand check of a release: `unzip -d` into a folder of its own, then `sha256sum -c`."""
    block = next(b for b in re.findall(r"^```sh\n(.*?)^```", README, re.M | re.S) if "unzip" in b)
    if shutil.which("unzip") is None:
        pytest.skip("unzip not installed (Debian unzip)")
    shutil.copy(release_zip, tmp_path)
    version = (ROOT / "VERSION").read_text().strip()
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", block.replace("<version>", version)], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert result.stdout.count(": OK\n") == len((tmp_path / "release/SHA256SUMS").read_text().splitlines())

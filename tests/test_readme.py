"""Every Python and SQL snippet in README.md runs, from the repository root."""
from __future__ import annotations

import re
import subprocess
import sys

import duckdb
import pytest

from conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"^```(python|sql)\n(.*?)^```", README, re.M | re.S)


def test_readme_starts_with_the_two_quick_start_commands():
    first_block = re.search(r"^```sh\n(.*?)^```", README, re.M | re.S).group(1)
    assert [line.split("#")[0].strip() for line in first_block.splitlines()] == ["make data", "make test"]
    assert README.index("make data") < README.index("## What this is")


def test_readme_has_python_and_sql_snippets():
    kinds = [kind for kind, _ in BLOCKS]
    assert kinds.count("python") >= 4 and kinds.count("sql") >= 2


@pytest.mark.parametrize("kind,code", BLOCKS, ids=[f"{k}-{i}" for i, (k, _) in enumerate(BLOCKS)])
def test_readme_snippet_runs(kind, code, monkeypatch):
    monkeypatch.chdir(ROOT)
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

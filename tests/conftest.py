"""Shared fixtures: the project, its schema, and scratch copies of the tree to build in."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
os.environ["NONCOOP_RESIDENT"] = "off"  # every build.py the tests start runs alone (test_resident.py hands some over)

from noncoop.schema import load_schema  # noqa: E402

PUBLISHED = ["data", "datapackage.json", "croissant.json", "docs/codebook.md", "docs/viewer", "schemas/json", "README.md", "CITATION.cff",
             ".zenodo.json"]


@pytest.fixture(scope="session")
def schema():
    return load_schema()


def unavailable(reason: str) -> None:
    """A tool a test needs is missing: the test fails where CI=true (CI installs every tool it needs
    with pip), and is skipped, with the reason, elsewhere."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI=true requires it")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def release_zip(tmp_path_factory, schema) -> Path:
    """This repository's release archive, built once per test session as `make release` builds it."""
    from noncoop.release import archive
    name, data = archive(ROOT, schema)
    path = tmp_path_factory.mktemp("release") / name
    path.write_bytes(data)
    return path


@pytest.fixture(scope="session")
def release_folder(release_zip) -> Path:
    """The release archive unpacked (`unzip -d`): the folder holding its datapackage.json and SHA256SUMS."""
    folder = release_zip.parent / "unpacked"
    with zipfile.ZipFile(release_zip) as zf:
        zf.extractall(folder)
    return folder


def snapshot(root: Path) -> dict[str, bytes]:
    """Every published file under `root`, as bytes."""
    files = {}
    for rel in PUBLISHED:
        path = root / rel
        if not path.exists():
            continue
        for item in ([path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())):
            files[str(item.relative_to(root))] = item.read_bytes()
    return files


def make_tree(target: Path) -> Path:
    """A copy of the inputs and published outputs, to build in without touching the project."""
    for rel in ("articles", "annotations", "data", "schemas/json", "docs/viewer"):
        shutil.copytree(ROOT / rel, target / rel)
    (target / "docs").mkdir(exist_ok=True)
    shutil.copy(ROOT / "docs/codebook.md", target / "docs/codebook.md")
    shutil.copy(ROOT / "datapackage.json", target / "datapackage.json")
    shutil.copy(ROOT / "croissant.json", target / "croissant.json")
    for rel in ("README.md", "CITATION.cff", ".zenodo.json"):
        shutil.copy(ROOT / rel, target / rel)
    return target


@pytest.fixture
def tree(tmp_path) -> Path:
    return make_tree(tmp_path / "tree")


def without_timings(stderr: str) -> str:
    """`stderr` without the lines `--timings` prints (each `name: {JSON}`)."""
    return re.sub(r"(?m)^[a-z_]+: \{.*\}\n?", "", stderr)


def run_build(root: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "build.py"), "--root", str(root), *args],
                          capture_output=True, text=True, env=env, timeout=300)


"""`noncoop.load` reads any release, a folder or a .zip, typed from that release's own
datapackage.json: from a copy of the library with no schemas/ beside it, as after `pip install`."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from conftest import ROOT
from noncoop import load
from noncoop.load import describe

DESCRIPTOR = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))
EXPECTED = {"string": "string", "integer": "Int64", "number": "Float64", "boolean": "boolean", "date": "datetime64[s]"}


def _package_files(csv_only: bool = False) -> list[str]:
    files = ["datapackage.json"]
    for resource in DESCRIPTOR["resources"]:
        files.append(resource["path"])
        if not csv_only:
            files.append(resource["parquet"]["path"])
    return files


def _zip(target: Path, folder: str = "", csv_only: bool = False) -> Path:
    with zipfile.ZipFile(target, "w") as archive:
        for rel in _package_files(csv_only):
            archive.write(ROOT / rel, folder + rel)
    return target


@pytest.fixture(scope="module")
def frames():
    return load()


def test_every_column_is_typed_as_its_descriptor_declares(frames):
    for resource in DESCRIPTOR["resources"]:
        frame = frames[resource["name"]]
        assert list(frame.columns) == [f["name"] for f in resource["schema"]["fields"]]
        for field in resource["schema"]["fields"]:
            column = frame[field["name"]]
            if "categories" in field:
                assert isinstance(column.dtype, pd.CategoricalDtype), field["name"]
                assert list(column.cat.categories) == [c["value"] for c in field["categories"]]
                assert column.cat.ordered is field.get("categoriesOrdered", False)
            else:
                assert str(column.dtype) == EXPECTED[field["type"]], (resource["name"], field["name"], column.dtype)


@pytest.mark.parametrize("folder", ["", "occupied-ukraine-noncooperation-2022-0.0.0/"])
def test_a_zip_loads_the_same_frames(tmp_path, frames, folder):
    archive = _zip(tmp_path / "release.zip", folder)
    for name, frame in load(root=archive).items():
        pd.testing.assert_frame_equal(frame, frames[name])


def test_csv_alone_loads_the_same_frames_as_parquet(tmp_path, frames):
    archive = _zip(tmp_path / "csv-only.zip", csv_only=True)
    for name, frame in load(root=archive).items():
        pd.testing.assert_frame_equal(frame, frames[name], obj=name)


def test_a_pip_installed_copy_loads_a_release_folder_anywhere(tmp_path):
    site, release = tmp_path / "site", tmp_path / "release"
    shutil.copytree(ROOT / "src" / "noncoop", site / "noncoop")  # as `pip install` leaves it: no schemas/
    for rel in _package_files():
        (release / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / rel, release / rel)
    _zip(tmp_path / "release.zip", "somewhere/")
    script = ("import sys; from noncoop import load; e = load('events', root=sys.argv[1]); "
              "z = load('events', root=sys.argv[2]); assert e.equals(z); "
              "print(len(e), e.date_start.dtype, e.date_precision.dtype.ordered, e.violent.dtype)")
    result = subprocess.run([sys.executable, "-c", script, str(release), str(tmp_path / "release.zip")],
                            cwd=tmp_path, env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split()[1:] == ["datetime64[s]", "True", "boolean"]


def test_a_path_outside_the_package_is_refused(tmp_path):
    descriptor = json.loads(json.dumps(DESCRIPTOR))
    descriptor["resources"][0]["path"] = "../../etc/passwd"
    descriptor["resources"][0].pop("parquet")
    (tmp_path / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    with pytest.raises(ValueError, match="not a path inside the package"):
        load(descriptor["resources"][0]["name"], root=tmp_path)


def test_a_folder_without_a_descriptor_says_what_to_pass(tmp_path):
    with pytest.raises(FileNotFoundError, match="pass root="):
        load("events", root=tmp_path)


def test_describe_reads_the_descriptor():
    table = describe("events")
    assert list(table.column) == [f["name"] for f in DESCRIPTOR["resources"][[r["name"] for r in DESCRIPTOR["resources"]].index("events")]["schema"]["fields"]]
    assert table.set_index("column").loc["status", "codes"]

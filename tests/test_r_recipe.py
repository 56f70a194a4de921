"""README's R recipe, run by R itself (Debian's r-base-core, readr, jsonlite, haven) in the unpacked
release archive: every column typed from datapackage.json, the release's Stata files read by haven.
Skipped, with the reason, where R or one of those packages is not installed (.ci/run installs them)."""
from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
R_BLOCKS = re.findall(r"^```r\n(.*?)^```", README, re.M | re.S)
RSCRIPT = shutil.which("Rscript")
PACKAGES = ("readr", "jsonlite", "haven")


def _missing_packages() -> list[str]:
    check = "cat(Filter(function(p) !requireNamespace(p, quietly = TRUE), c(%s)))" % ", ".join(f'"{p}"' for p in PACKAGES)
    return subprocess.run([RSCRIPT, "-e", check], capture_output=True, text=True, timeout=120).stdout.split()


@pytest.fixture(scope="module")
def rscript():
    if RSCRIPT is None:
        pytest.skip("Rscript not installed (Debian r-base-core)")
    missing = _missing_packages()
    if missing:
        pytest.skip(f"R packages not installed: {missing} (Debian r-cran-*)")
    return RSCRIPT


def _r_checks(folder) -> str:
    """stopifnot() lines for every events column, generated from the descriptor in `folder`."""
    resource = next(r for r in json.loads((folder / "datapackage.json").read_text())["resources"] if r["name"] == "events")
    checks = []
    for f in resource["schema"]["fields"]:
        column = f"events[[\"{f['name']}\"]]"
        codes = f.get("constraints", {}).get("enum")
        if codes:
            levels = "c(" + ", ".join(json.dumps(c) for c in codes) + ")"
            checks.append(f"is.factor({column}) && identical(levels({column}), {levels}) && "
                          f"is.ordered({column}) == {'TRUE' if f.get('categoriesOrdered') else 'FALSE'}")
        else:
            checks.append({"date": f"inherits({column}, 'Date')", "integer": f"is.integer({column})",
                           "number": f"is.double({column})", "boolean": f"is.logical({column})",
                           "string": f"is.character({column})"}[f["type"]])
    checks.append("nrow(events) == nrow(stata_events) && all(stata_events$event_type == events$event_type)")
    checks.append("inherits(stata_events$date_start, 'Date') && all(stata_events$date_start == events$date_start)")
    return "\n".join(f"stopifnot({c})" for c in checks) + "\ncat('R recipe ok\\n')\n"


def test_readme_has_an_r_recipe():
    assert len(R_BLOCKS) == 1


def test_readme_r_recipe_types_every_column(rscript, tmp_path, release_folder):
    script = tmp_path / "recipe.R"
    script.write_text(R_BLOCKS[0] + "\n" + _r_checks(release_folder), encoding="utf-8")
    result = subprocess.run([rscript, str(script)], cwd=release_folder, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert "R recipe ok" in result.stdout

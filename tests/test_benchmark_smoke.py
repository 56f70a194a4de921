"""The scale benchmark keeps working (a tiny N; no timing is asserted)."""
from __future__ import annotations

import json
import subprocess
import sys

from conftest import ROOT


def test_scale_benchmark_runs_end_to_end_at_tiny_n(tmp_path):
    command = [sys.executable, str(ROOT / "benchmarks/scale.py"), "--articles", "3", "--json", "--repeat", "2",
               "--keep", str(tmp_path / "corpus")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    for key in ("articles", "events", "floor_s", "cold_s", "unchanged_s", "edited_s", "build_s", "frictionless_s",
                "peak_rss_mb", "stages_s", "cold_per_floor", "edited_per_cold", "build_per_cold", "cores",
                "resident_cold_s", "resident_unchanged_s", "resident_edited_s", "resident_edited_per_cold"):
        assert key in report
    assert report["articles"] == 3 and report["events"] == 3 * 28
    assert {"resolve", "tables", "validate", "render", "publish"} <= set(report["stages_s"])
    assert len(report["runs_s"]["build"]) == 2 and report["build_s"] == min(report["runs_s"]["build"])
    assert len(report["runs_s"]["resident_edited"]) == 2
    hashed = report["hashed"]  # a resident check reads again only the edited file; one alone reads every file
    assert 0 < hashed["resident_edited"]["reads"] < hashed["edited"]["reads"]
    assert (tmp_path / "corpus/datapackage.json").is_file()


def test_the_synthetic_corpus_builds_whatever_time_expressions_the_real_events_use(tmp_path, monkeypatch):
    """A valid new article with a time expression of its own must not break the benchmark's corpus."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import scale
    from noncoop.cli import main

    real = scale._templates
    monkeypatch.setattr(scale, "_templates", lambda: [dict(c, time_expression="since early March")
                                                      if "time_expression" in c else c for c in real()])
    scale.generate(tmp_path / "corpus", 2, seed=1)
    assert main(["--root", str(tmp_path / "corpus"), "--check"]) == 0

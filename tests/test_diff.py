"""`build.py diff`: the data diff of a pull request, ID stability and the version bump it requires.

Each scenario edits a committed copy of the project in its working tree and diffs it against HEAD:
the expected diff, refusal or bump is asserted, so the rules of README "Versions" are enforced.
"""
from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
import yaml

from noncoop.cli import main
from noncoop.errors import Location, Problem, github_annotations

from conftest import ROOT, make_tree

A0 = "annotations/000_96b9e111ca13f763.yaml"
SOURCE = Path(A0).stem
GIT = ["git", "-c", "user.name=test", "-c", "user.email=test@example.org"]


@pytest.fixture(scope="module")
def committed(tmp_path_factory) -> Path:
    repo = make_tree(tmp_path_factory.mktemp("repo") / "repo")  # inputs and published outputs
    shutil.copytree(ROOT / "schemas", repo / "schemas", dirs_exist_ok=True)
    for rel in ("VERSION", "CHANGELOG.md"):
        shutil.copy(ROOT / rel, repo / rel)
    subprocess.run([*GIT, "init", "-q", str(repo)], check=True)
    subprocess.run([*GIT, "-C", str(repo), "add", "-A"], check=True)
    subprocess.run([*GIT, "-C", str(repo), "commit", "-qm", "base"], check=True)
    return repo


@pytest.fixture
def repo(committed, tmp_path) -> Path:
    clone = tmp_path / "clone"
    subprocess.run([*GIT, "clone", "-q", str(committed), str(clone)], check=True)
    return clone


def diff(root: Path, *args: str, env: dict | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["diff", "HEAD", "--root", str(root), *args])
    return code, out.getvalue(), err.getvalue()


def edit(root: Path, rel: str, pattern: str, new: str, count: int = 1) -> None:
    path = root / rel
    text, n = re.subn(pattern, new, path.read_text(encoding="utf-8"), count=count, flags=re.M)
    assert n, f"no {pattern!r} in {rel}"
    path.write_text(text, encoding="utf-8")


def retire(root: Path, ident: str) -> None:
    (root / "schemas/retired_ids.yaml").write_text(
        f"retired:\n  - {{id: {ident}, reason: a test retires it, version: 9.9.9}}\n", encoding="utf-8")


def drop_first_quote(root: Path) -> None:
    path = root / A0
    text = path.read_text(encoding="utf-8")
    start = text.index("  - id: q01\n")
    path.write_text(text[:start] + text[text.index("  - id: q02\n"):], encoding="utf-8")


def _summary_limit(root: Path) -> None:
    longest = max(len(e["summary"]) for f in (root / "annotations").glob("0*.yaml")
                  for e in yaml.safe_load(f.read_text(encoding="utf-8"))["events"])
    assert longest < 200
    edit(root, "schemas/fields.yaml", r"^  max_length: 200$", f"  max_length: {longest}")


# (id, edit, exit code, smallest bump, substrings of the report)
SCENARIOS = [
    ("unchanged", lambda root: None, 0, None, ["No change."]),
    ("renumbered-event", lambda root: edit(root, A0, r"^(  - id: )e01$", r"\1e98"), 1, "MINOR",
     [f"event_id {SOURCE}-e01 (published at", "disappeared: restore it, or retire it in schemas/retired_ids.yaml",
      f"added {SOURCE}-e98"]),
    ("deleted-quote", drop_first_quote, 1, "PATCH", [f"quote_id {SOURCE}-q01 (published at", "disappeared"]),
    ("deleted-quote-retired", lambda root: (drop_first_quote(root), retire(root, f"{SOURCE}-q01")), 0, "PATCH",
     [f"removed {SOURCE}-q01"]),
    ("retired-id-comes-back", lambda root: retire(root, f"{SOURCE}-q01"), 1, None,
     [f"quote_id {SOURCE}-q01 was retired in version 9.9.9 (a test retires it) and may never be used again"]),
    ("retyped-field", lambda root: edit(root, "schemas/fields.yaml", r"^(killed:\n  type: )integer$", r"\1number"),
     0, "MAJOR", ["MAJOR: `events.killed` retyped integer -> number"]),
    ("tightened-constraint", _summary_limit, 0, "MAJOR", ["`events.summary` maxLength 200 -> ", "(tightened)"]),
    ("loosened-constraint", lambda root: edit(root, "schemas/fields.yaml", r"^  max_length: 200$", "  max_length: 300"),
     0, "MINOR", ["`events.summary` maxLength 200 -> 300 (loosened)"]),
    ("code-added", lambda root: edit(root, "schemas/vocabularies.yaml", r"^(    occurred: .*)$",
                                     r"\1\n    rumoured: The text reports the event as a rumour."),
     0, "MINOR", ["MINOR: `events.status` codes added: rumoured"]),
    ("row-added", lambda root: edit(root, A0, r"^  - id: q01\n    text: Russification$",
                                    "  - id: q99\n    text: Russification\n    kind: partial\n    event_id: e05\n"
                                    "  - id: q01\n    text: Russification"),
     0, "MINOR", ["quotes: 1 added, 0 removed, 0 changed", f"added {SOURCE}-q99"]),
    ("occurrence-added-changes-no-table", lambda root: edit(root, A0, r"^(    text: )Russification$",
                                                               r"\1Russification\n    occurrence: 1"),
     0, None, ["No change."]),
]


@pytest.mark.parametrize("case, change, code, bump, expected", SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_the_diff_reports_refuses_and_computes_the_bump(repo, case, change, code, bump, expected):
    change(repo)
    status, out, err = diff(repo)
    assert status == code, out + err
    assert f"allow: {bump}" in out if bump else "allow:" not in out
    for text in expected:
        assert text in out + err, f"{text!r} not in:\n{out}{err}"
    assert "Traceback" not in err


def test_a_span_moved_to_other_words_is_listed_as_a_change_of_meaning(repo):
    edit(repo, A0, r"^(    evidence: )Kyiv stepped up efforts to recapture the key city of Kherson.*$", r"\1Kyiv stepped up efforts")
    status, out, _ = diff(repo)
    assert status == 0
    assert f"event_id {SOURCE}-e01: evidence changed" in out and "confirm it still names the same event" in out


def test_release_check_refuses_a_version_below_the_bump_and_a_missing_changelog_entry(repo):
    edit(repo, "schemas/vocabularies.yaml", r"^(    occurred: .*)$", r"\1\n    rumoured: The text reports a rumour.")
    version = (repo / "VERSION").read_text().strip()
    status, _, err = diff(repo, "--check-release")
    assert status == 1 and f"VERSION is {version}, but the changes since HEAD need at least" in err
    major, minor, _ = version.split(".")
    (repo / "VERSION").write_text(f"{major}.{int(minor) + 1}.0\n")
    status, _, err = diff(repo, "--check-release")
    assert status == 1 and f"CHANGELOG.md has no entry `## [{major}.{int(minor) + 1}.0]" in err
    changelog = repo / "CHANGELOG.md"
    changelog.write_text(changelog.read_text().replace("## [Unreleased]", f"## [Unreleased]\n\n## [{major}.{int(minor) + 1}.0] - 2026-12-01"))
    status, _, err = diff(repo, "--check-release")
    assert status == 0, err


def test_the_markdown_diff_goes_to_the_job_summary_in_github_actions(repo, tmp_path, monkeypatch):
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    drop_first_quote(repo)
    diff(repo)
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("## Data diff against HEAD") and "### ID rules broken (refused)" in text


def test_an_unknown_ref_is_one_message(repo):
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        assert main(["diff", "no-such-ref", "--root", str(repo)]) == 1
    assert err.getvalue().startswith("build.py diff: no-such-ref: not a commit") and "Traceback" not in err.getvalue()


def test_check_problems_become_workflow_annotations_in_github_actions(repo):
    edit(repo, A0, r"^(    status: )planned$", r"\1planed")
    result = subprocess.run([sys.executable, str(ROOT / "build.py"), "--root", str(repo), "--check"],
                            capture_output=True, text=True, env={"GITHUB_ACTIONS": "true", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines and all(re.fullmatch(r"::error file=[^,:]+,line=\d+,col=\d+,title=[^:]+::.+", line) for line in lines)
    assert f"::error file={A0},line=" in lines[0] and "got 'planed'" in lines[0]
    plain = subprocess.run([sys.executable, str(ROOT / "build.py"), "--root", str(repo), "--check"],
                           capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert "::error" not in plain.stdout + plain.stderr  # plain output everywhere else


def test_annotation_commands_escape_what_github_would_misread():
    problem = Problem(Location("annotations/a,b:c.yaml", 3, 4), "events[0].notes", "50%", "one line,\nnot two")
    line = github_annotations([problem])
    assert line.startswith("::error file=annotations/a%2Cb%3Ac.yaml,line=3,col=4,title=events[0].notes::")
    assert "\n" not in line and "'50%25'" in line and "one line,%0Anot two" in line


def _hooks(path: Path) -> dict[str, dict]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    hooks = data if isinstance(data, list) else [h for repo in data["repos"] for h in repo["hooks"]]
    return {h["id"]: {k: h.get(k) for k in ("entry", "language", "files", "pass_filenames")} for h in hooks}


def test_the_local_pre_commit_config_runs_the_hooks_the_repository_offers():
    assert _hooks(ROOT / ".pre-commit-config.yaml") == _hooks(ROOT / ".pre-commit-hooks.yaml")


def test_pre_commit_runs_the_check_and_refuses_a_broken_annotation(repo, tmp_path):
    shutil.copy(ROOT / ".pre-commit-config.yaml", repo)
    shutil.copy(ROOT / "build.py", repo)
    shutil.copytree(ROOT / "src", repo / "src")
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "PRE_COMMIT_HOME": str(tmp_path / "cache"),
           "HOME": str(tmp_path)}
    command = [str(Path(sys.executable).parent / "pre-commit"), "run", "--all-files"]
    clean = subprocess.run(command, cwd=repo, capture_output=True, text=True, env=env, timeout=600)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    edit(repo, A0, r"^(    status: )planned$", r"\1planed  ")
    broken = subprocess.run(command, cwd=repo, capture_output=True, text=True, env=env, timeout=600)
    assert broken.returncode == 1
    assert f"{A0}:" in broken.stdout and "got 'planed'" in broken.stdout  # the check's located message
    assert "annotation YAML has no trailing whitespace" in broken.stdout and "Failed" in broken.stdout

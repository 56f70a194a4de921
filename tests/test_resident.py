"""The resident process (`build.py serve`, resident.py): a run handed to it prints, writes and exits
as the same run of build.py alone does; Ctrl-C reaches it; changed code is never served."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, make_tree, snapshot, without_timings
from noncoop import cache
from noncoop.resident import answers

BUILD = str(ROOT / "build.py")


def _serve(build: str, env: dict, *args: str) -> subprocess.Popen:
    server = subprocess.Popen([sys.executable, build, "serve", *args], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    path = Path(env["NONCOOP_RESIDENT"])
    deadline = time.monotonic() + 60
    while not answers(str(path)):
        assert server.poll() is None, server.stderr.read()
        assert time.monotonic() < deadline, "build.py serve did not listen within 60 s"
        time.sleep(0.05)
    return server


def _stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        server.wait(30)


@pytest.fixture
def served(tmp_path):
    """The environment that hands runs to a `build.py serve` of this test's own."""
    env = {**os.environ, "NONCOOP_RESIDENT": str(tmp_path / "resident" / "socket")}
    server = _serve(BUILD, env)
    yield env
    _stop(server)


def _run(env: dict, *args: str, cwd: Path | None = None, python: tuple[str, ...] = (), build: str = BUILD,
         **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *python, build, *args], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=300, **kwargs)


def _alone(env: dict) -> dict:
    return {**env, "NONCOOP_RESIDENT": "off"}


def _imported_pandas(result: subprocess.CompletedProcess) -> bool:
    """Whether the process run with `-X importtime` imported pandas itself."""
    return any(line.startswith("import time:") and line.split("|")[-1].strip() == "pandas"
               for line in result.stderr.splitlines())


def _break(tree: Path) -> None:
    path = sorted((tree / "annotations").glob("[0-9]*.yaml"))[0]
    path.write_text(path.read_text(encoding="utf-8").replace("event_type: ", "event_type: NOT_A_TYPE_", 1),
                    encoding="utf-8")


@pytest.mark.parametrize("case", ["check passes", "check fails", "unknown option", "show"])
def test_a_handed_run_prints_and_exits_as_the_same_run_alone(served, tree, case):
    if case == "check fails":
        _break(tree)
    args = {"check passes": ["--check", "--root", "tree"], "check fails": ["--check", "--root", "tree"],
            "unknown option": ["--check", "--no-such-option"], "show": ["show", "--root", "tree", "000_96b9e111ca13f763-e01"]}[case]
    handed = _run(served, *args, cwd=tree.parent, python=("-X", "importtime"))
    alone = _run(_alone(served), *args, cwd=tree.parent)
    assert not _imported_pandas(handed), "the run was not handed over"
    stderr = "\n".join(line for line in handed.stderr.splitlines() if not line.startswith("import time:"))
    assert (handed.returncode, handed.stdout, stderr) == (alone.returncode, alone.stdout, alone.stderr.rstrip("\n"))
    assert handed.returncode == {"check passes": 0, "check fails": 1, "unknown option": 2, "show": 0}[case]


def test_without_a_resident_process_build_py_runs_alone(tmp_path, tree):
    env = {**os.environ, "NONCOOP_RESIDENT": str(tmp_path / "resident" / "socket")}
    result = _run(env, "--check", "--root", str(tree), python=("-X", "importtime"))
    assert result.returncode == 0, result.stderr
    assert _imported_pandas(result)


def test_a_build_handed_over_writes_what_a_build_alone_writes_with_the_callers_umask(served, tmp_path):
    trees = [make_tree(tmp_path / name) for name in ("handed", "alone")]
    for tree in trees:
        shutil.rmtree(tree / "data")
    restricted = {"preexec_fn": lambda: os.umask(0o077)}
    handed = _run(served, "--root", str(trees[0]), **restricted)
    alone = _run(_alone(served), "--root", str(trees[1]), **restricted)
    assert (handed.returncode, handed.stdout) == (alone.returncode, alone.stdout) == (0, alone.stdout)
    assert snapshot(trees[0]) == snapshot(trees[1])
    modes = [{p.relative_to(t): p.stat().st_mode for p in (t / "data").iterdir()} for t in trees]
    assert modes[0] == modes[1]


def _hashed(result: subprocess.CompletedProcess) -> int:
    """How many times the run (with --timings) read a file to hash it."""
    line = next(line for line in result.stderr.splitlines() if line.startswith("hashed: "))
    return json.loads(line.removeprefix("hashed: "))["reads"]


def test_a_check_handed_over_reads_again_only_the_files_changed_since_an_earlier_run_read_them(served, tree):
    inputs = len(list((tree / "annotations").iterdir())) + len(list((tree / "articles").iterdir()))
    built = _run(served, "--timings", "--root", str(tree))
    assert built.returncode == 0 and _hashed(built) >= inputs, built.stderr
    time.sleep(cache.SETTLED_NS / 1e9 + 0.2)  # (a file written just before it is hashed is always read again)
    first = _run(served, "--check", "--timings", "--root", str(tree))
    assert first.returncode == 0 and _hashed(first) > inputs, first.stderr
    again = _run(served, "--check", "--timings", "--root", str(tree))
    assert again.returncode == 0 and _hashed(again) == 0, again.stderr
    built = _run(served, "--timings", "--root", str(tree))  # a build trusts only what it hashes itself
    assert built.returncode == 0 and _hashed(built) >= inputs, built.stderr
    path = tree / "annotations" / "000_96b9e111ca13f763.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("Ukraine steps up", "Ukraine stepz up", 1), encoding="utf-8")  # (the same size)
    time.sleep(cache.SETTLED_NS / 1e9 + 0.2)
    edited = _run(served, "--check", "--timings", "--root", str(tree))
    alone = _run(_alone(served), "--check", "--timings", "--root", str(tree))
    assert _hashed(edited) == 1
    assert edited.returncode == alone.returncode == 1
    assert "data/events.csv" in edited.stderr
    assert (edited.stdout, without_timings(edited.stderr)) == (alone.stdout, without_timings(alone.stderr))


def test_ctrl_c_reaches_the_handed_run(served, tree):
    env = {**served, "NONCOOP_PAUSE_AT": "validated"}
    caller = subprocess.Popen([sys.executable, BUILD, "--check", "--root", str(tree)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert caller.stdout.readline() == "paused at validated\n"
    caller.send_signal(signal.SIGINT)
    out, err = caller.communicate(timeout=60)
    assert caller.returncode == 130
    assert "interrupted (Ctrl-C); nothing was written" in err


def test_a_caller_that_dies_interrupts_its_run_and_the_process_serves_on(served, tree):
    env = {**served, "NONCOOP_PAUSE_AT": "validated"}
    caller = subprocess.Popen([sys.executable, BUILD, "--root", str(tree)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert caller.stdout.readline() == "paused at validated\n"
    before = snapshot(tree)
    caller.kill()
    caller.wait(30)
    # the run holds the caller's stderr until it ends: reading it to the end waits for that
    assert "interrupted (Ctrl-C); nothing published changed" in caller.stderr.read()
    assert snapshot(tree) == before
    result = _run(served, "--check", "--root", str(tree), python=("-X", "importtime"))
    assert result.returncode == 0 and not _imported_pandas(result)


@pytest.fixture
def project(tmp_path) -> Path:
    """A copy of the project's code and schemas, to change without touching this one."""
    copy = tmp_path / "project"
    shutil.copytree(ROOT / "src" / "noncoop", copy / "src" / "noncoop", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "schemas", copy / "schemas")
    for name in ("build.py", "VERSION"):
        shutil.copy(ROOT / name, copy / name)
    return copy


def test_changed_code_is_never_served(tmp_path, project, tree):
    path = tmp_path / "resident" / "socket"
    env = {**os.environ, "NONCOOP_RESIDENT": str(path)}
    build = str(project / "build.py")
    server = _serve(build, env)
    try:
        first = _run(env, "--check", "--root", str(tree), build=build, python=("-X", "importtime"))
        assert first.returncode == 0 and not _imported_pandas(first)
        with open(project / "src" / "noncoop" / "show.py", "a", encoding="utf-8") as f:
            f.write("\n# changed\n")
        changed = _run(env, "--check", "--root", str(tree), build=build, python=("-X", "importtime"))
        assert changed.returncode == 0, changed.stderr
        assert "was started with other code or libraries; it stops, and this run goes on here" in changed.stderr
        assert _imported_pandas(changed)
        server.wait(30)
        assert not path.exists()
    finally:
        _stop(server)


def test_a_socket_in_a_folder_others_may_enter_is_not_used(served, tree):
    folder = Path(served["NONCOOP_RESIDENT"]).parent
    folder.chmod(0o755)
    result = _run(served, "--check", "--root", str(tree), python=("-X", "importtime"))
    assert result.returncode == 0 and _imported_pandas(result)


def test_without_sockets_that_pass_files_build_py_runs_alone(served, monkeypatch):
    from noncoop import resident
    monkeypatch.setenv("NONCOOP_RESIDENT", served["NONCOOP_RESIDENT"])
    monkeypatch.delattr(socket, "send_fds")
    assert resident.hand_over(str(ROOT), ["--check"]) is None


def test_one_resident_process_per_socket(served):
    second = _run(served, "serve")
    assert second.returncode == 1
    assert "a resident process already serves" in second.stderr


def test_an_idle_resident_process_stops_and_removes_its_socket(tmp_path):
    path = tmp_path / "resident" / "socket"
    server = _serve(BUILD, {**os.environ, "NONCOOP_RESIDENT": str(path)}, "--idle", "0.02")  # 1.2 s
    try:
        assert server.wait(60) == 0
        assert not path.exists()
    finally:
        _stop(server)


def test_a_request_is_read_as_a_literal_and_nothing_else():
    from noncoop.resident import _request
    request = {"argv": ["--check"], "cwd": "/", "env": {"A": "\udcff é"}, "umask": 0o22, "cores": None}
    assert _request(repr(request).encode("utf-8")) == request
    for body in (b"__import__('os').system('false')", b"{'argv': []}", b"[1, 2]", b"{[]: 1}", b"\xff", b"(" * 10_000):
        with pytest.raises(ValueError):
            _request(body)

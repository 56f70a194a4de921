"""Faults of the operating system, not of the inputs: each ends in one message naming the path and
what to do, a non-zero exit (130 for Ctrl-C), no traceback, and published files all old or all new.

Permissions are real (chmod) and the build runs without the power to ignore them: as root it drops
CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH (util-linux `setpriv`). A full disk and a failing rename
are injected into the build's process (the system call raises what the kernel would).
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from conftest import ROOT, make_tree, run_build, snapshot
from test_build_cli import _changed_tree as _changed

ARTICLE = "articles/000_96b9e111ca13f763.txt"
ANNOTATION = "annotations/001_df0a884ed00454f2.yaml"
UNPRIVILEGED = ["setpriv", "--inh-caps=-dac_override,-dac_read_search",
                "--bounding-set=-dac_override,-dac_read_search"] if os.geteuid() == 0 else []


def _chmod(rel: str, mode: int, change: bool = False) -> Callable[[Path], None]:
    def prepare(tree: Path) -> None:
        if change:
            _changed(tree)
        os.chmod(tree / rel, mode)
    return prepare


def _inject(call: str, when: str, error: str) -> str:
    """Python run in the build's process before it starts: `call` raises `error` when `when` holds."""
    module, name = call.rsplit(".", 1)
    return (f"import errno, os, pathlib\n"
            f"_real = {call}\n"
            f"def _faulty(*args, **kwargs):\n"
            f"    if {when}:\n"
            f"        raise {error}\n"
            f"    return _real(*args, **kwargs)\n"
            f"{module}.{name} = _faulty\n")


@dataclass
class Fault:
    id: str
    names: str  # the path the message must name
    prepare: Callable[[Path], None] = _changed
    inject: str = ""  # Python run in the build's process first
    interrupt_at: str | None = None  # send SIGINT when the build pauses here ("" : 0.3 s after it starts)
    committed: bool = False  # the fault strikes after the commit point: the next run completes the publish

    @property
    def code(self) -> int:
        return 1 if self.interrupt_at is None else 130


FAULTS = [
    Fault("unreadable-article", ARTICLE, _chmod(ARTICLE, 0)),
    Fault("unreadable-annotation", ANNOTATION, _chmod(ANNOTATION, 0)),
    Fault("unreadable-annotations-folder", "annotations", _chmod("annotations", 0)),
    Fault("read-only-data-folder", "data", _chmod("data", 0o555, change=True)),
    Fault("read-only-docs-folder", "docs/viewer", _chmod("docs/viewer", 0o555, change=True)),
    Fault("disk-full", ".build-staging/data/",
          inject=_inject("pathlib.Path.write_bytes", "'.build-staging' in str(args[0])",
                         "OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))")),
    Fault("rename-fails-after-commit", "data/events.csv", committed=True,
          inject=_inject("os.replace", "str(args[1]).endswith('data/events.csv')",
                         "OSError(errno.EIO, os.strerror(errno.EIO), str(args[0]), None, str(args[1]))")),
    Fault("ctrl-c-while-loading", "", interrupt_at=""),
    Fault("ctrl-c-after-validation", "", interrupt_at="validated"),
    Fault("ctrl-c-while-staging", "", interrupt_at="staged"),
    Fault("ctrl-c-before-commit", "", interrupt_at="before-commit"),
    Fault("ctrl-c-after-commit", "", interrupt_at="committed", committed=True),
]


def _run(tree: Path, fault: Fault) -> subprocess.CompletedProcess:
    build = [str(ROOT / "build.py"), "--root", str(tree)]
    if fault.interrupt_at is not None:
        env = {**os.environ, "NONCOOP_PAUSE_AT": fault.interrupt_at, "NONCOOP_PAUSE_SECONDS": "30"}
        process = subprocess.Popen([sys.executable, *build], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True, env=env)
        if fault.interrupt_at:
            assert process.stdout.readline().strip() == f"paused at {fault.interrupt_at}"
        else:
            time.sleep(0.3)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
        return subprocess.CompletedProcess(build, process.returncode, out, err)
    if fault.inject:
        runner = f"{fault.inject}\nimport runpy, sys\nsys.argv = {build!r}\nrunpy.run_path(sys.argv[0], run_name='__main__')"
        command = [sys.executable, "-c", runner]
    else:
        command = [*UNPRIVILEGED, sys.executable, *build]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


@pytest.mark.skipif(os.geteuid() == 0 and not shutil.which("setpriv"), reason="root without setpriv ignores chmod")
@pytest.mark.parametrize("fault", FAULTS, ids=[f.id for f in FAULTS])
def test_an_os_fault_ends_in_one_message_and_changes_no_published_byte(tree, fault):
    reference = make_tree(tree.parent / "reference")
    _changed(reference)
    assert run_build(reference).returncode == 0
    fault.prepare(tree)
    before = snapshot(tree)
    try:
        result = _run(tree, fault)
    finally:
        for path in (tree, *tree.rglob("*")):
            if not path.is_symlink():
                os.chmod(path, 0o755 if path.is_dir() else 0o644)
    message = result.stderr.strip()
    assert result.returncode == fault.code, message
    assert "Traceback" not in message and len(message.splitlines()) == 1, message
    assert message.startswith("build.py: ") and fault.names in message, message
    if fault.committed:
        assert "run `make data` again" in message and "complete" in message, message
        assert all(data in (before[rel], snapshot(reference)[rel]) for rel, data in snapshot(tree).items())
        assert run_build(tree).returncode == 0  # the next run completes the publish
        assert snapshot(tree) == snapshot(reference)
    else:
        assert "nothing published changed" in message, message
        assert snapshot(tree) == before
        assert not os.path.lexists(tree / ".build-staging")

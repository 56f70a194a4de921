"""Input files are hashed once per process (cache.file_sha256), and again whenever they may have
changed: a different inode, size or time, or a write too recent for its times to prove anything."""
from __future__ import annotations

import hashlib
import os
import time

from noncoop import cache


def _digest(data: bytes) -> str:
    return hashlib.new("sha256", data).hexdigest()


def test_a_file_rewritten_in_the_same_clock_tick_is_hashed_again(tmp_path, monkeypatch):
    path = tmp_path / "a.yaml"
    path.write_bytes(b"aaaa")
    frozen = os.stat(path)  # a coarse clock: the rewrite below leaves inode, size and times alike
    monkeypatch.setattr(cache.os, "fstat", lambda fd: frozen)
    assert cache.file_sha256(path) == _digest(b"aaaa")
    path.write_bytes(b"bbbb")
    assert cache.file_sha256(path) == _digest(b"bbbb")


def test_a_settled_file_is_read_once_and_again_after_a_change(tmp_path, monkeypatch):
    path = tmp_path / "b.yaml"
    path.write_bytes(b"first")
    now = time.time_ns
    monkeypatch.setattr(cache.time, "time_ns", lambda: now() + 10 * cache.SETTLED_NS)  # long after writing
    assert cache.file_sha256(path) == _digest(b"first")
    reads = []
    monkeypatch.setattr(cache.hashlib, "sha256", lambda *a: reads.append(a) or hashlib.new("sha256", *a))
    assert cache.file_sha256(path) == _digest(b"first") and not reads
    path.write_bytes(b"second!")
    assert cache.file_sha256(path) == _digest(b"second!") and reads
    with path.open("rb") as f:  # an opened file is looked up by its path and its own fstat
        assert cache.file_sha256(path, f) == _digest(b"second!")


def test_a_tree_digest_opens_only_the_files_changed_since_this_run_hashed_them(tmp_path, monkeypatch):
    folder = tmp_path / "annotations"
    folder.mkdir()
    for name in ("a.yaml", "b.yaml"):
        (folder / name).write_bytes(name.encode())
    now = time.time_ns
    monkeypatch.setattr(cache.time, "time_ns", lambda: now() + 10 * cache.SETTLED_NS)  # long after writing
    first = cache.tree_digest(tmp_path, "annotations")
    opened = []
    monkeypatch.setattr(cache, "open", lambda name, *a: opened.append(os.path.basename(name)) or open(name, *a),
                        raising=False)
    assert cache.tree_digest(tmp_path, "annotations") == first and not opened
    (folder / "b.yaml").write_bytes(b"changed")
    assert cache.tree_digest(tmp_path, "annotations") != first and opened == ["b.yaml"]


def test_hashes_another_process_gives_are_taken_while_their_files_are_unchanged(tmp_path, monkeypatch):
    path = tmp_path / "c.yaml"
    path.write_bytes(b"given")
    monkeypatch.setattr(cache, "_HASHED", {})
    monkeypatch.setattr(cache, "_NEW", set())
    now = time.time_ns
    monkeypatch.setattr(cache.time, "time_ns", lambda: now() + 10 * cache.SETTLED_NS)
    cache.file_sha256(path)
    given = cache.new_hashes()
    cache.forget_hashes()
    assert cache.hashed(str(path), os.stat(path)) is None
    for garbage in (b"", b"not json", b"[1, 2]", b'{"x": 1}', b'{"x": [[1, 2], "d"]}'):
        cache.learn_hashes(garbage)
    assert cache._HASHED == {}
    cache.learn_hashes(given)
    assert cache.hashed(str(path), os.stat(path)) == _digest(b"given")
    path.write_bytes(b"taken")  # the same size: its times tell
    assert cache.hashed(str(path), os.stat(path)) is None

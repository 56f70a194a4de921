"""What the published outputs were built from, so that a check need not render them again.

`render()` is a pure function of the tables, the article texts, the schemas and the code, and
README.md. Their `fingerprint` keys a signed cache entry (cache.py) that maps every output, in
the order `render()` yields them, to the SHA-256 of its bytes: a build writes it after
publishing, and a check that rendered every output and found them all equal to the published
files writes it too. A later check with the same fingerprint compares the files on disk with
those digests instead of rendering (a file whose size, times and inode are those recorded is not
read again, as git does). README.md is both an input and an output, so it is recorded without a
digest and always rendered to compare (it is cheap).

When no entry has the current fingerprint, the outputs on disk are those of the latest record,
and only the data changed (same code and schemas), the outputs are stale for certain: every table
is also published as Parquet, which keeps every value, so a changed table means a changed file.
The check then names the changed tables without rendering. Anything else renders and compares.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .cache import Cache, code_digest, combined, sha256
from .errors import Problem
from .read import link_on_path
from .write import published_as, table_paths

_LATEST = "latest"


def row_hashes(df: pd.DataFrame) -> np.ndarray:
    """pandas' 64-bit hash of each row's values (the same for the same values however the frame
    was built, and whatever rows stand beside it)."""
    return pd.util.hash_pandas_object(df, index=False).to_numpy() if len(df) else np.zeros(0, np.uint64)


def dtypes_of(df: pd.DataFrame) -> str:
    return repr([(c, str(t)) for c, t in df.dtypes.items()])


def frame_digest(dtypes: str, hashes: np.ndarray) -> str:
    """A table's digest from its dtypes (`dtypes_of`) and its rows' hashes (`row_hashes`): SHA-256
    of the dtypes, the length and the hashes in sorted order. Tables are sorted by their unique
    primary keys, so the rows fix the order, and a table changed in a few rows is digested again
    from the other rows' hashes (delta.py)."""
    h = hashlib.sha256(dtypes.encode())
    h.update(len(hashes).to_bytes(8, "big"))
    h.update(np.sort(hashes).tobytes())
    return h.hexdigest()


def texts_digest(digests: dict[str, str]) -> str:
    """The article texts: source_id -> SHA-256 of the text (UTF-8)."""
    return combined(*(part for k in sorted(digests) for part in (k, digests[k])))


@dataclass
class Fingerprint:
    """What the outputs are made of: the data (tables and texts) and the code and schemas."""

    tables: dict[str, str]
    texts: str
    code: str

    @property
    def key(self) -> str:
        return combined(self.code, self.texts, *(part for item in sorted(self.tables.items()) for part in item))


@dataclass
class Verdict:
    """What a check of some inputs found, by a full check or a delta check (delta.py): kept in the
    cache under the inputs' digest (`cli._inputs_key`)."""

    problems: list[Problem]
    counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # reference notes (stdout)
    hints: list[str] = field(default_factory=list)  # completeness notes
    fingerprint: Fingerprint | None = None


def fingerprint(schema, frames: dict[str, pd.DataFrame], texts: dict[str, str],
                hashes: dict[str, np.ndarray] | None = None) -> Fingerprint:
    """The fingerprint of validated `frames` and `texts` (with `hashes`, their `row_hashes`)."""
    hashes = hashes or {name: row_hashes(df) for name, df in frames.items()}
    digests = {name: frame_digest(dtypes_of(df), hashes[name]) for name, df in frames.items()}
    return Fingerprint(digests, texts_digest({k: sha256(t.encode("utf-8")) for k, t in texts.items()}), code_of(schema))


def code_of(schema) -> str:
    """The code and the schemas the outputs are made with."""
    return combined(code_digest(), schema.digest)


def _signature(path: str | Path) -> tuple | None:
    try:
        s = os.lstat(path)
    except OSError:
        return None
    return s.st_size, s.st_mtime_ns, s.st_ctime_ns, s.st_ino, s.st_mode


@dataclass
class Record:
    """The outputs a build made, in order: path -> SHA-256 (None: compared by rendering it, see
    `rendered`), and the file signatures seen when recorded."""

    fingerprint: Fingerprint
    digests: dict[str, str | None]
    signatures: dict[str, tuple | None] = field(default_factory=dict)

    def differ(self, root: Path, rendered: dict[str, bytes] | None, trust_signatures: bool = True) -> list[str]:
        """The recorded outputs whose file on disk is missing, a link, or not the recorded bytes (for
        those without a digest: not the bytes in `rendered`, or skipped if it is None); with
        `trust_signatures`, a file whose signature is the recorded one is not read."""
        differ, top = [], os.fspath(root)
        for rel, digest in self.digests.items():
            if digest is None and rendered is None:
                continue
            if digest is None:
                if rel not in rendered or not published_as(root, rel, rendered[rel]):
                    differ.append(rel)
                continue
            signature = _signature(os.path.join(top, rel))  # (a str: 10,000 Path objects cost 0.1 s)
            if trust_signatures and signature is not None and signature == self.signatures.get(rel):
                continue
            path = root / rel
            if link_on_path(root, rel) or not path.is_file() or sha256(path.read_bytes()) != digest:
                differ.append(rel)
        return differ


def save(cache: Cache, root: Path, fp: Fingerprint, digests: dict[str, str | None], keep: int = 20) -> None:
    """Record `digests` (every output, in render order) as what `fp` produces, and as the latest."""
    if not cache:
        return
    record = Record(fp, digests, {rel: _signature(root / rel) for rel, digest in digests.items() if digest})
    cache.put("outputs", fp.key, record)
    cache.put("outputs", _LATEST, record)  # the newest entry: never pruned
    cache.prune("outputs", keep)


def known_differences(cache: Cache, root: Path, fp: Fingerprint, rendered: dict[str, bytes],
                      trust_signatures: bool = True) -> tuple[list[str], str] | None:
    """(outputs that differ, how this is known) without rendering more than `rendered` (the
    outputs that are always rendered), or None when only rendering everything can tell."""
    record = cache.get("outputs", fp.key) if cache else None
    if isinstance(record, Record):
        return record.differ(root, rendered, trust_signatures), "record"
    latest = cache.get("outputs", _LATEST) if cache else None
    if not isinstance(latest, Record) or latest.fingerprint.code != fp.code or latest.differ(root, None, trust_signatures):
        return None
    changed = sorted(name for name in set(fp.tables) | set(latest.fingerprint.tables)
                     if fp.tables.get(name) != latest.fingerprint.tables.get(name))
    if not changed:
        return None  # only the texts changed: which pages differ, rendering tells
    return [path for name in changed for path in table_paths(name)], "tables"

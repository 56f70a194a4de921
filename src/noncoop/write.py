"""Write stage: typed Parquet and RFC 4180 CSV bytes, and an atomic, recoverable publish.

Bytes depend only on the inputs: rows are sorted by primary key, writer options are pinned, no
clock is read. Publishing stages every output next to its target, then writes a commit record
(the commit point), then renames each staged file over its target. A build killed before the
commit point leaves every published file untouched (the stale staging folder is discarded by
the next run); one killed after it is completed by the next run from the commit record.
"""
from __future__ import annotations

import csv
import errno
import fcntl
import io
import json
import os
import shutil
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Container, Iterable, Iterator

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .read import link_on_path
from .schema import Field, Schema, Table
from .tables import ARROW_TYPES, typed

STAGING = ".build-staging"
COMMIT = "COMMIT.json"
LOCK = ".build.lock"
MAX_RECORD_BYTES = 64 * 1024 * 1024  # a list of output paths: 10,000 articles need well under 1 MB
_ARROW = {**ARROW_TYPES, "string": pa.string()}  # published text columns have 32-bit offsets


def arrow_field(schema: Schema, table: Table, f: Field) -> pa.Field:
    kind = pa.dictionary(pa.int32(), pa.string(), ordered=schema.ordered(f)) if f.vocabulary else _ARROW[f.type]
    return pa.field(f.name, kind, nullable=f.name not in table.required,
                    metadata={"description": f.description, **({"vocabulary": f.vocabulary} if f.vocabulary else {})})


def arrow_schema(schema: Schema, table: Table) -> pa.Schema:
    """The pyarrow schema of a table: dictionary-encoded enums, descriptions as field metadata."""
    meta = {"table": table.name, "description": table.description, "primary_key": json.dumps(list(table.primary_key)),
            "package": schema.package["name"], "version": str(schema.package["version"])}
    return pa.schema([arrow_field(schema, table, f) for f in table.fields], metadata=meta)


def to_arrow(schema: Schema, table: Table, df: pd.DataFrame) -> pa.Table:
    """The table in Arrow; pandas metadata is kept so that readers restore nullable dtypes."""
    return pa.Table.from_pandas(typed(schema, table, df), schema=arrow_schema(schema, table), preserve_index=False)


def parquet_bytes(arrow: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(arrow, buffer, compression="zstd", compression_level=9, use_dictionary=True,
                   write_statistics=True, version="2.6", data_page_version="1.0", store_schema=True)
    return buffer.getvalue()


def _csv_texts(column: pa.ChunkedArray | pa.Array) -> list[str]:
    """A column's CSV cells: '' for missing, true/false, ISO dates, floats as Python writes them."""
    kind = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
    if pa.types.is_floating(kind):  # repr: the shortest text that reads back as the same number
        return ["" if v is None else repr(v) for v in column.to_pylist()]
    if pa.types.is_boolean(kind):
        column = pc.if_else(column, "true", "false")
    return column.cast(pa.string()).fill_null("").to_pylist()


def _quoted(cell: str) -> str:
    return '"' + cell.replace('"', '""') + '"' if any(c in cell for c in ',"\r\n') else cell


def csv_bytes(arrow: pa.Table) -> bytes:
    """UTF-8, comma, minimal RFC 4180 quoting, LF line ends, true/false, empty = missing.

    Python's writer leaves a lone carriage return unquoted when rows end in LF, which splits
    the row for every reader: rows holding one are quoted here.
    """
    data = io.BytesIO()  # encoded as written: a text buffer would hold the whole table as str first
    buffer = io.TextIOWrapper(data, encoding="utf-8", newline="", write_through=True)
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(arrow.column_names)
    for batch in arrow.to_batches(max_chunksize=10_000):  # Python strings for 10,000 rows at a time
        rows = zip(*(_csv_texts(column) for column in batch.columns))
        if not any(pc.any(pc.match_substring(c.cast(pa.string()), "\r")).as_py()
                   for c in batch.columns if _is_text(c.type)):
            writer.writerows(rows)
            continue
        for row in rows:
            if any("\r" in cell for cell in row):
                buffer.write(",".join(map(_quoted, row)) + "\n")
            else:
                writer.writerow(row)
    buffer.flush()
    return data.getvalue()


def _is_text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind.value_type if pa.types.is_dictionary(kind) else kind)


def render_tables(schema: Schema, frames: dict[str, pd.DataFrame]) -> Iterator[tuple[str, bytes]]:
    """`data/<table>.parquet` and `data/<table>.csv` for every table, as (path, bytes)."""
    for name, table in schema.tables.items():
        arrow = to_arrow(schema, table, frames[name])
        parquet, csv_path = table_paths(name)
        yield parquet, parquet_bytes(arrow)
        yield csv_path, csv_bytes(arrow)


def table_paths(name: str) -> tuple[str, str]:
    """The Parquet and CSV files of table `name`."""
    return f"data/{name}.parquet", f"data/{name}.csv"


def unchanged(path: Path, data: bytes, chunk: int = 1 << 20) -> bool:
    """Whether the file at `path` holds exactly `data` (read a megabyte at a time, not all at once;
    each read asks for no more than is left, and bytes are compared with bytes: both are several
    times faster than reading a megabyte for a page and comparing with a memoryview)."""
    if not path.is_file() or path.stat().st_size != len(data):
        return False
    with path.open("rb") as f:
        return (all(f.read(min(chunk, len(data) - at)) == data[at:at + chunk] for at in range(0, len(data), chunk))
                and not f.read(1))


def published_as(root: Path, rel: str, data: bytes) -> bool:
    """Whether `root/rel` is a regular file, behind no link, holding exactly `data`."""
    return not link_on_path(root, rel) and unchanged(root / rel, data)


class Refused(Exception):
    """Publishing would write through a link or outside the build's own outputs: nothing is written."""


def _read_record(root: Path, allowed: Container[str]) -> list[str]:
    """The paths of the commit record, each checked; raises Refused with the first reason not to trust it."""
    staging, record = root / STAGING, root / STAGING / COMMIT
    if record.is_symlink() or not record.is_file() or record.stat().st_size > MAX_RECORD_BYTES:
        raise Refused(f"{COMMIT} is not a regular file of at most {MAX_RECORD_BYTES} bytes")
    try:
        todo = json.loads(record.read_bytes().decode("utf-8"))
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise Refused(f"{COMMIT} is not JSON ({exc.__class__.__name__})") from None
    if not isinstance(todo, list) or not all(isinstance(rel, str) for rel in todo):
        raise Refused(f"{COMMIT} is not a list of paths")
    for rel in todo:
        if rel not in allowed:
            raise Refused(f"{rel!r} is not one of the build's outputs")
        if link_on_path(staging, rel):
            raise Refused(f"{STAGING}/{link_on_path(staging, rel)} is a symbolic link")
        if link_on_path(root, rel):
            raise Refused(f"{link_on_path(root, rel)} is a symbolic link")
    return todo


def _discard(staging: Path) -> None:
    """Remove the staging folder (a link is removed, never followed)."""
    if staging.is_symlink() or not staging.is_dir():
        staging.unlink()
    else:
        shutil.rmtree(staging)


def recover(root: Path, allowed: Container[str]) -> str | None:
    """Finish a publish that passed its commit point, or discard one that did not.

    The staging folder is not trusted: a record is replayed only when every path in it is one of
    the build's outputs (`allowed`) and neither it, its staged file nor any folder on the way is a
    symbolic link; otherwise the folder is discarded and nothing is moved.
    """
    staging = root / STAGING
    if not os.path.lexists(staging):
        return None
    if staging.is_symlink() or not staging.is_dir():
        _discard(staging)
        return f"discarded {STAGING}: a link or a file, not the build's own folder; nothing was moved"
    if not os.path.lexists(staging / COMMIT):
        _discard(staging)
        return "discarded an interrupted build's staging folder"
    try:
        todo = _read_record(root, allowed)
    except Refused as exc:
        _discard(staging)
        return f"discarded {STAGING}/{COMMIT}: {exc}; nothing was moved"
    for rel in todo:
        staged = staging / rel
        if staged.is_file():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged, root / rel)
    _discard(staging)
    return "completed an interrupted publish"


def publish(root: Path, outputs: Iterable[tuple[str, bytes]], allowed: Container[str],
            pause=lambda point: None) -> list[str]:
    """Replace the changed published files all-or-nothing; return what changed.

    Outputs are consumed one at a time: each changed one is written to the staging folder as it
    comes, so memory holds one output, not the package. Any fault before the commit point (an
    exception, Ctrl-C, a refused link, a folder that cannot be written) removes the staging folder
    and leaves every published file as it was; after it, the next run completes the publish.
    """
    recover(root, allowed)
    staging = root / STAGING
    todo, committed = [], False
    try:
        for rel, data in outputs:
            if rel not in allowed:
                raise Refused(f"{rel} is not one of the build's outputs")
            link = link_on_path(root, rel)
            if link:
                raise Refused(f"{link} is a symbolic link; the build does not write through links: "
                              f"replace it by the {'file' if link == rel else 'folder'} itself")
            if unchanged(root / rel, data):
                continue
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            _write(target, data)
            todo.append(rel)
            pause("staged")
        if not todo:
            return []
        _probe_writable({(root / rel).parent for rel in todo})
        os.sync()  # every staged file is on disk before the commit record can be (one flush, not one per file)
        tmp = staging / (COMMIT + ".tmp")
        _write(tmp, json.dumps(todo).encode("utf-8"))
        _fsync(tmp)
        pause("before-commit")
        os.replace(tmp, staging / COMMIT)  # the commit point
        committed = True
        _fsync(staging)
        pause("committed")
        for rel in todo:
            os.replace(staging / rel, root / rel)
            pause("renamed")
        shutil.rmtree(staging)
    except BaseException:
        if not committed and os.path.lexists(staging):
            shutil.rmtree(staging, ignore_errors=True)
        raise
    return todo


def _write(path: Path, data: bytes) -> None:
    """Write a file; an error names it (a failed write(2), such as a full disk, names no file)."""
    try:
        path.write_bytes(data)
    except OSError as exc:
        exc.filename = exc.filename or str(path)
        raise


def _probe_writable(folders: set[Path]) -> None:
    """Create each folder the publish renames into and a file in it, before the commit point: a
    read-only or missing folder then stops the build while nothing published has changed."""
    for folder in sorted(folders):
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".build-probe-{os.getpid()}"
        try:
            os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600))
        except OSError as exc:
            raise OSError(exc.errno, exc.strerror, str(folder)) from None
        os.unlink(probe)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LockTimeout(Exception):
    """Another build held the lock for longer than this one was allowed to wait."""


@contextmanager
def build_lock(root: Path, shared: bool = False, wait: float | None = None,
               say: Callable[[str], None] = lambda text: None) -> Iterator[None]:
    """Hold the root's `.build.lock`: exclusive for a build, shared for a check (which then never
    compares outputs half published). A waiting run says so once; after `wait` seconds it stops
    with LockTimeout. A check of a root it cannot write runs without the lock."""
    path = root / LOCK
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        if not shared or exc.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise
        yield
        return
    try:
        clock, said = time.monotonic(), False
        while True:
            try:
                fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
                who = f"another build (pid {holder})" if holder.isdigit() else "another build or check"
                if wait is not None and time.monotonic() - clock >= wait:
                    raise LockTimeout(f"{who} still holds {LOCK} after {wait:g} s") from None
                if not said:
                    say(f"waiting for {who} to finish ({LOCK}) ...")
                    said = True
                time.sleep(0.1)
        if not shared:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        try:
            yield
        finally:
            if not shared:
                os.ftruncate(fd, 0)
    finally:
        os.close(fd)

"""Write stage: typed Parquet and RFC 4180 CSV bytes, and an atomic, recoverable publish.

Bytes depend only on the inputs: rows are sorted by primary key, writer options are pinned, no
clock is read. Publishing stages every output next to its target, then writes a commit record
(the commit point), then renames each staged file over its target. A build killed before the
commit point leaves every published file untouched (the stale staging folder is discarded by
the next run); one killed after it is completed by the next run from the commit record.
"""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
from pathlib import Path
from typing import Iterable, Iterator

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .schema import Field, Schema, Table
from .tables import typed

STAGING = ".build-staging"
COMMIT = "COMMIT.json"
_ARROW = {"string": pa.string(), "integer": pa.int64(), "number": pa.float64(), "boolean": pa.bool_(),
          "date": pa.date32()}


def arrow_field(schema: Schema, table: Table, f: Field) -> pa.Field:
    kind = pa.dictionary(pa.int32(), pa.string()) if f.vocabulary else _ARROW[f.type]
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
    buffer = io.StringIO(newline="")
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
    return buffer.getvalue().encode("utf-8")


def _is_text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind.value_type if pa.types.is_dictionary(kind) else kind)


def render_tables(schema: Schema, frames: dict[str, pd.DataFrame]) -> Iterator[tuple[str, bytes]]:
    """`data/<table>.parquet` and `data/<table>.csv` for every table, as (path, bytes)."""
    for name, table in schema.tables.items():
        arrow = to_arrow(schema, table, frames[name])
        yield f"data/{name}.parquet", parquet_bytes(arrow)
        yield f"data/{name}.csv", csv_bytes(arrow)


def _unchanged(path: Path, data: bytes) -> bool:
    return path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data


def recover(root: Path) -> str | None:
    """Finish a publish that passed its commit point, or discard one that did not."""
    staging = root / STAGING
    if not staging.exists():
        return None
    record = staging / COMMIT
    if record.is_file():
        for rel in json.loads(record.read_text(encoding="utf-8")):
            staged = staging / rel
            if staged.exists():
                (root / rel).parent.mkdir(parents=True, exist_ok=True)
                os.replace(staged, root / rel)
        shutil.rmtree(staging)
        return "completed an interrupted publish"
    shutil.rmtree(staging)
    return "discarded an interrupted build's staging folder"


def publish(root: Path, outputs: Iterable[tuple[str, bytes]], pause=lambda point: None) -> list[str]:
    """Replace the changed published files all-or-nothing; return what changed.

    Outputs are consumed one at a time: each changed one is written to the staging folder as it
    comes, so memory holds one output, not the package.
    """
    recover(root)
    staging = root / STAGING
    todo = []
    for rel, data in outputs:
        if _unchanged(root / rel, data):
            continue
        target = staging / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        todo.append(rel)
        pause("staged")
    if not todo:
        return []
    os.sync()  # every staged file is on disk before the commit record can be (one flush, not one per file)
    tmp = staging / (COMMIT + ".tmp")
    tmp.write_text(json.dumps(todo), encoding="utf-8")
    _fsync(tmp)
    pause("before-commit")
    os.replace(tmp, staging / COMMIT)  # the commit point
    _fsync(staging)
    pause("committed")
    for rel in todo:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / rel, root / rel)
        pause("renamed")
    shutil.rmtree(staging)
    return todo


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

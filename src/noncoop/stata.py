"""Stata stage: `data/stata/<table>.dta` (format 118, Unicode) for every table, derived from `schemas/`;
made by the release (release.py), not by the build: the repository does not hold them.

Dates are Stata dates (`%td`), never datetimes; booleans are 0/1 with the value labels
false/true; coded columns are integers whose value labels are the vocabulary's codes in codebook
order; variable labels are the field descriptions (Stata allows 80 characters: longer ones are
cut with "…", the codebook has them whole); the dataset label is the table title. Text columns
that are empty in every row are kept (Stata's missing text is ""). The file's timestamp is the
release date, so the same inputs give the same bytes.
"""
from __future__ import annotations

import datetime
import io
from typing import Iterator

import pandas as pd

from .schema import Field, Schema, Table
from .tables import typed

LABEL_LIMIT = 80  # characters of a Stata variable or dataset label
STR_LIMIT = 2045  # bytes of a fixed-width Stata string; longer text is written as strL
BOOLEAN_LABELS = ["false", "true"]  # codes 0 and 1


def label(text: str) -> str:
    """`text` within Stata's label limit."""
    return text if len(text) <= LABEL_LIMIT else text[:LABEL_LIMIT - 1].rstrip() + "…"


def _column(schema: Schema, f: Field, column: pd.Series) -> pd.Series:
    if f.vocabulary:
        return column  # a categorical in codebook order: integer codes with value labels
    if f.type == "boolean":
        return pd.Series(pd.Categorical(column.map(dict(zip([False, True], BOOLEAN_LABELS)), na_action="ignore"),
                                        categories=BOOLEAN_LABELS), name=column.name)
    if f.type == "string":
        return column.astype(object).where(column.notna(), "")
    return column


def dta_bytes(schema: Schema, table: Table, df: pd.DataFrame) -> bytes:
    """One table as a Stata 118 file."""
    frame = typed(schema, table, df)
    frame = pd.DataFrame({f.name: _column(schema, f, frame[f.name]) for f in table.fields})
    dates = {f.name: "td" for f in table.fields if f.type == "date"}
    strl = [f.name for f in table.fields if f.type == "string" and not f.vocabulary
            and max(map(len, frame[f.name].str.encode("utf-8")), default=0) > STR_LIMIT]
    buffer = io.BytesIO()
    frame.to_stata(buffer, write_index=False, version=118, convert_dates=dates, convert_strl=strl,
                   data_label=label(table.title), variable_labels={f.name: label(f.description) for f in table.fields},
                   time_stamp=datetime.datetime.fromisoformat(schema.package["created"].replace("Z", "+00:00")))
    return buffer.getvalue()


def dta_path(table: str) -> str:
    return f"data/stata/{table}.dta"


def render_stata(schema: Schema, frames: dict[str, pd.DataFrame]) -> Iterator[tuple[str, bytes]]:
    """`data/stata/<table>.dta` for every table, as (path, bytes)."""
    for name, table in schema.tables.items():
        yield dta_path(name), dta_bytes(schema, table, frames[name])

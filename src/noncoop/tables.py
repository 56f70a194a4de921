"""Tables stage: resolved rows -> one pandas DataFrame per table, typed from `schemas/`.

Enumerated columns stay plain strings here so that a bad code is reported, not silently turned
into a missing category; the write stage dictionary-encodes them. Each frame keeps the index of
its rows in `Resolved.origins`, so any failure can be traced back to a file and line.
"""
from __future__ import annotations

import pandas as pd
import pyarrow as pa

from .resolve import Resolved
from .schema import Schema, Table

DTYPES = {"string": "string", "integer": "Int64", "number": "Float64", "boolean": "boolean",
          "date": "datetime64[s]"}


def frame(table: Table, columns: dict[str, list]) -> pd.DataFrame:
    """One table's rows, given by column, as a typed frame sorted by primary key (index = row
    number in `Resolved.origins`)."""
    data = {}
    for f in table.fields:
        values = columns[f.name]
        if f.type == "date":
            data[f.name] = pd.Series(pd.to_datetime(values), dtype=DTYPES["date"])
        elif f.type == "string":
            data[f.name] = _strings(values)
        else:
            data[f.name] = pd.array(values, dtype=DTYPES[f.type])
    df = pd.DataFrame(data, columns=table.columns)
    return df.sort_values(list(table.primary_key), kind="stable") if len(df) else df


def _strings(values: list) -> pd.api.extensions.ExtensionArray:
    """A text column, converted by Arrow (pandas checks each value in Python: 3 times slower);
    values that are not all text or missing take pandas' way."""
    try:
        return pd.array(pa.array(values, type=pa.large_string()), dtype=DTYPES["string"])
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pd.array(values, dtype=DTYPES["string"])


def build_frames(schema: Schema, resolved: Resolved) -> dict[str, pd.DataFrame]:
    """Every table as a frame; each table's Python values are released once it is built."""
    return {name: frame(table, resolved.columns.pop(name)) for name, table in schema.tables.items()}


def typed(schema: Schema, table: Table, df: pd.DataFrame) -> pd.DataFrame:
    """The published dtypes: enums as categoricals in codebook order (ordered where ordinal), the rest as validated."""
    df = df.reset_index(drop=True).copy()
    for f in table.fields:
        if f.vocabulary:
            df[f.name] = pd.Categorical(df[f.name].astype(object).where(df[f.name].notna(), None),
                                        categories=schema.codes(f), ordered=schema.ordered(f))
    return df

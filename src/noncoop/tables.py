"""Tables stage: resolved rows -> one pandas DataFrame per table, typed from `schemas/`.

Enumerated columns stay plain strings here so that a bad code is reported, not silently turned
into a missing category; the write stage dictionary-encodes them. Each frame keeps the index of
its rows in `Resolved.origins`, so any failure can be traced back to a file and line.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa

from .schema import Field, Schema, Table

if TYPE_CHECKING:  # only named in annotations: resolve imports this module
    from .resolve import Resolved

DTYPES = {"string": "string", "integer": "Int64", "number": "Float64", "boolean": "boolean",
          "date": "datetime64[s]"}

# Arrow's types by schema type: how an article's values are packed (Resolved.seal) and joined here
# (pandas keeps text with 64-bit offsets; the published files use `string`, write.py)
ARROW_TYPES = {"string": pa.large_string(), "integer": pa.int64(), "number": pa.float64(), "boolean": pa.bool_(),
                "date": pa.date32()}
_READ_AS = {"string": {pa.string(), pa.large_string()}, "integer": {pa.int64()}, "number": {pa.float64(), pa.int64()},
            "boolean": {pa.bool_()}, "date": {pa.date32()}}
NOT_ARROW = (ValueError, TypeError, OverflowError)  # what arrow_values raises for values of another type


def arrow_values(values: list, kind: str) -> pa.Array:
    """`values` as an Arrow array of schema type `kind`, where Arrow reads them as that type (or as
    nothing but missing values); else one of NOT_ARROW, and pandas is left to type them (Arrow
    would, for one, truncate 2.5 to an integer)."""
    array = pa.array(values, from_pandas=True)
    if array.type != pa.null() and array.type not in _READ_AS[kind]:
        raise TypeError(f"{array.type} values in a {kind} column")
    return array.cast(ARROW_TYPES[kind])


def frame(table: Table, columns: dict[str, list]) -> pd.DataFrame:
    """One table's rows as a typed frame sorted by primary key (index = row number in
    `Resolved.origins`); `columns` gives each column's chunks in row order (`Resolved.take`)."""
    data = {f.name: _column(f, columns[f.name]) for f in table.fields}
    df = pd.DataFrame(data, columns=table.columns)
    return df.sort_values(list(table.primary_key), kind="stable") if len(df) else df


def _column(f: Field, chunks: list) -> pd.api.extensions.ExtensionArray | pd.Series:
    """A column from its chunks (Arrow arrays and lists of values): joined by Arrow where every
    value takes the column's Arrow type, else value by value as pandas types them (the same
    result, tested; a value pandas cannot type raises here as it did)."""
    if f.type != "date":
        try:
            arrays = [c if isinstance(c, pa.Array) else arrow_values(c, f.type) for c in chunks]
            return pd.array(pa.concat_arrays(arrays) if arrays else pa.array([], ARROW_TYPES[f.type]),
                            dtype=DTYPES[f.type])
        except NOT_ARROW:
            pass
    values = [v for c in chunks for v in (c.to_pylist() if isinstance(c, pa.Array) else c)]
    if f.type == "date":
        return pd.Series(pd.to_datetime(values), dtype=DTYPES["date"])
    return pd.array(values, dtype=DTYPES[f.type])


def build_frames(schema: Schema, resolved: Resolved) -> dict[str, pd.DataFrame]:
    """Every table as a frame; each table's rows are released from `resolved` once it is built."""
    return {name: frame(table, resolved.take(name)) for name, table in schema.tables.items()}


def typed(schema: Schema, table: Table, df: pd.DataFrame) -> pd.DataFrame:
    """The published dtypes: enums as categoricals in codebook order (ordered where ordinal), the rest as validated."""
    df = df.reset_index(drop=True).copy()
    for f in table.fields:
        if f.vocabulary:
            df[f.name] = pd.Categorical(df[f.name].astype(object).where(df[f.name].notna(), None),
                                        categories=schema.codes(f), ordered=schema.ordered(f))
    return df

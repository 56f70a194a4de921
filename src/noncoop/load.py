"""Load the published tables for analysis, typed from `schemas/`.

    >>> from noncoop import load
    >>> events = load("events")            # one table
    >>> tables = load()                    # every table, as a dict
    >>> describe("events")                 # what each column means

Enumerated columns are pandas categoricals with the codebook's order of codes, integers are
nullable `Int64`, booleans `boolean`, dates `datetime64[s]`, text `string`. Each frame carries its
column descriptions in `frame.attrs["descriptions"]`.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from .schema import PROJECT, load_schema
from .tables import DTYPES, typed


def load(table: str | None = None, root: str | Path | None = None) -> pd.DataFrame | dict[str, pd.DataFrame]:
    """One table by name, or all tables as {name: DataFrame}, from `<root>/data/*.parquet`."""
    schema = load_schema()
    root = Path(root) if root is not None else PROJECT
    names = list(schema.tables) if table is None else [table]
    unknown = [n for n in names if n not in schema.tables]
    if unknown:
        raise KeyError(f"no table {unknown[0]!r}; tables: {', '.join(schema.tables)}")
    frames = {}
    for name in names:
        spec = schema.tables[name]
        frame = pq.read_table(root / "data" / f"{name}.parquet").to_pandas(ignore_metadata=True)
        for f in spec.fields:
            if not f.vocabulary:
                frame[f.name] = frame[f.name].astype(DTYPES[f.type])
        frame = typed(schema, spec, frame)
        frame.attrs["descriptions"] = {f.name: f.description for f in spec.fields}
        frames[name] = frame
    return frames if table is None else frames[table]


def describe(table: str) -> pd.DataFrame:
    """The codebook entry of a table: column, type, required, vocabulary, description."""
    schema = load_schema()
    spec = schema.tables[table]
    return pd.DataFrame(
        [{"column": f.name, "type": f.type, "required": f.name in spec.required,
          "vocabulary": f.vocabulary, "description": f.description} for f in spec.fields]
    )

"""Load the published tables for analysis, typed from the package's own `datapackage.json`.

    >>> from noncoop import load
    >>> events = load("events")                                # this repository's tables
    >>> events = load("events", root="dist/<name>-<version>.zip")  # any release: a folder or its .zip
    >>> tables = load()                                        # every table, as a dict
    >>> describe("events")                                     # what each column means

Types come from the descriptor that ships with the data, never from `schemas/` beside this code,
so a pip-installed `noncoop` reads any release. Coded columns are pandas categoricals with the
codebook's order of codes (ordered for ordinal scales), integers are nullable `Int64`, numbers
`Float64`, booleans `boolean`, dates `datetime64[s]`, text `string`. Each frame carries its column
descriptions in `frame.attrs["descriptions"]`. Each table is read from its Parquet twin, or from
its CSV where a release has no Parquet.
"""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from .schema import PROJECT
from .tables import DTYPES

DESCRIPTOR = "datapackage.json"


class Release:
    """A published package: a folder or a .zip archive (its descriptor at the root or in one folder)."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else PROJECT
        self._zip = zipfile.ZipFile(self.root) if self.root.is_file() else None
        if self._zip is not None:
            found = sorted((n for n in self._zip.namelist() if PurePosixPath(n).name == DESCRIPTOR
                            and n.count("/") <= 1), key=lambda n: n.count("/"))
            if not found:
                raise FileNotFoundError(f"{self.root}: no {DESCRIPTOR} at the root of the archive or one folder down")
            self._prefix = found[0].removesuffix(DESCRIPTOR)
        elif not (self.root / DESCRIPTOR).is_file():
            raise FileNotFoundError(f"{self.root / DESCRIPTOR} not found: pass root= a release folder or .zip")
        self.descriptor = json.loads(self.read(DESCRIPTOR))
        self.resources = {r["name"]: r for r in self.descriptor["resources"]}

    def read(self, rel: str) -> bytes:
        """A file of the package by its descriptor path (never outside the package)."""
        parts = PurePosixPath(rel).parts
        if PurePosixPath(rel).is_absolute() or ".." in parts or "://" in rel:
            raise ValueError(f"{rel!r}: not a path inside the package")
        if self._zip is not None:
            return self._zip.read(self._prefix + rel)
        return (self.root / rel).read_bytes()

    def exists(self, rel: str) -> bool:
        if self._zip is not None:
            return self._prefix + rel in self._zip.namelist()
        return (self.root / rel).is_file()

    def table(self, name: str) -> pd.DataFrame:
        """One resource as a typed frame."""
        if name not in self.resources:
            raise KeyError(f"no table {name!r}; tables: {', '.join(self.resources)}")
        resource = self.resources[name]
        fields = resource["schema"]["fields"]
        parquet = resource.get("parquet", {}).get("path")
        if parquet and self.exists(parquet):
            frame = pq.read_table(io.BytesIO(self.read(parquet))).to_pandas(ignore_metadata=True)
        else:
            missing = resource["schema"].get("missingValues", [""])
            frame = pd.read_csv(io.BytesIO(self.read(resource["path"])), dtype=str, keep_default_na=False,
                                na_values=missing, encoding=resource.get("encoding", "utf-8"))
        frame = pd.DataFrame({f["name"]: _typed(frame[f["name"]], f) for f in fields})
        frame.attrs["descriptions"] = {f["name"]: f.get("description", "") for f in fields}
        return frame


def _typed(column: pd.Series, field: dict[str, Any]) -> pd.Series:
    """A column in the dtype its Table Schema field declares."""
    codes = [c["value"] if isinstance(c, dict) else c for c in field.get("categories", [])] \
        or field.get("constraints", {}).get("enum")
    if codes:
        values = column.astype(object).where(column.notna(), None)
        return pd.Series(pd.Categorical(values, categories=codes, ordered=field.get("categoriesOrdered", False)),
                         name=column.name)
    kind = field["type"]
    if column.dtype == object or pd.api.types.is_string_dtype(column):  # CSV text
        if kind == "boolean":
            truth = {**{v: True for v in field.get("trueValues", ["true"])},
                     **{v: False for v in field.get("falseValues", ["false"])}}
            return column.map(truth, na_action="ignore").astype(DTYPES[kind])
        if kind == "date":
            return pd.to_datetime(column, format="%Y-%m-%d").astype(DTYPES[kind])
        if kind in ("integer", "number"):
            return pd.to_numeric(column).astype(DTYPES[kind])
    return column.astype(DTYPES.get(kind, "string"))


def load(table: str | None = None, root: str | Path | None = None) -> pd.DataFrame | dict[str, pd.DataFrame]:
    """One table by name, or all tables as {name: DataFrame}, from the package at `root` (a folder
    or a .zip; default: this repository)."""
    release = Release(root)
    if table is not None:
        return release.table(table)
    return {name: release.table(name) for name in release.resources}


def describe(table: str, root: str | Path | None = None) -> pd.DataFrame:
    """The codebook entry of a table: column, type, required, codes, description."""
    fields = Release(root).resources[table]["schema"]["fields"]
    return pd.DataFrame(
        [{"column": f["name"], "type": f["type"], "required": f.get("constraints", {}).get("required", False),
          "codes": f.get("constraints", {}).get("enum"), "description": f.get("description", "")} for f in fields]
    )

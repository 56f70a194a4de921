"""Package stage: the Frictionless (v2) descriptor `datapackage.json`, derived from `schemas/`.

Each table is published twice: as CSV (resource `<table>`, with `bytes` and a sha256 `hash`,
which frictionless checks) and as Parquet (resource `<table>_parquet`, with a sha256 `hash` but
no `bytes`: frictionless-py cannot count Parquet bytes and never checks their hash, so the
project's tests verify Parquet checksums themselves; see docs/sources.md, "Tool facts").
Enumerations are emitted as `constraints.enum` (frictionless ignores v2 `categories`).
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

from .schema import Field, Schema, Table

_TYPES = {"string": "string", "integer": "integer", "number": "number", "boolean": "boolean", "date": "date"}


def table_schema(schema: Schema, table: Table, suffix: str = "") -> dict[str, Any]:
    """The Table Schema of one resource; foreign keys point at resources of the same format."""
    fields = [_field(schema, table, f) for f in table.fields]
    result: dict[str, Any] = {"fields": fields, "missingValues": [""], "primaryKey": list(table.primary_key)}
    if table.foreign_keys:
        result["foreignKeys"] = [
            {"fields": list(fk.fields),
             "reference": {"resource": fk.table + suffix, "fields": list(fk.reference)}}
            for fk in table.foreign_keys
        ]
    return result


def _field(schema: Schema, table: Table, f: Field) -> dict[str, Any]:
    constraints: dict[str, Any] = {}
    if f.name in table.required:
        constraints["required"] = True
    if f.vocabulary:
        constraints["enum"] = schema.codes(f)
    if f.pattern:
        constraints["pattern"] = f.pattern.removeprefix("^").removesuffix("$")
    if f.type == "string":
        constraints["minLength"] = 1
    for key, target in (("minimum", "minimum"), ("maximum", "maximum"), ("max_length", "maxLength")):
        if getattr(f, key) is not None:
            constraints[target] = getattr(f, key)
    result = {"name": f.name, "type": _TYPES[f.type], "description": f.description}
    if f.type == "boolean":
        result.update(trueValues=["true"], falseValues=["false"])
    if constraints:
        result["constraints"] = constraints
    return result


def digest(data: bytes) -> tuple[int, str]:
    """A file's size and Frictionless hash."""
    return len(data), "sha256:" + hashlib.sha256(data).hexdigest()


def descriptor(schema: Schema, digests: dict[str, tuple[int, str]]) -> dict[str, Any]:
    """The datapackage.json content for the table files whose `digest` is in `digests`."""
    meta = schema.package
    resources = []
    for name, table in schema.tables.items():
        size, sha256 = digests[f"data/{name}.csv"]
        resources.append({
            "name": name, "type": "table", "title": table.title, "description": table.description,
            "path": f"data/{name}.csv", "scheme": "file", "format": "csv", "mediatype": "text/csv",
            "encoding": "utf-8", "bytes": size, "hash": sha256,
            "dialect": {"delimiter": ",", "quoteChar": "\"", "doubleQuote": True, "header": True},
            "schema": table_schema(schema, table),
        })
    for name, table in schema.tables.items():
        resources.append({
            "name": f"{name}_parquet", "type": "table", "title": f"{table.title} (Parquet)",
            "description": table.description, "path": f"data/{name}.parquet", "scheme": "file",
            "format": "parquet", "mediatype": "application/vnd.apache.parquet",
            "hash": digests[f"data/{name}.parquet"][1],
            "schema": table_schema(schema, table, "_parquet"),
        })
    package = {key: meta[key] for key in ("name", "title", "description", "version", "created", "keywords",
                                          "licenses", "contributors", "sources") if key in meta}
    package["resources"] = resources
    return package


def descriptor_bytes(schema: Schema, digests: dict[str, tuple[int, str]]) -> bytes:
    return (json.dumps(descriptor(schema, digests), indent=2, ensure_ascii=False) + "\n").encode("utf-8")

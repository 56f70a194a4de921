"""Package stage: the Frictionless Data Package v2 descriptor `datapackage.json`, derived from `schemas/`.

Every resource is a CSV table (`bytes` and a sha256 `hash`, which frictionless checks) that
declares both the v2 `type: table` and the v1 `profile: tabular-data-resource`, so that readers
of either version (frictionless-py, R's frictionless) read it. Its Parquet twin, the same rows
typed, is described inside it under `parquet` (path, bytes, sha256): v2 has no "same table, other
format", and a second resource would be read as CSV by generic readers. frictionless-py never
checks Parquet hashes (see docs/sources.md, "Tool facts"), so the project's tests do.
Coded fields carry v2 `categories` (code and definition) and, for frictionless-py and R, which
ignore categories, the same codes as `constraints.enum`; ordinal codes are `categoriesOrdered`.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

from .schema import Field, Schema, Table

_TYPES = {"string": "string", "integer": "integer", "number": "number", "boolean": "boolean", "date": "date"}
PROFILES = "https://datapackage.org/profiles/2.0/"


def table_schema(schema: Schema, table: Table) -> dict[str, Any]:
    """The Table Schema of one resource."""
    fields = [_field(schema, table, f) for f in table.fields]
    result: dict[str, Any] = {"$schema": PROFILES + "tableschema.json", "fields": fields, "missingValues": [""],
                              "primaryKey": list(table.primary_key)}
    if table.foreign_keys:
        result["foreignKeys"] = [
            {"fields": list(fk.fields),
             "reference": {"resource": fk.table, "fields": list(fk.reference)}}
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
    if f.vocabulary:
        vocabulary = schema.vocabularies[f.vocabulary]
        result["categories"] = [{"value": code, "label": spec["definition"]} for code, spec in vocabulary.codes.items()]
        if vocabulary.ordered:
            result["categoriesOrdered"] = True
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
        parquet_size, parquet_sha256 = digests[f"data/{name}.parquet"]
        resources.append({
            "$schema": PROFILES + "dataresource.json", "name": name, "type": "table",
            "profile": "tabular-data-resource", "title": table.title, "description": table.description,
            "path": f"data/{name}.csv", "scheme": "file", "format": "csv", "mediatype": "text/csv",
            "encoding": "utf-8", "bytes": size, "hash": sha256,
            "dialect": {"delimiter": ",", "quoteChar": "\"", "doubleQuote": True, "header": True},
            "schema": table_schema(schema, table),
            "parquet": {"path": f"data/{name}.parquet", "format": "parquet",
                        "mediatype": "application/vnd.apache.parquet", "bytes": parquet_size, "hash": parquet_sha256},
        })
    package = {"$schema": PROFILES + "datapackage.json"}
    package.update({key: meta[key] for key in ("name", "id", "title", "description", "version", "created", "keywords",
                                               "licenses", "contributors", "sources") if key in meta})
    package["resources"] = resources
    return package


def descriptor_bytes(schema: Schema, digests: dict[str, tuple[int, str]]) -> bytes:
    return (json.dumps(descriptor(schema, digests), indent=2, ensure_ascii=False) + "\n").encode("utf-8")

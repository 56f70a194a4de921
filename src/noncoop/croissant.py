"""Discovery stage: `croissant.json`, the package as MLCommons Croissant 1.0 (schema.org Dataset
JSON-LD), derived from `schemas/`.

Each table is a record set read from its CSV (a file object with its sha256); each column a field
with its description and schema.org type; each primary key a record-set key; each foreign key a
`references` to the referenced column, given as that column of the referenced table's CSV file
object rather than as the other record set's field: mlcroissant (1.1) resolves field references
by joining record sets, and fails on a reference to a record set that has references of its own
(event_actors -> events) and on a table's reference to itself (actors.parent_actor_id), a cycle.
"""
from __future__ import annotations

import json
from typing import Any

from .schema import Schema

CROISSANT = "croissant.json"

CONTEXT = {
    "@language": "en", "@vocab": "https://schema.org/", "citeAs": "cr:citeAs", "column": "cr:column",
    "conformsTo": "dct:conformsTo", "cr": "http://mlcommons.org/croissant/", "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"}, "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/", "examples": {"@id": "cr:examples", "@type": "@json"}, "extract": "cr:extract",
    "field": "cr:field", "fileProperty": "cr:fileProperty", "fileObject": "cr:fileObject", "fileSet": "cr:fileSet",
    "format": "cr:format", "includes": "cr:includes", "isLiveDataset": "cr:isLiveDataset", "jsonPath": "cr:jsonPath",
    "key": "cr:key", "md5": "cr:md5", "parentField": "cr:parentField", "path": "cr:path", "recordSet": "cr:recordSet",
    "references": "cr:references", "regex": "cr:regex", "repeated": "cr:repeated", "replace": "cr:replace",
    "sc": "https://schema.org/", "separator": "cr:separator", "source": "cr:source", "subField": "cr:subField",
    "transform": "cr:transform", "equivalentProperty": "cr:equivalentProperty", "samplingRate": "cr:samplingRate",
}  # the Croissant 1.0 context, as mlcroissant expects it
DATA_TYPES = {"string": "sc:Text", "integer": "sc:Integer", "number": "sc:Float", "boolean": "sc:Boolean",
              "date": "sc:Date"}


def bibtex(schema: Schema) -> str:
    """A BibTeX entry for the dataset: title, authors, year and version (no URL or DOI until one exists)."""
    meta = schema.package
    authors = " and ".join("{" + c["title"] + "}" for c in meta["contributors"])
    return (f"@misc{{{meta['name']}_{meta['version']},\n  title = {{{meta['title']}}},\n  author = {{{authors}}},\n"
            f"  year = {{{meta['created'][:4]}}},\n  version = {{{meta['version']}}},\n  note = {{Dataset}}\n}}")


def croissant(schema: Schema, digests: dict[str, tuple[int, str]]) -> dict[str, Any]:
    """The Croissant document for the CSV files whose `digest` is in `digests`."""
    meta = schema.package
    distribution, record_sets = [], []
    for name, table in schema.tables.items():
        path = f"data/{name}.csv"
        distribution.append({"@type": "cr:FileObject", "@id": path, "name": path, "contentUrl": path,
                             "contentSize": f"{digests[path][0]} B", "encodingFormat": "text/csv",
                             "sha256": digests[path][1].removeprefix("sha256:")})
        references = {fk.fields[0]: fk for fk in table.foreign_keys}
        fields = []
        for f in table.fields:
            field: dict[str, Any] = {"@type": "cr:Field", "@id": f"{name}/{f.name}", "name": f.name,
                                     "description": f.description, "dataType": DATA_TYPES[f.type],
                                     "source": {"fileObject": {"@id": path}, "extract": {"column": f.name}}}
            if f.name in references:
                fk = references[f.name]
                field["references"] = {"fileObject": {"@id": f"data/{fk.table}.csv"},
                                       "extract": {"column": fk.reference[0]}}
            fields.append(field)
        key = [{"@id": f"{name}/{column}"} for column in table.primary_key]
        record_sets.append({"@type": "cr:RecordSet", "@id": name, "name": name, "description": table.description,
                            "key": key[0] if len(key) == 1 else key, "field": fields})
    return {
        "@context": CONTEXT, "@type": "sc:Dataset", "conformsTo": "http://mlcommons.org/croissant/1.0",
        "name": meta["name"], "alternateName": meta["title"], "description": meta["description"],
        "identifier": meta.get("id"), "version": meta["version"], "datePublished": meta["created"][:10],
        "license": meta["licenses"][0]["path"], "keywords": meta["keywords"], "citeAs": bibtex(schema),
        "creator": [{"@type": "sc:Organization", "name": c["title"]} for c in meta["contributors"]],
        "url": meta.get("homepage"),
        "distribution": distribution, "recordSet": record_sets,
    }


def croissant_bytes(schema: Schema, digests: dict[str, tuple[int, str]]) -> bytes:
    document = {k: v for k, v in croissant(schema, digests).items() if v is not None}
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")

"""JSON Schemas of the annotation YAML files, derived from `schemas/` (never edited by hand).

Three kinds of file: an article's annotation (`source`, `events`, `quotes`), the actor registry
and the place registry. Each section accepts exactly the table's annotated columns plus the
extra keys of `schemas/annotation.yaml`; unknown keys are errors.
"""
from __future__ import annotations

from typing import Any

from .schema import Field, Schema, Table

DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_JSON_TYPES = {"string": "string", "integer": "integer", "number": "number", "boolean": "boolean", "date": "string"}
KINDS = ("source", "actors", "places")


def field_json(schema: Schema, field: Field, required: bool) -> dict[str, Any]:
    """The JSON Schema of one column's value in an annotation."""
    js: dict[str, Any] = {"description": field.description}
    base = _JSON_TYPES[field.type]
    js["type"] = base if required else [base, "null"]
    if field.type == "string":
        js["minLength"] = 1
    if field.type == "date":
        js["pattern"] = DATE_PATTERN
    if field.pattern:
        js["pattern"] = field.pattern
    if field.name in schema.annotation["event_refs"]:
        js["pattern"] = _event_ref_pattern(schema)
    if field.vocabulary:
        js["enum"] = schema.codes(field) + ([] if required else [None])
    for key, target in (("minimum", "minimum"), ("maximum", "maximum"), ("max_length", "maxLength")):
        if getattr(field, key) is not None:
            js[target] = getattr(field, key)
    return js


def section_json(schema: Schema, table: Table) -> dict[str, Any]:
    """The JSON Schema of one annotated row (an event, a quote, an actor ...)."""
    extras = schema.annotation["sections"].get(table.annotation["section"], {})
    properties = {f.name: field_json(schema, f, f.name in table.required) for f in table.annotated_fields}
    required = [f.name for f in table.annotated_fields if f.name in table.required]
    for key, spec in extras.items():
        properties[key] = {"description": spec["description"], **spec["json"]}
        if spec.get("required"):
            required.append(key)
    return {"type": "object", "additionalProperties": False, "required": required, "properties": properties}


def annotation_json_schema(schema: Schema, kind: str) -> dict[str, Any]:
    """JSON Schema of one kind of annotation file: 'source', 'actors' or 'places'."""
    tables = [t for t in schema.tables.values() if t.annotation and t.annotation["file"] == kind]
    properties: dict[str, Any] = {}
    for table in tables:
        section = section_json(schema, table)
        key = table.annotation["section"]
        properties[key] = section if key == "source" else {"type": "array", "items": section}
    defs = {
        "actor_id": {"type": "string", "pattern": schema.fields["actor_id"].pattern},
        "link_type": {"enum": schema.codes(schema.fields["link_type"])},
        "event_ref": {"type": "string", "pattern": _event_ref_pattern(schema)},
    }
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": f"Annotation file ({kind}) of {schema.package['name']}",
        "description": "Generated from schemas/ by build.py; do not edit.",
        "type": "object",
        "additionalProperties": False,
        "required": list(properties),
        "properties": properties,
        "definitions": defs,
    }


def _event_ref_pattern(schema: Schema) -> str:
    full = schema.fields["event_id"].pattern.strip("^$")
    return f"^(e[0-9]{{2,4}}|{full})$"

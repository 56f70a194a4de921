"""JSON Schemas of the annotation YAML files, derived from `schemas/` (never edited by hand).

Three kinds of file: an article's annotation (`source`, `events`, `quotes`), the actor registry
and the place registry. Each section accepts exactly the table's annotated columns plus the
extra keys of `schemas/annotation.yaml`; unknown keys are errors.

The published files (schemas/json/, for editors through yaml-language-server) add what helps
completion: every code with its definition (`enumDescriptions`, which yaml-language-server shows),
Sharp numbers with their names, the registry's actor and place IDs in an article's annotation,
and `event_mode` limited to the modes of the chosen `event_type`. The build validates with the
plain schema: its own checks say more precisely what is wrong with an ID or a mode.
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


Registry = dict[str, list[tuple[str, str]]]  # 'actors' / 'places' -> [(ID, name), ...]


def annotation_json_schema(schema: Schema, kind: str, registry: Registry | None = None) -> dict[str, Any]:
    """JSON Schema of one kind of annotation file: 'source', 'actors' or 'places'; with `registry`,
    the editor's version (see the module's docstring)."""
    tables = [t for t in schema.tables.values() if t.annotation and t.annotation["file"] == kind]
    properties: dict[str, Any] = {}
    for table in tables:
        section = section_json(schema, table)
        if registry is not None:
            _for_editors(schema, table, section, registry if kind == "source" else {})
        key = table.annotation["section"]
        properties[key] = section if key == "source" else {"type": "array", "items": section}
    defs = {
        "actor_id": {"type": "string", "pattern": schema.fields["actor_id"].pattern},
        "link_type": {"enum": schema.codes(schema.fields["link_type"])},
        "event_ref": {"type": "string", "pattern": _event_ref_pattern(schema)},
    }
    if registry is not None and kind == "source":
        defs["actor_id"].update(_listed(registry["actors"]))
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


def _listed(pairs: list[tuple[Any, str]], required: bool = True) -> dict[str, Any]:
    """`enum` with yaml-language-server's `enumDescriptions` (one per value; '' for empty)."""
    values, names = [v for v, _ in pairs], [n for _, n in pairs]
    return {"enum": values + ([] if required else [None]), "enumDescriptions": names + ([] if required else [""])}


def _for_editors(schema: Schema, table: Table, section: dict[str, Any], registry: Registry) -> None:
    """Add the editor's lists to one section's JSON Schema (in place)."""
    properties = section["properties"]
    for f in table.annotated_fields:
        required = f.name in table.required
        if f.vocabulary:
            codes = schema.vocabularies[f.vocabulary].codes
            properties[f.name].update(_listed([(c, spec["definition"]) for c, spec in codes.items()], required))
    for fk in table.foreign_keys:
        name = fk.fields[0]
        if fk.table in registry:
            properties[name].update(_listed(registry[fk.table], name in table.required))
        elif fk.table == "sharp_methods":
            methods = [(m["number"], f"{m['number']}. {m['method_name']} ({m['subclass']})") for m in schema.sharp_methods]
            properties[name].update(_listed(methods, name in table.required))
    if "event_mode" in properties and "event_type" in properties:
        modes = schema.vocabularies[schema.fields["event_mode"].vocabulary].codes
        section["allOf"] = [
            {"if": {"properties": {"event_type": {"const": event_type}}, "required": ["event_type"]},
             "then": {"properties": {"event_mode": _listed(
                 [(m, spec["definition"]) for m, spec in modes.items() if event_type in spec["event_types"]], False)}}}
            for event_type in schema.codes(schema.fields["event_type"])]

"""The single source of truth: `schemas/*.yaml` loaded into one checked model.

Every other representation (pandera, pyarrow, datapackage.json, the codebook, the annotation
JSON Schema) is derived from `Schema`; none lists fields of its own.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from .cache import combined, files_digest
from .errors import Location, Problems
from .read import load_yaml

PROJECT = Path(__file__).resolve().parents[2]  # the repository (or the unpacked source tree)
SCHEMA_DIR = PROJECT / "schemas"
_DOCUMENTS = ("fields", "tables", "vocabularies", "rules", "annotation", "package")  # schemas/<name>.yaml
_SHARP = "sharp_198_methods.csv"
SCHEMA_FILES = (*(f"{name}.yaml" for name in _DOCUMENTS), _SHARP)  # every file load_schema reads in schemas/
TYPES = ("string", "integer", "number", "boolean", "date")
_FIELD_KEYS = {"type", "description", "vocabulary", "pattern", "minimum", "maximum", "max_length",
               "check", "basis_for", "note", "verbatim"}
_CODE_KEYS = {"definition", "event_types", "event_type", "project"}
_TABLE_KEYS = {"title", "description", "fields", "required", "primary_key", "foreign_keys",
               "annotation", "derived", "rules", "origin"}


@dataclass(frozen=True)
class Vocabulary:
    name: str
    description: str
    source: str
    codes: dict[str, dict[str, Any]]  # code -> {"definition": ..., other attributes}
    ordered: bool = False  # an ordinal scale, codes listed in order


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    description: str
    vocabulary: str | None = None
    pattern: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    check: str | None = None
    basis_for: str | None = None
    note: str | None = None
    verbatim: bool = False  # the article's own characters: exempt from the rules of annotator-written text

    @property
    def free_text(self) -> bool:
        """Text in the annotator's own words (no code list, no pattern, not copied from the article)."""
        return self.type == "string" and not (self.vocabulary or self.pattern or self.verbatim)


@dataclass(frozen=True)
class ForeignKey:
    fields: tuple[str, ...]
    table: str
    reference: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    description: str
    fields: tuple[Field, ...]
    required: frozenset[str]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[ForeignKey, ...]
    rules: tuple[str, ...]
    derived: frozenset[str]
    annotation: dict[str, str] | None
    origin: str | None

    @property
    def columns(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)

    @property
    def annotated_fields(self) -> list[Field]:
        """Columns a contributor writes (same key name in the annotation YAML)."""
        return [f for f in self.fields if f.name not in self.derived] if self.annotation else []


@dataclass(frozen=True)
class Schema:
    tables: dict[str, Table]
    fields: dict[str, Field]
    vocabularies: dict[str, Vocabulary]
    rules: dict[str, str]  # name -> what the rule requires
    annotation: dict[str, Any]
    package: dict[str, Any]
    sharp_methods: tuple[dict[str, Any], ...]
    rule_fields: dict[str, tuple[str, ...]]  # name -> the columns a rule involves, the default blame first
    digest: str = ""  # of the files it was loaded from (cache keys)

    def codes(self, field: Field) -> list[str]:
        return list(self.vocabularies[field.vocabulary].codes) if field.vocabulary else []

    def ordered(self, field: Field) -> bool:
        """Whether the field's codes are an ordinal scale."""
        return bool(field.vocabulary) and self.vocabularies[field.vocabulary].ordered


class SchemaDefinitionError(Exception):
    """The schema files themselves are inconsistent (a maintainer's error)."""


@lru_cache(maxsize=4)
def load_schema(folder: Path = SCHEMA_DIR) -> Schema:
    """Load and cross-check every file in `schemas/`."""
    problems = Problems()
    docs = {}
    for name in _DOCUMENTS:
        doc = load_yaml(folder / f"{name}.yaml", f"schemas/{name}.yaml", problems)
        docs[name] = doc.data if doc else {}
    if problems:
        raise SchemaDefinitionError("\n".join(map(str, problems.items)))
    vocabularies = {
        name: Vocabulary(name, v["description"], v["source"],
                         {str(code): (d if isinstance(d, dict) else {"definition": d}) for code, d in v["codes"].items()},
                         v.get("ordered", False) is True)
        for name, v in docs["vocabularies"].items()
    }
    fields = {}
    for name, spec in docs["fields"].items():
        if _unknown(problems, f"fields.yaml:{name}", spec, _FIELD_KEYS):
            continue
        fields[name] = Field(name=name, **spec)
    tables = {}
    for name, spec in docs["tables"].items():
        if _unknown(problems, f"tables.yaml:{name}", spec, _TABLE_KEYS):
            continue
        missing = [f for f in spec["fields"] if f not in fields]
        if missing:
            problems.add(Location("schemas/tables.yaml"), f"{name}.fields", missing, "fields defined in fields.yaml")
            continue
        tables[name] = Table(
            name=name, title=spec["title"], description=spec["description"],
            fields=tuple(fields[f] for f in spec["fields"]),
            required=frozenset(spec.get("required", [])),
            primary_key=tuple(spec["primary_key"]),
            foreign_keys=tuple(ForeignKey(tuple(fk["fields"]), fk["table"], tuple(fk["reference"]))
                               for fk in spec.get("foreign_keys", [])),
            rules=tuple(spec.get("rules", [])), derived=frozenset(spec.get("derived", [])),
            annotation=spec.get("annotation"), origin=spec.get("origin"),
        )
    package = {**docs["package"], "version": (folder.parent / "VERSION").read_text(encoding="utf-8").strip()}
    rules = {}
    for name, spec in docs["rules"].items():
        if not _unknown(problems, f"rules.yaml:{name}", spec, {"text", "fields"}):
            rules[name] = spec
    schema = Schema(tables, fields, vocabularies, {n: r["text"] for n, r in rules.items()}, docs["annotation"], package,
                    tuple(_read_sharp(folder / _SHARP)),
                    {n: tuple(r["fields"]) for n, r in rules.items()},
                    combined(files_digest(folder, SCHEMA_FILES), package["version"]))
    _cross_check(schema, problems)
    if problems:
        raise SchemaDefinitionError("\n".join(map(str, problems.items)))
    return schema


def _unknown(problems: Problems, where: str, spec: dict, allowed: set[str]) -> bool:
    """Report keys outside `allowed`; True when there were any."""
    for key in sorted(set(spec) - allowed):
        problems.add(Location(where), key, spec[key], f"one of {sorted(allowed)}")
    return bool(set(spec) - allowed)


def _cross_check(schema: Schema, problems: Problems) -> None:
    where = Location("schemas/")
    for v in schema.vocabularies.values():
        for code, spec in v.codes.items():
            if not isinstance(spec.get("definition"), str):
                problems.add(where, f"vocabularies.{v.name}.{code}", spec, "a definition text")
            _unknown(problems, f"vocabularies.yaml:{v.name}.{code}", spec, _CODE_KEYS)
    for f in schema.fields.values():
        if f.type not in TYPES:
            problems.add(where, f"fields.{f.name}.type", f.type, f"one of {TYPES}")
        if f.vocabulary and f.vocabulary not in schema.vocabularies:
            problems.add(where, f"fields.{f.name}.vocabulary", f.vocabulary, "a vocabulary in vocabularies.yaml")
        for ref in (f.basis_for, f.note):
            if ref and ref not in schema.fields:
                problems.add(where, f"fields.{f.name}", ref, "a field defined in fields.yaml")
    for t in schema.tables.values():
        for key in [*t.primary_key, *t.required, *t.derived]:
            if key not in t.columns:
                problems.add(where, f"tables.{t.name}", key, "a column of the table")
        for fk in t.foreign_keys:
            target = schema.tables.get(fk.table)
            if target is None or tuple(target.primary_key) != fk.reference or len(fk.fields) != 1:
                problems.add(where, f"tables.{t.name}.foreign_keys", fk.table,
                             "one column referencing a table's single-column primary key")
        for rule in t.rules:
            if rule not in schema.rules:
                problems.add(where, f"tables.{t.name}.rules", rule, "a rule described in rules.yaml")
    for rule, involved in schema.rule_fields.items():
        columns = {c for t in schema.tables.values() if rule in t.rules for c in t.columns}
        if not involved or not set(involved) <= columns:
            problems.add(where, f"rules.{rule}.fields", sorted(set(involved) - columns) or involved,
                         "columns of the tables that obey the rule")


def _read_sharp(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [{"number": int(r["number"]), "method_name": r["name"], "sharp_class": r["class"],
                 "subclass": r["subclass"]} for r in csv.DictReader(handle)]

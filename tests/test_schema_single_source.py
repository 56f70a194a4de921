"""schemas/ is the single source of truth: every representation is derived from it."""
from __future__ import annotations

import json
import shutil

import jsonschema
import pandas as pd
import pytest

from noncoop.annotation_schema import KINDS, annotation_json_schema
from noncoop.package import descriptor, digest
from noncoop.schema import SchemaDefinitionError, load_schema
from noncoop.tables import DTYPES
from noncoop.validate import RULES, pandera_schema, validate_tables
from noncoop.write import arrow_schema

from conftest import ROOT


def test_every_defined_field_is_used_by_a_table(schema):
    used = {f.name for t in schema.tables.values() for f in t.fields}
    assert set(schema.fields) - used == set()


def _edited_schemas(tmp_path, name, old, new):
    """A copy of schemas/ with one edit in `name`."""
    folder = tmp_path / "schemas"
    shutil.copytree(ROOT / "schemas", folder)
    (tmp_path / "VERSION").write_text("0.0.0\n")
    text = (folder / name).read_text()
    assert old in text
    (folder / name).write_text(text.replace(old, new))
    return folder


def test_a_table_column_missing_from_fields_yaml_is_refused(tmp_path):
    folder = _edited_schemas(tmp_path, "tables.yaml", "fields: [actor_id, alias]", "fields: [actor_id, alias, nickname]")
    with pytest.raises(SchemaDefinitionError, match="nickname"):
        load_schema.__wrapped__(folder)


def test_an_unknown_key_in_a_field_definition_is_refused(tmp_path):
    folder = _edited_schemas(tmp_path, "fields.yaml", "  max_length: 200\n", "  max_lenght: 200\n")
    with pytest.raises(SchemaDefinitionError, match="max_lenght"):
        load_schema.__wrapped__(folder)


def test_a_stray_key_in_a_code_definition_is_refused(tmp_path):
    # an unquoted comma in a flow mapping splits a definition into a second key
    folder = _edited_schemas(tmp_path, "vocabularies.yaml", '{definition: "Withdrawal of forces, personnel or relations."',
                             "{definition: Withdrawal of forces, personnel or relations.")
    with pytest.raises(SchemaDefinitionError, match="personnel or relations"):
        load_schema.__wrapped__(folder)


def test_row_rules_use_the_schema_they_are_given(tmp_path, schema):
    """A rule reads its vocabularies from the schema being validated, not from the project's."""
    folder = _edited_schemas(tmp_path, "vocabularies.yaml", "event_types: [CONSULT]}", "event_types: [PROTEST]}")
    edited = load_schema.__wrapped__(folder)
    fits = RULES["mode_fits_type"]
    events = pd.DataFrame({"event_mode": ["visit", "visit"], "event_type": ["CONSULT", "PROTEST"]})
    assert fits(events, schema).tolist() == [True, False]
    assert fits(events, edited).tolist() == [False, True]


def test_rules_described_and_implemented_are_the_same_set(schema):
    assert set(RULES) == set(schema.rules)
    assert {r for t in schema.tables.values() for r in t.rules} <= set(RULES)


def test_every_vocabulary_code_has_a_definition(schema):
    for vocabulary in schema.vocabularies.values():
        for code, spec in vocabulary.codes.items():
            assert spec.get("definition"), f"{vocabulary.name}.{code}"


@pytest.mark.parametrize("table", list(load_schema().tables))
def test_derived_schemas_have_exactly_the_defined_columns_in_order(schema, table):
    t = schema.tables[table]
    assert arrow_schema(schema, t).names == t.columns
    assert list(pandera_schema(schema, t).columns) == t.columns
    resource = next(r for r in descriptor(schema, _fake_outputs(schema))["resources"] if r["name"] == table)
    assert [f["name"] for f in resource["schema"]["fields"]] == t.columns
    assert resource["schema"]["primaryKey"] == list(t.primary_key)


def _first_field_of_each_type(schema) -> list[tuple[str, str]]:
    seen = {}
    for name, t in schema.tables.items():
        for f in t.fields:
            seen.setdefault(f.type, (name, f.name))
    return sorted(seen.values())


@pytest.mark.parametrize("table, column", _first_field_of_each_type(load_schema()))
def test_a_column_of_another_dtype_than_its_field_type_is_refused(schema, table, column):
    t = schema.tables[table]
    kind = t.field(column).type
    frame = pd.DataFrame({f.name: pd.Series([], dtype=DTYPES[f.type]) for f in t.fields})
    assert not validate_tables(schema, {table: frame}, {table: []}, [table]).items
    other = "Float64" if kind in ("string", "integer", "date", "boolean") else "Int64"
    frame[column] = frame[column].astype("object").astype(other)
    problems = validate_tables(schema, {table: frame}, {table: []}, [table]).items
    assert [(p.value, p.expected) for p in problems] == [(other, f"dtype {DTYPES[kind]}")]


def test_published_descriptor_matches_the_schema(schema):
    published = json.loads((ROOT / "datapackage.json").read_text())
    assert published["version"] == (ROOT / "VERSION").read_text().strip()
    for resource in published["resources"]:
        table = schema.tables[resource["name"]]
        assert [f["name"] for f in resource["schema"]["fields"]] == table.columns
        for field in resource["schema"]["fields"]:
            definition = schema.fields[field["name"]]
            assert field["description"] == definition.description
            if definition.vocabulary:
                assert field["constraints"]["enum"] == schema.codes(definition)


@pytest.mark.parametrize("kind", KINDS)
def test_annotation_json_schema_is_valid_and_covers_the_annotated_columns(schema, kind):
    js = annotation_json_schema(schema, kind)
    jsonschema.Draft7Validator.check_schema(js)
    assert js["$schema"] == "http://json-schema.org/draft-07/schema#"
    for table in schema.tables.values():
        if table.annotation and table.annotation["file"] == kind:
            section = js["properties"][table.annotation["section"]]
            item = section if table.annotation["section"] == "source" else section["items"]
            assert {f.name for f in table.annotated_fields} <= set(item["properties"])
            assert not set(table.derived) & set(item["properties"])


def test_annotation_files_validate_against_the_published_json_schemas():
    from ruamel.yaml import YAML

    for kind, files in (("actors", ["actors.yaml"]), ("places", ["places.yaml"]),
                        ("source", [p.name for p in (ROOT / "annotations").glob("0*.yaml")])):
        js = json.loads((ROOT / f"schemas/json/{kind}.schema.json").read_text())
        for name in files:
            data = YAML(typ="safe").load((ROOT / "annotations" / name).read_text())
            data = json.loads(json.dumps(data, default=str))  # YAML dates -> strings, as the build reads them
            jsonschema.validate(data, js)


def _fake_outputs(schema):
    return {f"data/{t}.{ext}": digest(b"") for t in schema.tables for ext in ("csv", "parquet")}


HOSTILE = r'"x <!-- tables:end --> <script>alert(1)</script>\r\nnext | cell"'


@pytest.mark.parametrize("name, old", [
    ("tables.yaml", 'description: Every surface form by which the texts refer to an actor.'),
    ("fields.yaml", 'description: One-line summary of the event in the annotator\'s words.'),
    ("rules.yaml", 'text: "`char_start` < `char_end`."'),
    ("vocabularies.yaml", '{definition: "Withdrawal of forces, personnel or relations."'),
])
def test_schema_text_cannot_break_the_codebook_or_the_readme(tmp_path, name, old):
    """Markers, raw HTML, line breaks and pipes in any schema text render as plain text in one cell."""
    from noncoop.codebook import codebook, readme_with_tables

    folder = _edited_schemas(tmp_path, name, old, old[:old.index(":") + 1] + " " + HOSTILE)
    edited = load_schema.__wrapped__(folder)
    book = codebook(edited)
    assert "<script" not in book and "<!--" not in book and "\r" not in book
    assert not any(line.startswith("next") for line in book.splitlines())  # the line break did not split it
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    counts = {t: 1 for t in edited.tables}
    once = readme_with_tables(readme, edited, counts)
    assert readme_with_tables(once, edited, counts) == once
    assert once.count("<!-- tables:end -->") == 1


@pytest.fixture(scope="module")
def project_frames(schema):
    from noncoop.cache import Cache
    from noncoop.cli import Stages, _validated
    return _validated(ROOT, schema, Stages(), Cache(ROOT, enabled=False))[0]


def _breakages(schema, t, f, frame) -> list[tuple[str, object]]:
    """Values for column `f` that break each of its checks (or do not: the cases at the edges)."""
    column = frame[f.name]
    first = column.dropna().iloc[0] if column.notna().any() else None
    cases = [("empty", None), ("another row's", column.iloc[-1])]
    if f.type == "string":
        cases += [("blank", ""), ("at max length", "a" * (f.max_length or 10)), ("over max length", "a" * ((f.max_length or 10) + 1)),
                  ("unknown code", "NOT_A_CODE"), ("trailing newline", f"{first}\n" if first is not None else "\n"),
                  ("lower case", str(first).lower() if first is not None else "x")]
    if f.type in ("integer", "number"):
        for bound in (f.minimum, f.maximum):
            if bound is not None:
                cases += [("at a bound", bound), ("below a bound", bound - 1), ("above a bound", bound + 1)]
    return cases


@pytest.mark.parametrize("table", list(load_schema().tables))
def test_the_fast_road_passes_exactly_the_tables_pandera_passes(schema, project_frames, table):
    """validate_tables skips pandera for a table that `_all_pass` finds valid: for every column,
    values that break (or just keep) each of its checks, in the first row, must give the same
    verdict from both (generated from the schema's fields, so a new check is covered too)."""
    from pandera.errors import SchemaErrors
    from noncoop.validate import _all_pass

    t = schema.tables[table]
    frame = project_frames[table].head(3).reset_index(drop=True)
    assert _all_pass(schema, t, frame)
    pandera = pandera_schema(schema, t, rules=False, dtypes=False)
    cases = 0
    for f in t.fields:
        for label, value in _breakages(schema, t, f, frame):
            broken = frame.copy()
            try:
                broken[f.name] = pd.array([value, *broken[f.name].iloc[1:]], dtype=broken[f.name].dtype)
            except (TypeError, ValueError):
                continue  # (not a value of the column's dtype: that is `_dtype_failures`' case)
            try:
                pandera.validate(broken, lazy=True)
                passes = True
            except SchemaErrors:
                passes = False
            assert _all_pass(schema, t, broken) == passes, (f.name, label, value)
            cases += 1
    assert cases >= 2 * len(t.fields)
    assert not _all_pass(schema, t, pd.concat([frame, frame.tail(1)], ignore_index=True))  # (a key twice)
    assert not _all_pass(schema, t, frame[list(reversed(frame.columns))])  # (strict, ordered)

"""Docs stage: `docs/codebook.md` (every table, field, rule and code, from `schemas/`) and the
generated table overview in README.md."""
from __future__ import annotations

import re

from .schema import Field, Schema, Table

README_BLOCK = re.compile(r"(<!-- tables:start[^>]*-->\n).*?(<!-- tables:end -->)", re.S)


def _constraints(schema: Schema, table: Table, f: Field) -> str:
    parts = []
    if f.name in table.primary_key:
        parts.append("primary key" if len(table.primary_key) == 1 else "part of primary key")
    for fk in table.foreign_keys:
        if f.name in fk.fields:
            parts.append(f"→ `{fk.table}.{fk.reference[fk.fields.index(f.name)]}`")
    if f.vocabulary:
        parts.append(f"codes: [{f.vocabulary}](#vocabulary-{f.vocabulary.replace('_', '-')})")
    if f.pattern:
        parts.append(f"pattern `{f.pattern}`")
    if f.minimum is not None or f.maximum is not None:
        parts.append(f"range {f.minimum if f.minimum is not None else '…'}–{f.maximum if f.maximum is not None else '…'}")
    if f.max_length:
        parts.append(f"at most {f.max_length} characters")
    if f.check:
        parts.append(f"check `{f.check}`")
    if f.name in table.derived:
        parts.append("derived by the build")
    return "; ".join(parts)


_LINE_BREAK = re.compile(r"\r\n|[\r\n\u2028\u2029\x85]")
_TAG = re.compile(r"<(?=[A-Za-z!/?])")  # the start of an HTML tag or comment (`a <= b` stays as it is)


def _text(text: str) -> str:
    """Schema text as one line of Markdown: no raw HTML (so no README marker either), no line break."""
    return _TAG.sub("&lt;", _LINE_BREAK.sub(" ", str(text)))


def _cell(text: str) -> str:
    return _text(text).replace("|", "\\|")


def codebook(schema: Schema) -> str:
    meta = schema.package
    out = [f"# Codebook: {meta['title']}", "",
           f"Version {meta['version']}. Generated from `schemas/` by `python build.py`; do not edit by hand.", "",
           "Missing values are empty cells (CSV) or nulls (Parquet). Offsets are 0-based Unicode code point",
           "indices, end-exclusive. Dates are ISO 8601; an uncertain date is an interval with a precision.", "",
           "The tables are published as CSV and Parquet (`data/`). The release archive (`make release`) also",
           "holds them as Stata files (`data/stata/<table>.dta`: coded columns and booleans as labelled",
           "integers, variable labels cut at 80 characters) and one Excel workbook (`data/excel/`, with this",
           "codebook as its `codebook` and `codes` sheets).", "",
           "## Tables", "", "| table | rows are | primary key |", "|---|---|---|"]
    for t in schema.tables.values():
        out.append(f"| [`{t.name}`](#table-{t.name.replace('_', '-')}) | {_cell(t.description)} | "
                   f"{', '.join(t.primary_key)} |")
    for t in schema.tables.values():
        out += ["", f"## Table `{t.name}`", "", _text(t.description), ""]
        if t.annotation:
            file = "<source_id>" if t.annotation["file"] == "source" else t.annotation["file"]
            out.append(_text(f"Rows come from the `{t.annotation['section']}` section of the annotation files "
                             f"(annotations/{file}.yaml)."))
        if t.origin:
            out.append(f"Rows come from: {_text(t.origin)}")
        if t.rules:
            out += ["", "Row rules: " + "; ".join(f"**{r}**: {_text(schema.rules[r])}" for r in t.rules)]
        out += ["", "| column | type | required | description | constraints |", "|---|---|---|---|---|"]
        for f in t.fields:
            out.append(f"| `{f.name}` | {f.type} | {'yes' if f.name in t.required else ''} | "
                       f"{_cell(f.description)} | {_cell(_constraints(schema, t, f))} |")
    out += ["", "## Vocabularies"]
    for v in schema.vocabularies.values():
        order = " An ordinal scale: the codes are listed in order." if v.ordered else ""
        out += ["", f"### Vocabulary `{v.name}`", "", _text(f"{v.description} Source: {v.source}.{order}"), "",
                "| code | definition | notes |", "|---|---|---|"]
        for code, spec in v.codes.items():
            notes = [f"{k.replace('_', ' ')}: {', '.join(val) if isinstance(val, list) else val}"
                     for k, val in spec.items() if k not in ("definition", "project")]
            if spec.get("project"):
                notes.append("project addition")
            out.append(f"| `{code}` | {_cell(spec['definition'])} | {_cell('; '.join(notes))} |")
    out += ["", "Gene Sharp's 198 methods are the table `sharp_methods` (`data/sharp_methods.csv`).", ""]
    return "\n".join(out)


def readme_with_tables(readme: str, schema: Schema, counts: dict[str, int]) -> str:
    """README.md with its generated table overview (between the tables: markers) brought up to date."""
    rows = ["| table | rows | one row per |", "|---|---|---|"]
    rows += [f"| `{t.name}` | {counts[t.name]} | {_cell(t.description)} |" for t in schema.tables.values()]
    return README_BLOCK.sub(lambda m: m.group(1) + "\n".join(rows) + "\n" + m.group(2), readme)

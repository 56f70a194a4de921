"""Excel stage: `data/excel/<package>.xlsx`, one workbook derived from `schemas/`; made by the release
(release.py), not by the build: the repository does not hold it.

A sheet per table (header row frozen and filterable), then `codebook` (every column of every
table with its type, requirement, codes and description) and `codes` (every code with its
definition). Dates are Excel dates, booleans Excel booleans, numbers numbers, text text: no
cell is ever turned into a formula, a link or a number. The workbook is written in memory, which
stamps every member of the zip with 1980-01-01, and its document dates are the release date, so
the same inputs give the same bytes.
"""
from __future__ import annotations

import datetime
import io
from typing import Any

import pandas as pd
import xlsxwriter

from .schema import Schema, Table
from .tables import typed

SHEET_NAME_LIMIT = 31
WIDTH = {"string": 28, "integer": 10, "number": 12, "boolean": 9, "date": 11}


def _cell(value: Any) -> Any:
    """A Python value for xlsxwriter, None for missing."""
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value


def _sheet(book: xlsxwriter.Workbook, name: str, header: list[str], rows, kinds: list[str], widths: list[int],
           formats: dict) -> None:
    sheet = book.add_worksheet(name[:SHEET_NAME_LIMIT])
    sheet.write_row(0, 0, header, formats["header"])
    for c, width in enumerate(widths):
        sheet.set_column(c, c, width)
    writers = {"string": sheet.write_string, "integer": sheet.write_number, "number": sheet.write_number,
               "boolean": sheet.write_boolean}
    r = 0
    for r, row in enumerate(rows, start=1):
        for c, (kind, value) in enumerate(zip(kinds, row)):
            value = _cell(value)
            if value is None:
                continue
            if kind == "date":
                sheet.write_datetime(r, c, value, formats["date"])
            else:
                writers[kind](r, c, value if kind != "string" else str(value))
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(r, 1), len(header) - 1)


def _table_rows(schema: Schema, table: Table, df: pd.DataFrame):
    frame = typed(schema, table, df)
    return zip(*(frame[f.name].astype(object).tolist() for f in table.fields))


def workbook_bytes(schema: Schema, frames: dict[str, pd.DataFrame]) -> bytes:
    """Every table, the codebook and the code definitions in one .xlsx."""
    meta = schema.package
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
                                        "strings_to_urls": False})
    created = datetime.datetime.fromisoformat(meta["created"].replace("Z", "+00:00")).replace(tzinfo=None)
    book.set_properties({"title": meta["title"], "subject": f"version {meta['version']}", "created": created,
                         "comments": "Generated from schemas/ by python build.py; see the codebook sheet."})
    formats = {"header": book.add_format({"bold": True}), "date": book.add_format({"num_format": "yyyy-mm-dd"})}
    for name, table in schema.tables.items():
        kinds = ["string" if f.vocabulary else f.type for f in table.fields]
        _sheet(book, name, table.columns, _table_rows(schema, table, frames[name]), kinds,
               [WIDTH[k] for k in kinds], formats)
    codebook = [(t.name, f.name, f.type, f.name in t.required, f.vocabulary or "", f.description)
                for t in schema.tables.values() for f in t.fields]
    _sheet(book, "codebook", ["table", "column", "type", "required", "vocabulary", "description"], codebook,
           ["string", "string", "string", "boolean", "string", "string"], [16, 24, 9, 9, 20, 100], formats)
    codes = [(v.name, code, spec["definition"]) for v in schema.vocabularies.values() for code, spec in v.codes.items()]
    _sheet(book, "codes", ["vocabulary", "code", "definition"], codes, ["string"] * 3, [20, 24, 100], formats)
    book.close()
    return buffer.getvalue()


def workbook_path(schema: Schema) -> str:
    return f"data/excel/{schema.package['name']}.xlsx"


def render_excel(schema: Schema, frames: dict[str, pd.DataFrame]):
    """`data/excel/<package name>.xlsx`, as (path, bytes)."""
    yield workbook_path(schema), workbook_bytes(schema, frames)

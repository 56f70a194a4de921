"""The Stata and Excel files of the release archive (only the release holds them), read back with
tools nobody here wrote (pyreadstat, openpyxl, LibreOffice), cell by cell against the release's CSV:
Stata dates and 0/1 booleans with labels, value labels in codebook order, variable labels within
Stata's limit, real Excel dates and booleans, text intact."""
from __future__ import annotations

import csv
import datetime
import os
import shutil
import subprocess
import zipfile

import openpyxl
import pyreadstat
import pytest

from noncoop.excel import workbook_path
from noncoop.schema import load_schema
from noncoop.stata import LABEL_LIMIT, dta_path, label

SCHEMA = load_schema()


@pytest.fixture(scope="module")
def workbook(release_folder):
    return release_folder / workbook_path(SCHEMA)


@pytest.fixture(scope="module")
def rows(release_folder):
    """Every table of the release as its CSV rows."""
    tables = {}
    for name in SCHEMA.tables:
        with (release_folder / "data" / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
            tables[name] = list(csv.DictReader(handle))
    return tables


def _text(value) -> str:
    """A read-back value in the CSV's spelling."""
    if value is None or value == "" or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@pytest.mark.parametrize("name", list(SCHEMA.tables))
def test_stata_file_reads_back_as_the_csv_with_labels(release_folder, rows, name):
    table, rows = SCHEMA.tables[name], rows[name]
    frame, meta = pyreadstat.read_dta(str(release_folder / dta_path(name)), apply_value_formats=False)
    assert list(frame.columns) == table.columns  # no name renamed, empty columns kept
    assert meta.file_label == label(table.title)
    assert len(frame) == len(rows)
    for f in table.fields:
        labels = meta.variable_value_labels.get(f.name)
        assert meta.column_names_to_labels[f.name] == label(f.description)
        if f.type == "date":
            assert meta.original_variable_types[f.name] == "%td", f.name
        if f.vocabulary:
            assert labels == dict(enumerate(SCHEMA.codes(f))), f.name
        elif f.type == "boolean":
            assert labels == {0: "false", 1: "true"}
        else:
            assert labels is None, f.name
        for value, row in zip(frame[f.name], rows):
            if labels and value == value:
                value = labels[int(value)]
            assert _text(value) == row[f.name], (name, f.name, row)


def test_variable_labels_keep_within_stata_limit_and_say_where_cut():
    for f in SCHEMA.fields.values():
        cut = label(f.description)
        assert len(cut) <= LABEL_LIMIT
        assert cut == f.description or (cut.endswith("…") and f.description.startswith(cut[:-1]))
    assert any(len(f.description) > LABEL_LIMIT for f in SCHEMA.fields.values())  # the cut is exercised


@pytest.fixture(scope="module")
def book(workbook):
    return openpyxl.load_workbook(workbook, read_only=False)


def test_workbook_has_a_sheet_per_table_then_codebook_and_codes(book):
    assert book.sheetnames == [*SCHEMA.tables, "codebook", "codes"]
    codebook = list(book["codebook"].iter_rows(values_only=True))
    assert len(codebook) - 1 == sum(len(t.fields) for t in SCHEMA.tables.values())
    codes = list(book["codes"].iter_rows(values_only=True))
    assert len(codes) - 1 == sum(len(v.codes) for v in SCHEMA.vocabularies.values())


@pytest.mark.parametrize("name", list(SCHEMA.tables))
def test_workbook_sheet_equals_the_csv_with_typed_cells(book, rows, name):
    table, sheet, rows = SCHEMA.tables[name], book[name], rows[name]
    cells = list(sheet.iter_rows())
    assert [c.value for c in cells[0]] == table.columns
    assert len(cells) - 1 == len(rows)
    for row, expected in zip(cells[1:], rows):
        for f, cell in zip(table.fields, row):
            assert _text(cell.value) == expected[f.name], (name, f.name, cell.coordinate)
            if cell.value is None:
                continue
            if f.type == "date":
                assert isinstance(cell.value, datetime.datetime) and cell.is_date, cell.coordinate
            elif f.type == "boolean":
                assert cell.data_type == "b", cell.coordinate
            elif f.type in ("integer", "number"):
                assert cell.data_type == "n", cell.coordinate
            else:
                assert cell.data_type == "s", cell.coordinate  # never a formula, a link or a number


def test_workbook_keeps_typographic_characters(workbook, rows):
    texts = "".join(cell for table in rows.values() for row in table for cell in row.values())
    typographic = {c for c in texts if ord(c) > 127}
    assert {"’", "“", "”", "—"} & typographic  # the data has them ...
    shared = zipfile.ZipFile(workbook).read("xl/sharedStrings.xml").decode("utf-8")
    assert all(c in shared for c in typographic)  # ... and the workbook keeps every one


def test_workbook_members_and_dates_are_fixed(workbook):
    with zipfile.ZipFile(workbook) as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    created = datetime.datetime.fromisoformat(SCHEMA.package["created"].replace("Z", "+00:00")).replace(tzinfo=None)
    properties = openpyxl.load_workbook(workbook, read_only=True).properties
    assert properties.created == created and properties.modified == created


def _same_cell(shown: str, expected: str) -> bool:
    """LibreOffice's CSV spelling of a cell against the published CSV's."""
    if shown in ("TRUE", "FALSE"):
        return shown.lower() == expected
    try:
        return float(shown) == float(expected)
    except ValueError:
        return shown == expected


def test_libreoffice_reads_every_sheet_as_the_csv(tmp_path, workbook, rows):
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice not installed (Debian libreoffice-calc-nogui)")
    # every sheet to UTF-8 CSV (filter options: separator, quote, UTF-8, ..., all sheets)
    options = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"
    result = subprocess.run([soffice, "--headless", "--norestore", "--convert-to", options, "--outdir", str(tmp_path),
                             str(workbook)], env={**os.environ, "HOME": str(tmp_path)}, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    for name in SCHEMA.tables:
        with (tmp_path / f"{workbook.stem}-{name}.csv").open(encoding="utf-8", newline="") as handle:
            shown = list(csv.DictReader(handle))
        expected = rows[name]
        assert len(shown) == len(expected)
        for got, want in zip(shown, expected):
            bad = [c for c in want if not _same_cell(got[c], want[c])]
            assert not bad, (name, bad, got, want)

"""Every CSV reads back to the same rows in Python's csv, pandas, DuckDB and frictionless, whatever
the text: verbatim article spans may hold any character an article holds (carriage returns,
quotes, commas, line and paragraph separators, text starting with `=`)."""
from __future__ import annotations

import csv
import hashlib
import json
import os
import re

import duckdb
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from noncoop.write import csv_bytes

from conftest import run_build

# any character a decoded article can hold (NUL is refused as binary, surrogates cannot be UTF-8)
TEXT = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), min_size=1, max_size=12)
NASTY = st.sampled_from(["\r", "\n", "\r\n", '"', ",", "=1+1", "-", "@x", " lead", "trail ", "\u2028", "\x85", "\x0b",
                         "\ufeff", "Київ", "\t"])
CELLS = st.lists(st.one_of(st.none(), TEXT, NASTY, st.builds("".join, st.lists(NASTY, min_size=1, max_size=4))),
                 min_size=1, max_size=6)


def _table(cells: list) -> pa.Table:
    return pa.table({"id": pa.array([str(i) for i in range(len(cells))]), "text": pa.array(cells, pa.string()),
                     "code": pa.array(cells, pa.string()).dictionary_encode()})


def _expected(cells: list) -> list[list[str]]:
    return [[str(i), c or "", c or ""] for i, c in enumerate(cells)]


def _readers(path: str) -> dict[str, list[list[str]]]:
    with open(path, encoding="utf-8", newline="") as handle:
        python = list(csv.reader(handle))[1:]
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    duck = duckdb.sql(f"SELECT * FROM read_csv('{path}', header=true, all_varchar=true, delim=',', quote='\"', "
                      "escape='\"', strict_mode=true)").fetchall()
    return {"csv": python, "pandas": frame.values.tolist(),
            "duckdb": [[v if v is not None else "" for v in row] for row in duck]}


@settings(max_examples=int(os.environ.get("NONCOOP_FUZZ_EXAMPLES", 150)), deadline=None)
@given(CELLS)
def test_any_text_reads_back_the_same_in_csv_pandas_and_duckdb(tmp_path_factory, cells):
    path = str(tmp_path_factory.mktemp("csv") / "t.csv")
    with open(path, "wb") as handle:
        handle.write(csv_bytes(_table(cells)))
    for reader, rows in _readers(path).items():
        assert rows == _expected(cells), reader


@pytest.mark.parametrize("cell", ["a\rb", "line\r\nbreak", '"quoted"', "=SUM(A1:A2)", "x\u2028y", "tab\tend"])
def test_frictionless_reads_back_the_same_text(tmp_path, cell):
    from frictionless import Resource, Schema

    path = tmp_path / "t.csv"
    path.write_bytes(csv_bytes(_table([cell, None])))
    schema = Schema.from_descriptor({"fields": [{"name": n, "type": "string"} for n in ("id", "text", "code")]})
    with Resource(path=str(path), schema=schema) as resource:
        rows = [[r["id"], r["text"] or "", r["code"] or ""] for r in resource.read_rows()]
    assert rows == _expected([cell, None])


def test_an_article_with_carriage_return_line_ends_builds_a_valid_package(tree):
    """Offsets count the CRs, a span across a line end keeps its CR, and every CSV row stays one row."""
    article = next((tree / "articles").glob("000_*.txt"))
    crlf = article.read_bytes().replace(b"\n", b"\r")
    article.write_bytes(crlf)
    text = crlf.decode("utf-8")
    annotation = tree / "annotations" / f"{article.stem}.yaml"
    yaml_text = annotation.read_text(encoding="utf-8")
    yaml_text = yaml_text.replace(hashlib.sha256(crlf.replace(b"\r", b"\n")).hexdigest(), hashlib.sha256(crlf).hexdigest())
    first = re.search(r"^    evidence: (.*)$", yaml_text, re.M)
    start = text.index(first.group(1))
    across = text[start:text.index("\r", start) + 12]  # the evidence runs on past its line end
    yaml_text = yaml_text[:first.start(1)] + json.dumps(across, ensure_ascii=False) + yaml_text[first.end(1):]
    annotation.write_text(yaml_text, encoding="utf-8")
    result = run_build(tree)
    assert result.returncode == 0, result.stderr
    events = pd.read_csv(tree / "data/events.csv", dtype=str, keep_default_na=False)
    parquet = pd.read_parquet(tree / "data/events.parquet")
    assert len(events) == len(parquet) and across in events.evidence.tolist()
    assert events.evidence.tolist() == parquet.evidence.tolist()
    mine = events[events.source_id == article.stem]
    assert [text[int(s):int(e)] for s, e in zip(mine.char_start, mine.char_end)] == mine.evidence.tolist()
    assert duckdb.sql(f"SELECT count(*) FROM read_csv('{tree / 'data/events.csv'}', all_varchar=true)").fetchall()[0][0] \
        == len(parquet)

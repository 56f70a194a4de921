"""The published package, checked with tools nobody here wrote: frictionless, DuckDB, polars."""
from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest

from conftest import ROOT, make_tree, run_build, snapshot

DESCRIPTOR = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))
TABLES = [r["name"] for r in DESCRIPTOR["resources"]]


def test_official_frictionless_validator_passes():
    cli = Path(sys.executable).with_name("frictionless")
    result = subprocess.run([str(cli), "validate", "--json", "datapackage.json"], cwd=ROOT,
                            capture_output=True, text=True, timeout=600)
    report = json.loads(result.stdout)
    assert result.returncode == 0 and report["valid"], result.stdout[-3000:]
    assert {task["name"] for task in report["tasks"]} == {r["name"] for r in DESCRIPTOR["resources"]}


def test_frictionless_validates_every_parquet_twin_against_its_table_schema(tmp_path):
    # The twins are described inside their CSV resource (see package.py): validate each as a
    # resource of its own, with the same schema, so the official validator still reads them
    # (without `bytes`: frictionless cannot count Parquet bytes; test_parquet_twins_... checks them).
    resources = [{**{k: v for k, v in r.items() if k not in ("parquet", "dialect", "encoding", "profile", "bytes")},
                  **{k: v for k, v in r["parquet"].items() if k != "bytes"}} for r in DESCRIPTOR["resources"]]
    descriptor = tmp_path / "datapackage.json"
    descriptor.write_text(json.dumps({**DESCRIPTOR, "resources": resources}), encoding="utf-8")
    for resource in resources:
        (tmp_path / "data").mkdir(exist_ok=True)
        (tmp_path / resource["path"]).write_bytes((ROOT / resource["path"]).read_bytes())
    cli = Path(sys.executable).with_name("frictionless")
    result = subprocess.run([str(cli), "validate", "--json", "datapackage.json"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=600)
    report = json.loads(result.stdout)
    assert result.returncode == 0 and report["valid"], result.stdout[-3000:]
    assert {task["name"] for task in report["tasks"]} == set(TABLES)


def test_every_file_matches_its_descriptor_checksum():
    # frictionless never checks Parquet hashes (docs/sources.md, "Tool facts"): we do.
    for resource in DESCRIPTOR["resources"]:
        data = (ROOT / resource["path"]).read_bytes()
        assert resource["hash"] == "sha256:" + hashlib.sha256(data).hexdigest(), resource["path"]
        if "bytes" in resource:
            assert resource["bytes"] == len(data)


@pytest.mark.parametrize("table", TABLES)
def test_duckdb_reads_parquet_and_csv_with_the_same_rows(table):
    con = duckdb.connect()
    parquet = con.execute(f"SELECT * FROM read_parquet('{ROOT}/data/{table}.parquet')").fetchall()
    csv_rows = con.execute(f"SELECT * FROM read_csv('{ROOT}/data/{table}.csv', header=true, all_varchar=true)").fetchall()
    assert len(parquet) == len(csv_rows) > 0


@pytest.mark.parametrize("table", TABLES)
def test_polars_reads_parquet_with_declared_types(table):
    frame = pl.read_parquet(ROOT / f"data/{table}.parquet")
    resource = next(r for r in DESCRIPTOR["resources"] if r["name"] == table)
    expected = {"string": (pl.String, pl.Categorical, pl.Enum), "integer": (pl.Int64,), "number": (pl.Float64,),
                "boolean": (pl.Boolean,), "date": (pl.Date,)}
    for field in resource["schema"]["fields"]:
        assert isinstance(frame.schema[field["name"]], expected[field["type"]]) or \
            frame.schema[field["name"]] in expected[field["type"]], field["name"]


def test_foreign_keys_leave_no_orphans_in_duckdb():
    con = duckdb.connect()
    for table in TABLES:
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{ROOT}/data/{table}.parquet')")
    checked = 0
    for resource in DESCRIPTOR["resources"]:
        for fk in resource["schema"].get("foreignKeys", []):
            (column,), (target,) = fk["fields"], fk["reference"]["fields"]
            parent = fk["reference"]["resource"]
            orphans = con.execute(
                f"SELECT count(*) FROM {resource['name']} c LEFT JOIN {parent} p ON CAST(c.{column} AS VARCHAR) = "
                f"CAST(p.{target} AS VARCHAR) WHERE c.{column} IS NOT NULL AND p.{target} IS NULL").fetchone()[0]
            assert orphans == 0, f"{resource['name']}.{column} -> {parent}.{target}"
            checked += 1
    assert checked >= 14


def test_every_span_equals_its_article_characters():
    texts = {p.stem: p.read_text(encoding="utf-8") for p in (ROOT / "articles").glob("*.txt")}
    spans = 0
    for table, column in (("events", "evidence"), ("quotes", "text")):
        with open(ROOT / f"data/{table}.csv", encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                text = texts[row["source_id"]]
                assert text[int(row["char_start"]):int(row["char_end"])] == row[column], row
                spans += 1
    assert spans >= 50


def test_recorded_article_checksums_match_the_files():
    with open(ROOT / "data/sources.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows
    for row in rows:
        data = (ROOT / row["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == row["sha256"]
        assert len(data.decode("utf-8")) == int(row["char_count"])


def test_csv_follows_the_dialect(schema):
    for table in TABLES:
        raw = (ROOT / f"data/{table}.csv").read_bytes()
        assert b"\r" not in raw and raw.endswith(b"\n") and not raw.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))
        assert rows[0] == schema.tables[table].columns
        booleans = [i for i, f in enumerate(schema.tables[table].fields) if f.type == "boolean"]
        assert all(row[i] in ("true", "false", "") for row in rows[1:] for i in booleans)


def test_csv_cells_of_every_type_read_back_as_written():
    """Cells are rendered by column (Arrow casts); each type must come out as a reader expects."""
    from datetime import date

    import pyarrow as pa

    from noncoop.write import csv_bytes

    table = pa.table({
        "i": pa.array([1, -5, None, 2**62], pa.int64()),
        "f": pa.array([46.6354, 1e-05, None, 0.1], pa.float64()),
        "b": pa.array([True, False, None, True]),
        "d": pa.array([date(2022, 7, 28), None, date(1, 1, 1), date(2022, 12, 31)], pa.date32()),
        "c": pa.array(["ASSAULT", None, "ASSAULT", "PROTEST"]).dictionary_encode(),
        "s": pa.array(['he said "no", then\nleft', None, "", "Київ"]),
    })
    rows = list(csv.reader(io.StringIO(csv_bytes(table).decode("utf-8"), newline="")))
    assert rows == [["i", "f", "b", "d", "c", "s"],
                    ["1", "46.6354", "true", "2022-07-28", "ASSAULT", 'he said "no", then\nleft'],
                    ["-5", "1e-05", "false", "", "", ""],
                    ["", "", "", "0001-01-01", "ASSAULT", ""],
                    ["4611686018427387904", "0.1", "true", "2022-12-31", "PROTEST", "Київ"]]


def test_rows_are_sorted_by_primary_key(schema):
    for table in TABLES:
        keys = schema.tables[table].primary_key
        frame = pl.read_parquet(ROOT / f"data/{table}.parquet").with_columns(pl.col(pl.Categorical).cast(pl.String))
        assert frame.select(keys).rows() == frame.sort(keys).select(keys).rows(), table


def test_committed_outputs_equal_a_fresh_rebuild(tmp_path):
    tree = make_tree(tmp_path / "tree")
    for rel in ("data", "schemas/json", "docs/viewer"):
        shutil.rmtree(tree / rel)
    (tree / "datapackage.json").unlink()
    (tree / "docs/codebook.md").unlink()
    result = run_build(tree)
    assert result.returncode == 0, result.stderr
    assert snapshot(tree) == snapshot(ROOT), "committed outputs are stale: run `make data` and commit"


def test_an_in_process_build_leaves_no_object_frozen(tree):
    """The build freezes what each stage keeps, and unfreezes it when done: nothing a caller holds
    (here DuckDB's objects) outlives the interpreter uncollected, which DuckDB reports at exit as
    about 50 lines of 'nanobind: leaked ...' after the test summary."""
    code = ("import sys, gc, duckdb; sys.path.insert(0, sys.argv[1]); from noncoop.cli import main; "
            "duckdb.sql('SELECT 1 AS a').types; assert main(['--root', sys.argv[2]]) == 0; "
            "assert gc.get_freeze_count() == 0, gc.get_freeze_count()")
    result = subprocess.run([sys.executable, "-c", code, str(ROOT / "src"), str(tree)], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "nanobind" not in result.stderr, result.stderr[-2000:]

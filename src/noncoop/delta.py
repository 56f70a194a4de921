"""Delta check: a check of a few changed articles against the last corpus that passed in full.

A full check that finds no problem leaves a `Baseline` in the cache: per table, each row's hash
(record.row_hashes), its primary key's hash and the article it came from, and the columns that
foreign keys and the check's notes read; per article, its cache key and its text's digest; the
completeness notes of the articles not yet published. A later check whose code, schemas and
registries are those of the baseline, and in which a few articles' annotations changed or were
added (none removed, no article text changed: a registry alias found in one stays found), resolves
and validates only those articles' rows, with the functions a full check uses: every column check
and row rule, every rule among an article's own rows (`validate_articles`). What joins them to the
rest is checked against the baseline: primary keys unique across the corpus, every foreign key of
the new rows resolving and none of the others' pointing at a row that is gone, the incidents
(same_as chains) of the other articles' events unchanged. The verdict is then the one a full
check reaches: counts, fingerprint (from the kept rows' hashes and the new ones'), reference notes
and completeness notes.

When the changed articles have any problem, or anything else changed, the delta check gives way
to the full one (`None`): it never has to reproduce a full check's messages, only its passes.
tests/test_delta.py compares both on random edits.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .cache import Cache, combined, files_digest, sha256
from .errors import Problems
from .read import annotation_files
from .record import Fingerprint, Verdict, code_of, dtypes_of, frame_digest, row_hashes, texts_digest
from .resolve import incident_ids, piece_keys, resolve_articles
from .scaffold import notes_by_article, published_sources
from .schema import Schema, Table
from .show import REFERENCES, notes_of
from .tables import build_frames
from .validate import validate_articles, validate_tables

KIND, SLOT = "baseline", "latest"  # one baseline per project: the last full check that passed
MAX_CHANGED = 64  # changed articles beyond which (and beyond a 20th of the corpus) the full check runs
NOTE_COLUMNS = {"events": ("event_id", "summary", "incident_id"), **REFERENCES}  # what notes and incidents read


@dataclass
class Rows:
    """What the baseline keeps of one table, in the table's row order."""

    dtypes: str
    hashes: np.ndarray  # record.row_hashes
    keys: np.ndarray  # the primary key's hash (row_hashes of its columns)
    article: np.ndarray  # the position of the article each row came from in `Baseline.articles` (past it: none)
    columns: pa.Table  # the columns foreign keys and the notes read


@dataclass
class Baseline:
    context: str  # `context`: the code, schemas and registries it was checked with
    articles: dict[str, tuple[str, str]]  # source_id -> (cache key, SHA-256 of its text), in file order
    tables: dict[str, Rows]
    hints: dict[str, list[str]]  # completeness notes by source_id, of the articles whose notes it holds


def context(root: Path, schema: Schema) -> str:
    return combined(code_of(schema), files_digest(root / "annotations", ("actors.yaml", "places.yaml")))


def _arrow(values: pd.Series) -> pa.Array:
    array = pa.array(values)
    return array.cast(pa.string()) if pa.types.is_large_string(array.type) else array


def _key_hashes(df: pd.DataFrame, table: Table) -> np.ndarray:
    return row_hashes(df[list(table.primary_key)])


def baseline(schema: Schema, frames: dict[str, pd.DataFrame], hashes: dict[str, np.ndarray], texts: dict[str, str],
             extents: list[tuple[str, str | None, dict[str, int]]], context: str,
             hints: dict[str, list[str]]) -> Baseline | None:
    """The baseline of a corpus that passed a full check (None if an article's key is unknown).
    `extents`: per article in file order, its cache key and the rows it added per table
    (`Resolved.extents`); each frame's index is the row's position in that order."""
    if any(key is None for _, key, _ in extents):
        return None
    article = {}
    for name, df in frames.items():
        ends = np.cumsum([sizes[name] for _, _, sizes in extents], dtype=np.int64)
        article[name] = np.searchsorted(ends, df.index.to_numpy(), side="right").astype(np.int32)
    # the columns read: the notes', the keys foreign keys refer to, and the foreign keys to rows of
    # articles (the registries' rows never change under a delta check: none can be gone)
    kept = {name: set(NOTE_COLUMNS.get(name, ())) for name in schema.tables}
    for name, table in schema.tables.items():
        for fk in table.foreign_keys:
            kept[fk.table].add(fk.reference[0])
            if (article[fk.table] < len(extents)).any():
                kept[name].add(fk.fields[0])
    tables = {}
    for name, table in schema.tables.items():
        df = frames[name]
        columns = pa.table({c: _arrow(df[c]) for c in table.columns if c in kept[name]})
        tables[name] = Rows(dtypes_of(df), hashes[name], _key_hashes(df, table), article[name], columns)
    articles = {source_id: (key, sha256(texts[source_id].encode("utf-8"))) for source_id, key, _ in extents}
    return Baseline(context, articles, tables, hints)


def check(root: Path, schema: Schema, cache: Cache) -> Verdict | None:
    """The verdict of a check that validates only the articles changed since the baseline, or
    None when the full check must run (no baseline, too much changed, or any problem found)."""
    base = cache.get(KIND, SLOT) if cache else None
    if not isinstance(base, Baseline) or base.context != context(root, schema):
        return None
    problems = Problems()
    files = annotation_files(root, problems)
    keys = dict(zip([source_id for source_id, _ in files], piece_keys(root, schema, [k for k, _ in files])))
    if problems or None in keys.values() or set(base.articles) - set(keys):
        return None  # a misnamed or unreadable file, or an article removed
    changed = [(source_id, path) for source_id, path in files
               if base.articles.get(source_id, ("",))[0] != keys[source_id]]
    if len(changed) > max(MAX_CHANGED, len(files) // 20):
        return None
    part, texts, _ = resolve_articles(root, schema, changed, cache, problems)
    digests = {k: sha256(a.text.encode("utf-8")) for k, a in part.articles.items()}
    if (problems or None in texts or any(key is None for _, key, _ in part.extents)
            or any(base.articles.get(k, (None, d))[1] != d for k, d in digests.items())):
        return None
    position = {source_id: i for i, source_id in enumerate(base.articles)}
    old = np.array([position[k] for k, _ in changed if k in position], dtype=np.int32)
    keep = {name: ~np.isin(rows.article, old) for name, rows in base.tables.items()}
    kept = {name: rows.columns.filter(pa.array(keep[name])) if rows.columns.num_columns else rows.columns
            for name, rows in base.tables.items()}
    if not _incidents(part, base, keep, kept):
        return None
    frames = build_frames(schema, part)
    if (validate_tables(schema, frames, part.origins, [name for name, df in frames.items() if len(df)])
            or validate_articles(schema, frames, {k: a.text for k, a in part.articles.items()},
                                 {k: a.sha256 for k, a in part.articles.items()}, part.origins)
            or not _joined(schema, base, keep, kept, frames)):
        return None
    hashes = {name: np.concatenate([base.tables[name].hashes[keep[name]], row_hashes(df)]) for name, df in frames.items()}
    texts_now = {k: d for k, (_, d) in base.articles.items()} | digests
    fp = Fingerprint({name: frame_digest(base.tables[name].dtypes, h) for name, h in hashes.items()},
                     texts_digest(texts_now), code_of(schema))
    hints = _hints(root, base, part.articles, frames)
    if hints is None:
        return None
    return Verdict([], {name: len(h) for name, h in hashes.items()},
                   _notes(root, kept, frames) if os.path.lexists(root / "datapackage.json") else [],
                   [note for k in sorted(hints) for note in hints[k]], fp)


def _hints(root: Path, base: Baseline, changed, frames: dict[str, pd.DataFrame]) -> dict[str, list[str]] | None:
    """The completeness notes of every article the published sources.csv does not hold: the
    changed articles' anew, the others' from the baseline (None: it does not hold them)."""
    hints = notes_by_article(root, frames)
    published = published_sources(root)
    for source_id in base.articles:
        if source_id not in published and source_id not in changed:
            if source_id not in base.hints:
                return None
            hints[source_id] = base.hints[source_id]
    return dict(sorted(hints.items()))


def _incidents(part, base: Baseline, keep: dict[str, np.ndarray], kept: dict[str, pa.Table]) -> bool:
    """Give the changed articles' events their incident IDs (resolve.incident_ids over the whole
    corpus); False when an event of another article would change incident (the full check tells).
    Only events at the end of a same_as link, now or in the baseline, can have another incident
    than their own."""
    new_events = part.values("events", "event_id")
    links = {c: part.values("event_links", c) for c in ("event_id", "linked_event_id", "link_type")}
    same_as = kept["event_links"].filter(pc.equal(kept["event_links"]["link_type"], "same_as"))
    ends_a = same_as["event_id"].to_pylist() + links["event_id"]
    ends_b = same_as["linked_event_id"].to_pylist() + links["linked_event_id"]
    kinds = ["same_as"] * same_as.num_rows + links["link_type"]
    gone = base.tables["event_links"].columns.filter(pa.array(~keep["event_links"]))
    gone = gone.filter(pc.equal(gone["link_type"], "same_as"))
    ends = set(ends_a) | set(ends_b) | set(gone["event_id"].to_pylist()) | set(gone["linked_event_id"].to_pylist())
    events = kept["events"]
    linked = pc.is_in(events["event_id"], value_set=pa.array(list(ends), pa.string()))
    others = events.filter(linked)  # the events of the other articles at a link's end
    ids = new_events + others["event_id"].to_pylist()
    incident = dict(zip(ids, incident_ids(ids, {"event_id": ends_a, "linked_event_id": ends_b, "link_type": kinds})))
    if any(incident[e] != was for e, was in zip(*(others[c].to_pylist() for c in ("event_id", "incident_id")))):
        return False
    part.columns["events"]["incident_id"] = [incident[e] for e in new_events]
    part.chunks["events"]["incident_id"] = []
    return True


def _joined(schema: Schema, base: Baseline, keep: dict[str, np.ndarray], kept: dict[str, pa.Table],
            frames: dict[str, pd.DataFrame]) -> bool:
    """Whether the new rows join the kept ones as a full check requires: primary keys unique across
    both, the new rows' foreign keys resolving, no kept row referring to a row that is gone."""
    for name, table in schema.tables.items():
        df = frames[name]
        if dtypes_of(df) != base.tables[name].dtypes:
            return False  # (hashes of other dtypes would not be comparable)
        if len(df) and _any_in(base.tables[name].keys[keep[name]], _key_hashes(df, table)):
            return False  # (a collision of two 64-bit hashes only sends it to the full check)
        for fk in table.foreign_keys:
            (column,), (target,) = fk.fields, fk.reference
            before = base.tables[fk.table].columns[target]
            now = _arrow(frames[fk.table][target]).cast(before.type)
            values = _arrow(df[column].dropna()).cast(before.type)
            if len(values) and not _all_in(values, [*kept[fk.table][target].chunks, now]):
                return False
            gone = before.filter(pa.array(~keep[fk.table]))
            gone = gone.filter(pc.invert(pc.is_in(gone, value_set=now)))
            if len(gone) and _any_in(kept[name][column], gone):
                return False
    return True


def _all_in(values: pa.Array, known: list[pa.Array]) -> bool:
    """Whether every one of `values` (few) is among the arrays `known` (many): Arrow hashes the
    few and looks each of the many up."""
    wanted = pc.unique(values)
    found = pc.unique(pa.chunked_array([part.filter(pc.is_in(part, value_set=wanted)) for part in known], wanted.type))
    return len(found) == len(wanted)


def _any_in(values, found) -> bool:
    """Whether any of `values` is one of `found` (Arrow hashes the smaller side, `found`)."""
    found = found.combine_chunks() if isinstance(found, pa.ChunkedArray) else pa.array(found)
    return bool(pc.any(pc.is_in(values, value_set=found)).as_py())


def _notes(root: Path, kept: dict[str, pa.Table], frames: dict[str, pd.DataFrame]) -> list[str]:
    """show.reference_notes of the whole corpus: the kept rows and the new."""
    def corpus(name: str, columns: tuple[str, ...]) -> pa.Table:
        old = kept[name].select(list(columns))
        return pa.concat_tables([old, pa.table({c: _arrow(frames[name][c]).cast(old[c].type) for c in columns})])
    events = corpus("events", ("event_id", "summary"))

    @lru_cache(maxsize=None)
    def summary_of(event_id: str) -> str:
        at = pc.index(events["event_id"], event_id).as_py()
        return "(no such row)" if at < 0 else str(events["summary"][at].as_py())
    return notes_of(root, *(corpus(name, REFERENCES[name]) for name in ("event_links", "quotes")), summary_of)

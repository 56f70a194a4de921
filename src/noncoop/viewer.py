"""Review viewer: self-contained HTML pages that show every event and quote span in its article.

`render_viewer` turns the tables into `docs/viewer/<source_id>.html` (the article text with every
span marked, a list of its events and quotes, and a detail panel) and `docs/viewer/index.html`
(the articles and a timeline of the events' date intervals). This module prepares the data; the
markup is in the Jinja2 templates of `templates/` (but for a page's side list and marked text,
written here for speed), the CSS and JS in `static/`. The pages load
nothing: CSS and JS are inlined, the rows are embedded as JSON. Output depends only on the inputs
(rows sorted by ID, JSON with sorted keys, no clock), so two renders give the same bytes.
"""
from __future__ import annotations

import html
import json
from contextlib import ExitStack
from datetime import date, timedelta
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Callable, Iterator

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from markupsafe import Markup

from .cores import AHEAD, forked_map, workers_for
from .schema import Schema

if TYPE_CHECKING:
    import jinja2

FOLDER = "docs/viewer/"
AXIS = ("2022-01-01", "2022-12-31")  # the timeline's axis, first and last day
LONG_PRECISIONS = ("range", "year")  # drawn hatched on the timeline
ARTICLES_PER_BATCH = 200  # articles whose rows are turned into Python values at once
PAGES_PER_WORKER = 64  # articles below which a worker process costs more than it saves
PAGES_PER_TASK = 32  # articles a worker renders per round trip (its pages wait in memory until taken)
TIMELINE_DETAIL_ARTICLES = 50  # above this the index timeline has one row per article, not per event


def render_viewer(schema: Schema, frames: dict[str, pd.DataFrame], texts: dict[str, str],
                  judge: Callable[[str, bytes], Any] | None = None) -> Pages:
    """Every viewer page as (path, bytes): one page per article, then the index. With `judge`, an
    article's page comes as (path, judge(path, bytes)) instead, judged where it was rendered (a
    check compares and hashes the pages in the workers: they need not travel to this process).

    Rows are turned into Python values a batch of articles at a time, so memory does not grow
    with the corpus; cross-article facts (linked events, quoted events) are joined beforehand, by
    column. With many articles the batches are rendered on every core (in order: the same bytes),
    starting now, while the caller does other work: a few batches ahead, or with `judge` all of
    them (their judgements are small).
    """
    codes = {f.name: {c: spec["definition"] for c, spec in schema.vocabularies[f.vocabulary].codes.items()}
             for t in ("events", "quotes") for f in schema.tables[t].fields if f.vocabulary}
    labels = {f.name: f.description for t in ("events", "quotes") for f in schema.tables[t].fields}
    shared = _json({"codes": codes, "labels": labels})[:-1]  # the same on every page: encoded once
    _environment()  # (made before the workers are forked: they share it)
    sources = _records(frames["sources"], "source_id")
    detailed = len(sources) <= TIMELINE_DETAIL_ARTICLES
    state = (shared, sources, _Articles(frames), texts, detailed, judge)
    workers = workers_for(len(sources), PAGES_PER_WORKER)
    size = max(1, min(PAGES_PER_TASK, -(-len(sources) // (4 * workers)))) if workers > 1 else ARTICLES_PER_BATCH
    firsts = range(0, len(sources), size)
    stack = ExitStack()
    batches = (stack.enter_context(forked_map(_pages, (*state, size), firsts, workers, len(firsts) if judge else AHEAD))
               if workers > 1 else (_pages(*state, size, first) for first in firsts))
    return Pages(_viewer_outputs(schema, sources, detailed, batches, stack), stack)


class Pages:
    """`render_viewer`'s pages, in order; `close` stops its workers, whether or not any page was taken."""

    def __init__(self, outputs: Iterator[tuple[str, Any]], stack: ExitStack):
        self._outputs, self._stack = outputs, stack

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        return self._outputs

    def close(self) -> None:
        self._outputs.close()
        self._stack.close()


def _viewer_outputs(schema: Schema, sources: list[dict], detailed: bool, batches: Iterator, stack: ExitStack
                    ) -> Iterator[tuple[str, Any]]:
    timeline, counts = {}, {}
    with stack:
        for batch in batches:
            for sid, page, count, line in batch:
                yield page_path(sid), page
                counts[sid], timeline[sid] = count, line
    yield page_path("index"), _index_page(schema, sources, counts, timeline, detailed).encode("utf-8")


def _pages(shared: str, sources: list[dict], articles: _Articles, texts: dict[str, str], detailed: bool,
           judge: Callable[[str, bytes], Any] | None, size: int, first: int) -> list[tuple[str, Any, tuple[int, int], Any]]:
    """The pages of the `size` articles from `first` on: (source_id, page or its judgement,
    (events, quotes), its timeline entry)."""
    batch = sources[first:first + size]
    out = []
    for source, own in zip(batch, articles.items([s["source_id"] for s in batch])):
        sid = source["source_id"]
        data = Markup(f'{shared},"rows":{_json(own)}}}')  # = _json({"codes": .., "labels": .., "rows": own})
        events = [it["row"] for it in own.values() if it["table"] == "events"]
        page = _article_page(source, texts[sid], own, data).encode("utf-8")
        out.append((sid, judge(page_path(sid), page) if judge else page,
                    (len(events), len(own) - len(events)), (_timeline_rows if detailed else _timeline_summary)(events)))
    return out


def page_path(name: str) -> str:
    """The viewer page of the article `name` (or of the index)."""
    return f"{FOLDER}{name}.html"


# --- data -------------------------------------------------------------------------------------

def _records(df: pd.DataFrame, *key: str) -> list[dict]:
    """The rows of a frame (from the build or from `load()`) as plain dicts of JSON values (missing:
    None; dates: 'YYYY-MM-DD'), sorted by `key`; converted by column, through Arrow."""
    table = pa.Table.from_pandas(df, preserve_index=False)
    columns = [pc.strftime(c, "%Y-%m-%d") if pa.types.is_timestamp(c.type) or pa.types.is_date(c.type) else c
               for c in table.columns]
    records = pa.table(columns, names=table.column_names).to_pylist()
    return sorted(records, key=_by(key)) if key else records


def _by(key: tuple[str, ...]):
    """A sort key: the values of the columns `key`."""
    return lambda r: tuple(r[k] for k in key)


class _Articles:
    """The events and quotes of each article, with what a reviewer needs to read them, for a batch
    of articles at a time."""

    def __init__(self, frames: dict[str, pd.DataFrame]):
        self.actors = {r["actor_id"]: r["name"] for r in _records(frames["actors"], "actor_id")}
        self.places = {r["place_id"]: r["name"] for r in _records(frames["places"], "place_id")}
        self.sharp = {r["number"]: r["method_name"] for r in _records(frames["sharp_methods"], "number")}
        events, quotes, links = frames["events"], frames["quotes"], frames["event_links"]
        ids = events["event_id"].astype(object).to_numpy()
        source_of = pd.Series(events["source_id"].astype(object).to_numpy(), index=ids)
        summary_of = pd.Series(events["summary"].astype(object).to_numpy(), index=ids)
        quotes = quotes.assign(event_summary=quotes["event_id"].map(summary_of))
        links = links.assign(**{f"{side}_{what}": links[column].map(lookup)
                                for side, column in (("from", "event_id"), ("to", "linked_event_id"))
                                for what, lookup in (("source", source_of), ("summary", summary_of))})
        self.frames = {"events": events, "quotes": quotes, "event_actors": frames["event_actors"], "links": links}
        self.groups = {  # frame -> article -> row positions, for each way a row belongs to an article
            ("events", "own"): _positions(events["source_id"]),
            ("quotes", "own"): _positions(quotes["source_id"]),
            ("quotes", "of_event"): _positions(quotes["event_id"].map(source_of)),
            ("event_actors", "own"): _positions(frames["event_actors"]["event_id"].map(source_of)),
            ("links", "from"): _positions(links["from_source"]),
            ("links", "to"): _positions(links["to_source"]),
        }

    def _rows(self, name: str, sids: list[str], *ways: str, key: tuple[str, ...]) -> list[list[dict]]:
        """Per article of `sids`, its rows of frame `name` sorted by `key` (converted in one go)."""
        positions = [sorted({int(i) for way in ways for i in self.groups[(name, way)].get(sid, ())}) for sid in sids]
        records = _records(self.frames[name].iloc[[i for own in positions for i in own]])
        out, at = [], 0
        for own in positions:
            out.append(sorted(records[at:at + len(own)], key=_by(key)))
            at += len(own)
        return out

    def items(self, sids: list[str]) -> Iterator[dict[str, dict]]:
        """Per article: {event or quote ID: {"table", "row", "ref"}}; `ref` holds the names and links a
        reviewer needs."""
        parts = zip(self._rows("events", sids, "own", key=("event_id",)),
                    self._rows("quotes", sids, "own", key=("quote_id",)),
                    self._rows("quotes", sids, "of_event", key=("quote_id",)),
                    self._rows("event_actors", sids, "own", key=("event_id", "role", "actor_id")),
                    self._rows("links", sids, "from", "to", key=("event_id", "link_type", "linked_event_id")))
        for events, quotes, quoted, roles, links in parts:
            yield self._items(events, quotes, quoted, roles, links)

    def _items(self, events: list[dict], quotes: list[dict], quoted: list[dict], roles: list[dict],
               links: list[dict]) -> dict[str, dict]:
        quotes_of: dict[str, list[str]] = {}
        for q in quoted:
            quotes_of.setdefault(q["event_id"], []).append(q["quote_id"])
        items = {}
        for r in events:
            ref = {"claimed_by": self.actors.get(r["claimed_by"]), "place": self.places.get(r["place_id"]),
                   "sharp_method": self.sharp.get(r["sharp_method"]), "actor": [], "recipient": [], "links": [],
                   "quotes": quotes_of.get(r["event_id"], [])}
            items[r["event_id"]] = {"table": "events", "row": r, "ref": ref}
        for a in roles:
            items[a["event_id"]]["ref"][a["role"]].append(self.actors.get(a["actor_id"], a["actor_id"]))
        for link in links:
            for here, other, there, direction in (("event_id", "linked_event_id", "to", "out"),
                                                  ("linked_event_id", "event_id", "from", "in")):
                if link[here] in items:
                    items[link[here]]["ref"]["links"].append(
                        {"type": link["link_type"], "direction": direction, "id": link[other],
                         "source_id": link[f"{there}_source"], "summary": link[f"{there}_summary"],
                         "note": link["link_note"]})
        for r in quotes:
            ref = {"speaker": self.actors.get(r["speaker_id"]), "event_summary": r.pop("event_summary")}
            items[r["quote_id"]] = {"table": "quotes", "row": r, "ref": ref}
        return items


def _positions(keys: pd.Series) -> dict:
    """{key: row positions} of a column (missing keys left out)."""
    return pd.Series(range(len(keys)), dtype="int64").groupby(keys.astype(object).to_numpy(), sort=False).indices


# --- helpers ----------------------------------------------------------------------------------

def _esc(text) -> str:
    """HTML-escape text or an attribute value (CR as a reference, so browsers keep it)."""
    return html.escape(str(text), quote=True).replace("\r", "&#13;")


def _json(data) -> str:
    """Stable JSON that cannot end its <script> element ('<' is written as \\u003c)."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


def _short(row_id: str) -> str:
    return row_id.rsplit("-", 1)[1]


def _interval(start: str | None, end: str | None) -> str:
    return "—" if start is None else start if start == end else f"{start} – {end}"


def _segments(text: str, spans: list[tuple[int, int, str]]) -> list[tuple[str, list[str]]]:
    """`text` cut at every span boundary: [(piece, IDs of the spans covering it, innermost first)]."""
    spans = sorted(spans, key=lambda s: (s[1] - s[0], s[2]))
    cuts = sorted({0, len(text), *(s[0] for s in spans), *(s[1] for s in spans)})
    return [(text[a:b], [i for s, e, i in spans if s <= a and b <= e]) for a, b in zip(cuts, cuts[1:])]


def _marks(text: str, items: dict[str, dict]) -> list[tuple[str, str, str]]:
    """The article cut at every span boundary: (piece, classes, IDs of its events and quotes); the
    classes say how many of each cover the piece (for shading), both are empty where none does."""
    spans = [(it["row"]["char_start"], it["row"]["char_end"], i) for i, it in items.items()]
    out = []
    for piece, ids in _segments(text, spans):
        events = sum(items[i]["table"] == "events" for i in ids)
        quotes = len(ids) - events
        classes = " ".join(c for c in (events and f"ev{min(events, 3)}", quotes and f"qu{min(quotes, 2)}") if c)
        out.append((piece, classes, " ".join(ids)))
    return out


def _list_entry(row_id: str, item: dict) -> dict:
    """What the side list shows of an event or a quote."""
    r, ref = item["row"], item["ref"]
    if item["table"] == "events":
        what = "/".join(v for v in (r["event_type"], r["event_mode"]) if v) + f" · {r['status']}"
        return {"kind": "ev", "id": row_id, "what": what, "summary": r["summary"]}
    return {"kind": "qu", "id": row_id, "what": f"{r['kind']} · {ref['speaker'] or 'no speaker'}", "summary": r["text"]}


def _source_heading(source: dict) -> tuple[str, str]:
    """(outlet — title, one line of publication facts) for a source."""
    title = f"{source['outlet'] or 'Outlet not known'} — {source['title'] or 'title not known'}"
    language = f"language {source['language']}"
    if source["is_translation"]:
        language += f" (translated from {source['original_language']})"
    published = (f"published {_interval(source['published_start'], source['published_end'])} "
                 f"({source['published_precision']}, {source['published_basis']})")
    return title, f"{source['source_id']} · {published} · {language}"


# --- pages ------------------------------------------------------------------------------------

def _article_page(source: dict, text: str, items: dict[str, dict], data: Markup) -> str:
    title, facts = _source_heading(source)
    entries = {t: [_list_entry(i, it) for i, it in items.items() if it["table"] == t] for t in ("events", "quotes")}
    return _render("article.html.j2", title=title, facts=facts, counts=(len(entries["events"]), len(entries["quotes"])),
                   side_list=_side_list(entries), marked_text=_marked_text(_marks(text, items)), data=data)


# The two parts of a page repeated for every event, quote and span are written here rather than in
# the template: through Jinja2 each printed value took a chain of calls (finalize, Markup, escape),
# a third of the viewer's time. Every value is escaped by `_esc`, as the template's finalize does.

def _side_list(entries: dict[str, list[dict]]) -> Markup:
    """The list of the page's events and quotes, each a button that selects it."""
    out = []
    for heading, table in (("Events", "events"), ("Quotes", "quotes")):
        out.append(f"<h2>{heading} ({len(entries[table])})</h2>")
        for e in entries[table]:
            what, summary = _esc(e["what"]), _esc(e["summary"])
            out.append(f'<button type="button" class="item {_esc(e["kind"])}" data-id="{_esc(e["id"])}" '
                       f'title="{what}: {summary}"><span class="line"><span class="id">{_esc(_short(e["id"]))}</span> '
                       f'<span class="what">{what}</span></span><span class="line">{summary}</span></button>')
    return Markup("".join(out))


def _marked_text(pieces: list[tuple[str, str, str]]) -> Markup:
    """The article's text, each piece that spans cover marked with their classes and IDs."""
    return Markup("".join(f'<mark class="{_esc(classes)}" data-ids="{_esc(ids)}">{_esc(piece)}</mark>' if ids
                          else _esc(piece) for piece, classes, ids in pieces))


def _index_page(schema: Schema, sources: list[dict], counts: dict[str, tuple[int, int]], timeline: dict,
                detailed: bool) -> str:
    firsts = [date(int(AXIS[0][:4]), m, 1) for m in range(1, 13)]
    return _render("index.html.j2", meta=schema.package, sources=sources, counts=counts, timeline=timeline,
                   detailed=detailed, axis=AXIS, detail_articles=TIMELINE_DETAIL_ARTICLES,
                   ticks=[(f"{_pos(d.isoformat()):.3f}", f"{d:%b}") for d in firsts],
                   gridlines=[f"{_pos(d.isoformat()):.3f}" for d in firsts[1:]])


def _pos(day: str, end: bool = False) -> float:
    """Percentage position of a day's start (its end when `end`) on the axis, clipped to the axis."""
    first, last = map(date.fromisoformat, AXIS)
    d = date.fromisoformat(min(max(day, AXIS[0]), AXIS[1])) + timedelta(days=end)
    return 100 * (d - first).days / ((last - first).days + 1)


def _span_style(start: str, end: str) -> str:
    left = _pos(start)
    return f"left:{left:.3f}%;width:{_pos(end, end=True) - left:.3f}%"


def _timeline_rows(events: list[dict]) -> list[dict]:
    """One timeline row per event, in date order: the event with its type, its tooltips and how its
    bar is drawn (clipped to the axis and flagged, or off the axis)."""
    rows = []
    for r in sorted(events, key=lambda r: (r["date_start"], r["date_end"], r["event_id"])):
        start, end = r["date_start"], r["date_end"]
        classes = ["bar", "long" if r["date_precision"] in LONG_PRECISIONS else "short"]
        classes += ["clip-start"] * (start < AXIS[0]) + ["clip-end"] * (end > AXIS[1])
        report = external = None
        if r["report_date_start"]:  # the text dates the report apart from the act
            report = (f'report: {_interval(r["report_date_start"], r["report_date_end"])} '
                      f'({r["report_date_precision"]}, “{r["report_time_expression"] or ""}”)')
        if r["external_date_start"]:
            external = f'outside evidence: {_interval(r["external_date_start"], r["external_date_end"])}'
            external += " (conflicts with the text)" if r["date_conflict"] else ""
        rows.append({**r, "what": "/".join(v for v in (r["event_type"], r["event_mode"]) if v),
                     "tip": f'{r["event_id"]}: {_interval(start, end)} ({r["date_precision"]}, {r["date_basis"]})',
                     "off": "before" if end < AXIS[0] else "after" if start > AXIS[1] else None,
                     "classes": " ".join(classes), "report": report, "external": external})
    return rows


def _timeline_summary(events: list[dict]) -> dict:
    """An article's events as the union of their intervals on the axis, ranges and years (long)
    before the shorter intervals: {"bars": [(long, start, end)], "off": events off the axis,
    "conflicts": events whose outside-evidence date conflicts with the text}."""
    merged: dict[bool, list[list[str]]] = {True: [], False: []}  # long precision? -> intervals
    off = conflicts = 0
    for r in sorted(events, key=lambda r: (r["date_start"], r["date_end"])):
        conflicts += bool(r["date_conflict"])
        start, end = max(r["date_start"], AXIS[0]), min(r["date_end"], AXIS[1])
        own = merged[r["date_precision"] in LONG_PRECISIONS]
        if start > end:
            off += 1
        elif own and start <= (date.fromisoformat(own[-1][1]) + timedelta(days=1)).isoformat():
            own[-1][1] = max(own[-1][1], end)
        else:
            own.append([start, end])
    return {"bars": [(long, a, b) for long in (True, False) for a, b in merged[long]], "off": off,
            "conflicts": conflicts}


# --- templates --------------------------------------------------------------------------------

@lru_cache(maxsize=None)
def _environment() -> jinja2.Environment:
    """Templates from the package, every printed value escaped as `_esc` does (autoescape leaves
    `Markup` alone: the static files, the embedded JSON, the macros' output). Made on first use:
    a check that renders nothing does not import Jinja2."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("noncoop", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True, trim_blocks=True,
                             lstrip_blocks=True, finalize=lambda v: v if hasattr(v, "__html__") else Markup(_esc(v)))
    static = resources.files("noncoop") / "static"
    env.globals.update(css=Markup(static.joinpath("viewer.css").read_text("utf-8")),
                       js=Markup(static.joinpath("viewer.js").read_text("utf-8")),
                       short=_short, interval=_interval, span_style=_span_style)
    return env


def _render(name: str, **values) -> str:
    return _environment().get_template(name).render(**values)

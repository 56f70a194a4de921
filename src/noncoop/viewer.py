"""Review viewer: self-contained HTML pages that show every event and quote span in its article.

`render_viewer` turns the tables into `docs/viewer/<source_id>.html` (the article text with every
span marked, a list of its events and quotes, and a detail panel) and `docs/viewer/index.html`
(the articles and a timeline of the events' date intervals). The pages load nothing: CSS and
JS are inline, the rows are embedded as JSON. Output depends only on the inputs (rows sorted by
ID, JSON with sorted keys, no clock), so two renders give the same bytes.
"""
from __future__ import annotations

import html
import json
from datetime import date, timedelta
from string import Template
from typing import Iterator

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .schema import Schema

FOLDER = "docs/viewer/"
AXIS = ("2022-01-01", "2022-12-31")  # the timeline's axis, first and last day
LONG_PRECISIONS = ("range", "year")  # drawn hatched on the timeline
ARTICLES_PER_BATCH = 200  # articles whose rows are turned into Python values at once
TIMELINE_DETAIL_ARTICLES = 50  # above this the index timeline has one row per article, not per event


def render_viewer(schema: Schema, frames: dict[str, pd.DataFrame], texts: dict[str, str]) -> Iterator[tuple[str, bytes]]:
    """Every viewer page as (path, bytes): one page per article, then the index.

    Rows are turned into Python values a batch of articles at a time, so memory does not grow
    with the corpus; cross-article facts (linked events, quoted events) are joined beforehand, by
    column.
    """
    codes = {f.name: {c: spec["definition"] for c, spec in schema.vocabularies[f.vocabulary].codes.items()}
             for t in ("events", "quotes") for f in schema.tables[t].fields if f.vocabulary}
    labels = {f.name: f.description for t in ("events", "quotes") for f in schema.tables[t].fields}
    sources = _records(frames["sources"], "source_id")
    articles = _Articles(frames)
    detailed = len(sources) <= TIMELINE_DETAIL_ARTICLES
    timeline, counts = {}, {}
    for first in range(0, len(sources), ARTICLES_PER_BATCH):
        batch = sources[first:first + ARTICLES_PER_BATCH]
        for source, own in zip(batch, articles.items([s["source_id"] for s in batch])):
            sid = source["source_id"]
            data = {"codes": codes, "labels": labels, "rows": own}
            yield page_path(sid), _article_page(source, texts[sid], own, data).encode("utf-8")
            events = [it["row"] for it in own.values() if it["table"] == "events"]
            counts[sid] = (len(events), len(own) - len(events))
            timeline[sid] = (_timeline_rows if detailed else _timeline_summary)(events)
    yield page_path("index"), _index_page(schema, sources, counts, timeline, detailed).encode("utf-8")


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


def _marked_text(text: str, items: dict[str, dict]) -> str:
    """The article as HTML: each covered piece in a <mark> whose data-ids lists its events and quotes."""
    spans = [(it["row"]["char_start"], it["row"]["char_end"], i) for i, it in items.items()]
    out = []
    for piece, ids in _segments(text, spans):
        if not ids:
            out.append(_esc(piece))
            continue
        events = sum(items[i]["table"] == "events" for i in ids)
        quotes = len(ids) - events  # the classes say how many of each cover the piece (for shading)
        classes = " ".join(c for c in (events and f"ev{min(events, 3)}", quotes and f"qu{min(quotes, 2)}") if c)
        out.append(f'<mark class="{classes}" data-ids="{_esc(" ".join(ids))}">{_esc(piece)}</mark>')
    return "".join(out)


def _list_entry(row_id: str, item: dict) -> str:
    """A side-list button for an event or a quote."""
    r, ref = item["row"], item["ref"]
    if item["table"] == "events":
        kind, what = "ev", "/".join(v for v in (r["event_type"], r["event_mode"]) if v) + f" · {r['status']}"
        summary = r["summary"]
    else:
        kind, what = "qu", f"{r['kind']} · {ref['speaker'] or 'no speaker'}"
        summary = r["text"]
    return (f'<button type="button" class="item {kind}" data-id="{_esc(row_id)}" title="{_esc(f"{what}: {summary}")}">'
            f'<span class="line"><span class="id">{_esc(_short(row_id))}</span> '
            f'<span class="what">{_esc(what)}</span></span><span class="line">{_esc(summary)}</span></button>')


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

def _article_page(source: dict, text: str, items: dict[str, dict], data: dict) -> str:
    title, facts = _source_heading(source)
    events = [i for i in items if items[i]["table"] == "events"]
    quotes = [i for i in items if items[i]["table"] == "quotes"]
    side = (f'<h2>Events ({len(events)})</h2>' + "".join(_list_entry(i, items[i]) for i in events)
            + f'<h2>Quotes ({len(quotes)})</h2>' + "".join(_list_entry(i, items[i]) for i in quotes))
    return ARTICLE.substitute(
        css=CSS, js=JS, title=_esc(title), facts=_esc(facts), side=side, text=_marked_text(text, items),
        counts=f"{len(events)} events · {len(quotes)} quotes", data=_json(data))


def _index_page(schema: Schema, sources: list[dict], counts: dict[str, tuple[int, int]], timeline: dict,
                detailed: bool) -> str:
    body = []
    for s in sources:
        sid = s["source_id"]
        events, quotes = counts[sid]
        body.append(
            f'<tr><td><a href="{_esc(sid)}.html">{_esc(sid)}</a></td><td>{_esc(s["outlet"] or "—")}</td>'
            f'<td>{_esc(s["title"] or "—")}</td><td>{_esc(_interval(s["published_start"], s["published_end"]))}'
            f' <span class="muted">({_esc(s["published_precision"])})</span></td>'
            f'<td class="num">{events}</td><td class="num">{quotes}</td></tr>')
    meta = schema.package
    note = "" if detailed else (
        f'<p class="muted">With more than {TIMELINE_DETAIL_ARTICLES} articles the timeline has one row per article: '
        "the union of its events' intervals, ranges and years hatched beneath the shorter ones. "
        "Each event is on its article's page.</p>")
    return INDEX.substitute(css=CSS, title=_esc(meta["title"]), version=_esc(meta["version"]),
                            articles="".join(body), count=len(sources), axis=f"{AXIS[0]} to {AXIS[1]}",
                            timeline=note + _timeline(sources, counts, timeline, detailed))


def _pos(day: str, end: bool = False) -> float:
    """Percentage position of a day's start (its end when `end`) on the axis, clipped to the axis."""
    first, last = map(date.fromisoformat, AXIS)
    d = date.fromisoformat(min(max(day, AXIS[0]), AXIS[1])) + timedelta(days=end)
    return 100 * (d - first).days / ((last - first).days + 1)


def _span_style(start: str, end: str) -> str:
    left = _pos(start)
    return f"left:{left:.3f}%;width:{_pos(end, end=True) - left:.3f}%"


def _timeline(sources: list[dict], counts: dict[str, tuple[int, int]], rows: dict, detailed: bool) -> str:
    """The axis, then per article (the publication interval shaded) its event rows, or one row."""
    firsts = [date(int(AXIS[0][:4]), m, 1) for m in range(1, 13)]
    months = "".join(f'<span class="tick" style="left:{_pos(d.isoformat()):.3f}%">{d:%b}</span>' for d in firsts)
    grid = "".join(f'<span class="gridline" style="left:{_pos(d.isoformat()):.3f}%"></span>' for d in firsts[1:])
    out = [f'<div class="tl-row tl-axis"><span></span><div class="tl-track">{months}</div></div>']
    if not detailed:
        out.append(f'<div class="tl-body"><div class="tl-grid">{grid}</div>')
    for s in sources:
        sid = s["source_id"]
        pub = f'<span class="pub" style="{_span_style(s["published_start"], s["published_end"])}"></span>'
        if detailed:
            out += [f'<h3>{_esc(sid)} <span class="muted">{_esc(s["outlet"] or "")} · {counts[sid][0]} events</span></h3>',
                    f'<div class="tl-body"><div class="tl-grid">{grid}{pub}</div>', *rows[sid], "</div>"]
        else:
            bars, note = rows[sid]
            out.append(f'<div class="tl-row"><span class="tl-label"><a href="{_esc(sid)}.html">{_esc(sid)}</a> '
                       f'<span class="muted">· {counts[sid][0]} events{note}</span></span>'
                       f'<div class="tl-track">{pub}{bars}</div></div>')
    return "".join(out) + ("" if detailed else "</div>")


def _timeline_rows(events: list[dict]) -> list[str]:
    """One timeline row per event, in date order."""
    return [f'<div class="tl-row"><span class="tl-label">{_timeline_label(r)}</span>'
            f'<div class="tl-track">{_timeline_bars(r)}</div></div>'
            for r in sorted(events, key=lambda r: (r["date_start"], r["date_end"], r["event_id"]))]


def _timeline_summary(events: list[dict]) -> tuple[str, str]:
    """An article's events as the union of their intervals on the axis (ranges and years hatched
    beneath, shorter intervals solid on top), and a note of what is not drawn."""
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
    bars = "".join(f'<span class="bar {"long" if long else "short"}" style="{_span_style(a, b)}" '
                   f'title="{_esc(_interval(a, b))}"></span>' for long in (True, False) for a, b in merged[long])
    note = (f", {off} off the axis" if off else "") + (
        f' <span class="warn" title="outside evidence dates {conflicts} event(s) differently">⚠ {conflicts}</span>'
        if conflicts else "")
    return bars, note


def _timeline_label(r: dict) -> str:
    what = "/".join(v for v in (r["event_type"], r["event_mode"]) if v)
    warn = ' <span class="warn" title="outside evidence dates it differently">⚠</span>' if r["date_conflict"] else ""
    return (f'<a href="{_esc(r["source_id"])}.html#{_esc(r["event_id"])}">{_esc(_short(r["event_id"]))}</a> '
            f'{_esc(what)} <span class="muted">· {_esc(r["status"])}</span>{warn}')


def _timeline_bars(r: dict) -> str:
    """The bar of the act's interval (clipped to the axis and flagged), the interval of its report
    where the text dates the report apart from the act, and the outside-evidence interval."""
    start, end = r["date_start"], r["date_end"]
    tip = f'{r["event_id"]}: {_interval(start, end)} ({r["date_precision"]}, {r["date_basis"]})'
    if end < AXIS[0] or start > AXIS[1]:
        before = end < AXIS[0]
        return (f'<span class="off {"before" if before else "after"}" title="{_esc(tip)}">'
                f'{"◂ " if before else ""}{_esc(_interval(start, end))}{"" if before else " ▸"}</span>')
    classes = ["bar", "long" if r["date_precision"] in LONG_PRECISIONS else "short"]
    classes += ["clip-start"] * (start < AXIS[0]) + ["clip-end"] * (end > AXIS[1])
    out = f'<span class="{" ".join(classes)}" style="{_span_style(start, end)}" title="{_esc(tip)}"></span>'
    if r["report_date_start"]:
        report = (f'report: {_interval(r["report_date_start"], r["report_date_end"])} '
                  f'({r["report_date_precision"]}, “{r["report_time_expression"] or ""}”)')
        out += (f'<span class="rep" title="{_esc(report)}" '
                f'style="{_span_style(r["report_date_start"], r["report_date_end"])}"></span>')
    if r["external_date_start"]:
        ext = f'outside evidence: {_interval(r["external_date_start"], r["external_date_end"])}'
        ext += " (conflicts with the text)" if r["date_conflict"] else ""
        out += (f'<span class="ext{" conflict" if r["date_conflict"] else ""}" title="{_esc(ext)}" '
                f'style="{_span_style(r["external_date_start"], r["external_date_end"])}"></span>')
    return out


# --- templates --------------------------------------------------------------------------------

CSS = """
:root{--ev:255,190,0;--qu:#1d5fd6;--sel:#ff9a52;--ink:#1f2328;--muted:#667085;--line:#d8dde4;--bg:#f5f6f8}
*{box-sizing:border-box}
body{margin:0;color:var(--ink);background:#fff;
  font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
a{color:#1a56c4}
code,.id{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace}
.muted{color:var(--muted)}
.top{padding:8px 16px;border-bottom:1px solid var(--line);background:var(--bg)}
.top h1{font-size:17px;margin:0 0 2px}
.top .facts{color:var(--muted);font-size:12.5px;display:flex;flex-wrap:wrap;gap:4px 16px;align-items:center}
.head{display:flex;flex-wrap:wrap;justify-content:space-between;align-items:baseline;gap:2px 16px}
.legend{display:inline-flex;gap:12px;align-items:center;font-size:12.5px;color:var(--muted)}
.sw{display:inline-block;width:26px;height:13px;vertical-align:-2px;margin-right:4px;border-radius:2px}
.sw-ev1{background:rgba(var(--ev),.32)}.sw-ev2{background:rgba(var(--ev),.62)}
.sw-qu1{background:rgba(29,95,214,.08);border-bottom:2px solid var(--qu)}.sw-sel{background:var(--sel)}
body.article{height:100vh;display:flex;flex-direction:column;overflow:hidden}
.cols{flex:1;min-height:0;display:grid;grid-template-columns:270px minmax(0,1fr) 390px}
.cols>*{overflow-y:auto;min-height:0}
#list{background:var(--bg);border-right:1px solid var(--line);padding:4px 8px 24px}
#list h2{font-size:11.5px;text-transform:uppercase;letter-spacing:.05em;color:var(--muted);margin:12px 4px 4px}
.item{display:block;width:100%;text-align:left;font:inherit;font-size:12.5px;color:inherit;background:none;
  border:1px solid transparent;border-left-width:3px;border-radius:3px;padding:3px 6px;margin:1px 0;cursor:pointer}
.item:hover{background:#fff;border-color:var(--line)}
.item.ev{border-left-color:rgb(var(--ev))}.item.qu{border-left-color:var(--qu)}
.item.active{background:#fff1e6;border-color:var(--sel)}
.item .id{font-weight:600;font-size:12px}.item .what{color:var(--muted)}
.item .line{display:block;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
#text{margin:0;padding:18px 32px 45vh;font:16px/1.8 Georgia,"Times New Roman",serif;
  white-space:pre-wrap;overflow-wrap:break-word}
#text mark{color:inherit;background:transparent;cursor:pointer;border-radius:2px}
#text mark.qu1,#text mark.qu2{background:rgba(29,95,214,.08)}
#text mark.qu1{border-bottom:2px solid var(--qu)}#text mark.qu2{border-bottom:4px double var(--qu)}
#text mark.ev1{background:rgba(var(--ev),.32)}#text mark.ev2{background:rgba(var(--ev),.62)}
#text mark.ev3{background:rgba(var(--ev),.9)}
#text mark:hover{filter:brightness(.9)}
#text mark.sel{background:var(--sel);box-shadow:0 0 0 1px #e8590c}
#detail{border-left:1px solid var(--line);padding:12px 16px 32px}
#detail .hint{color:var(--muted)}
#detail h2{font-size:15px;margin:0 0 2px}
#detail .summary{margin:0 0 10px}
#detail dl{display:grid;grid-template-columns:104px minmax(0,1fr);gap:4px 10px;margin:0}
#detail dt{color:var(--muted);font-size:12.5px;padding-top:1px}
#detail dd{margin:0;overflow-wrap:anywhere}
#detail .none{color:#a0a7b1}
#detail code{font-size:12.5px;background:#eef1f5;border-radius:3px;padding:0 4px}
#detail code[title]{cursor:help;text-decoration:underline dotted #a0a7b1}
#detail .verbatim{font-family:Georgia,serif;background:var(--bg);border-left:3px solid rgb(var(--ev));
  padding:4px 8px;white-space:pre-wrap}
#detail .verbatim.q{border-left-color:var(--qu)}
#detail .flag{color:#b42318;font-weight:600}
#detail .jump{font:inherit;font-size:12.5px;color:#1a56c4;background:none;border:0;padding:0;cursor:pointer;
  text-decoration:underline}
#detail ul{margin:0;padding-left:16px}
#detail .note{font-size:12.5px;color:#475467;margin:1px 0 4px}
#detail .here{margin:0 0 10px;font-size:12.5px;color:var(--muted)}
#detail .here .jump.current{color:var(--ink);font-weight:600;text-decoration:none}
#detail .pick{margin:0 0 12px}
#detail .pick-head{display:flex;justify-content:space-between;align-items:center;font-size:12.5px;color:var(--muted)}
#detail pre.yaml{margin:2px 0 0;padding:6px 8px;background:var(--bg);border:1px solid var(--line);border-radius:3px;
  white-space:pre-wrap;overflow-wrap:anywhere;font-size:12.5px}
#detail .copy{font:inherit;font-size:12px;padding:1px 8px;cursor:pointer}
body.index main{max-width:1320px;margin:0 auto;padding:8px 20px 40px}
body.index h2{font-size:16px;margin:18px 0 6px}
table.articles{border-collapse:collapse;width:100%}
table.articles th,table.articles td{padding:5px 8px;border-bottom:1px solid var(--line);text-align:left;
  vertical-align:top}
table.articles th{font-size:12.5px;color:var(--muted);font-weight:600}
table.articles .num{text-align:right;font-variant-numeric:tabular-nums}
.tl h3{font-size:13px;margin:14px 0 2px}
.tl-body{position:relative}
.tl-row{display:grid;grid-template-columns:270px minmax(0,1fr);height:18px;align-items:center}
.tl-body .tl-row:hover{background:rgba(100,116,139,.10)}
.tl-axis{position:sticky;top:0;background:#fff;z-index:2;height:20px;border-bottom:1px solid var(--line)}
.tl-label{font-size:12px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;padding-right:8px}
.tl-label a{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-weight:600}
.tl-track{position:relative;height:100%}
.tl-grid{position:absolute;top:0;bottom:0;left:270px;right:0}
.tick{position:absolute;top:2px;font-size:11.5px;color:var(--muted);padding-left:3px;
  border-left:1px solid var(--line)}
.gridline{position:absolute;top:0;bottom:0;border-left:1px solid #eceff3}
.pub{position:absolute;top:0;bottom:0;background:rgba(29,95,214,.12)}
.bar{position:absolute;top:3px;height:10px;min-width:3px;border-radius:2px;background:#c27c00}
.bar.long,.sw-long{background:repeating-linear-gradient(135deg,rgba(194,124,0,.55) 0 4px,rgba(194,124,0,.22) 4px 8px)}
.bar.clip-start{border-left:3px solid #b42318;border-radius:0 2px 2px 0}
.bar.clip-end{border-right:3px solid #b42318;border-radius:2px 0 0 2px}
.ext{position:absolute;top:14px;height:4px;min-width:6px;background:#7a5af8}
.rep,.sw-rep{position:absolute;top:1px;height:14px;min-width:4px;border:2px solid #1f2328;border-radius:2px}
.ext.conflict{background:#b42318}
.off{position:absolute;top:1px;font-size:11px;color:#b42318;white-space:nowrap}
.off.before{left:2px}.off.after{right:2px}
.tl-legend{font-size:12.5px;color:var(--muted);display:flex;flex-wrap:wrap;gap:4px 18px;margin:4px 0 6px}
.tl-legend .sw{height:10px}
.tl-legend .sw-rep{position:static;display:inline-block;width:14px;height:12px;vertical-align:-1px}
.sw-short{background:#c27c00}
.sw-clip{background:#c27c00;border-left:3px solid #b42318}.sw-pub{background:rgba(29,95,214,.12)}
.tl-legend .sw-ext,.tl-legend .sw-conflict{height:4px;vertical-align:2px;background:#7a5af8}
.tl-legend .sw-conflict{background:#b42318}
.warn{color:#b42318;font-weight:600}
"""

JS = r"""
"use strict";
const DATA = JSON.parse(document.getElementById("viewer-data").textContent);
const text = document.getElementById("text"), detail = document.getElementById("detail");
let current = null;

function el(tag, cls, ...parts) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  node.append(...parts.flat().filter(p => p !== null && p !== undefined));
  return node;
}
const none = () => el("span", "none", "—");
const val = v => v === null || v === undefined || v === "" ? none() : String(v);
const short = id => id.slice(id.lastIndexOf("-") + 1);
const interval = (a, b) => a === null ? none() : a === b ? a : a + " – " + b;
const names = list => list.length ? list.join("; ") : none();
function code(field, v) {
  if (v === null) return none();
  const node = el("code", null, String(v));
  const definition = (DATA.codes[field] || {})[v];
  if (definition) node.title = definition;
  return node;
}
function jump(id) {  // a button that selects a row of this page
  if (!DATA.rows[id]) return el("span", null, id);
  const b = el("button", "jump", short(id));
  b.type = "button";
  b.dataset.jump = id;
  return b;
}
function linkTo(link) {  // a linked event, on this page or another
  if (DATA.rows[link.id]) return jump(link.id);
  const a = el("a", null, link.id);
  a.href = link.source_id + ".html#" + link.id;
  return a;
}

function eventFields(r, ref) {
  const links = ref.links.map(l => el("li", null,
    l.direction === "out" ? code("link_type", l.type) : ["← ", code("link_type", l.type), " from"],
    " ", linkTo(l), el("span", "muted", " " + l.summary), l.note && el("div", "note", l.note)));
  return [
    ["Type / mode", "event_type", [code("event_type", r.event_type), " / ", code("event_mode", r.event_mode)]],
    ["Status", "status", code("status", r.status)],
    ["Claimed by", "claimed_by", ref.claimed_by || el("span", "none", "— (the article's own voice)")],
    ["Actors", null, names(ref.actor)],
    ["Recipients", null, names(ref.recipient)],
    ["Date of the act", "date_start", el("span", "date", interval(r.date_start, r.date_end))],
    ["Precision", "date_precision",
      [code("date_precision", r.date_precision), " · basis ", code("date_basis", r.date_basis)]],
    ["Time expr.", "time_expression", r.time_expression ? "“" + r.time_expression + "”" : none()],
    ["Report date", "report_date_start", r.report_date_start === null ? none()
      : [el("span", "date", interval(r.report_date_start, r.report_date_end)), " · ",
         code("date_precision", r.report_date_precision), " · basis ", code("date_basis", r.report_date_basis),
         r.report_time_expression ? " · “" + r.report_time_expression + "”" : ""]],
    ["External date", "external_date_start", r.external_date_start === null ? none()
      : [interval(r.external_date_start, r.external_date_end), el("div", "muted", r.external_date_source)]],
    ["Date conflict", "date_conflict",
      r.date_conflict ? el("span", "flag", "yes — text and outside evidence disagree") : "no"],
    ["Date note", "date_note", val(r.date_note)],
    ["Place", "place_id", r.place_id === null ? none()
      : [ref.place || r.place_id, " · ", code("location_precision", r.location_precision)]],
    ["Sharp method", "sharp_method", r.sharp_method === null ? none() : r.sharp_method + " — " + ref.sharp_method],
    ["ACLED", "acled_event_type", r.acled_event_type === null ? none()
      : [r.acled_event_type, " / ", val(r.acled_sub_event_type)]],
    ["Violent", "violent", r.violent ? el("span", "flag", "yes") : "no"],
    ["Killed / injured", "killed", [val(r.killed), " / ", val(r.injured)]],
    ["Linked events", null, links.length ? el("ul", null, links) : none()],
    ["Quotes", null, ref.quotes.length ? ref.quotes.flatMap((q, i) => [i ? ", " : "", jump(q)]) : none()],
    ["Evidence", "evidence", el("div", "verbatim", r.evidence)],
    ["Notes", "notes", val(r.notes)],
  ];
}
function quoteFields(r, ref) {
  return [
    ["Kind", "kind", code("kind", r.kind)],
    ["Speaker", "speaker_id", ref.speaker || none()],
    ["Reporting verb", "reporting_verb", val(r.reporting_verb)],
    ["Channel", "channel", code("channel", r.channel)],
    ["Event", "event_id", r.event_id === null ? none()
      : [jump(r.event_id), el("span", "muted", " " + ref.event_summary)]],
    ["Text", "text", el("div", "verbatim q", r.text)],
    ["Notes", "notes", val(r.notes)],
  ];
}

function show(id, here) {
  const item = DATA.rows[id], r = item.row, isEvent = item.table === "events";
  const dl = el("dl");
  for (const [label, column, value] of (isEvent ? eventFields : quoteFields)(r, item.ref)) {
    const dt = el("dt", null, label);
    if (column && DATA.labels[column]) dt.title = DATA.labels[column];
    dl.append(dt, el("dd", null, value));
  }
  const parts = [el("h2", null, (isEvent ? "Event " : "Quote ") + id)];
  if (isEvent) parts.push(el("p", "summary", r.summary));
  if (here && here.length > 1) {
    const buttons = here.map(h => jump(h));
    buttons[here.indexOf(id)].classList.add("current");
    parts.push(el("p", "here", "Spans here (click the text again to cycle): ",
      buttons.flatMap((b, i) => [i ? " · " : "", b])));
  }
  detail.replaceChildren(...parts, dl);
  detail.dataset.id = id;
  delete detail.dataset.pick;
  detail.scrollTop = 0;
}

function select(id, scroll, here) {
  if (!DATA.rows[id]) return;
  current = id;
  document.querySelectorAll("#text mark.sel, .item.active").forEach(n => n.classList.remove("sel", "active"));
  const marks = text.querySelectorAll('mark[data-ids~="' + id + '"]');
  marks.forEach(m => m.classList.add("sel"));
  const entry = document.querySelector('.item[data-id="' + id + '"]');
  if (entry) { entry.classList.add("active"); entry.scrollIntoView({block: "nearest"}); }
  if (scroll && marks.length) marks[0].scrollIntoView({block: "center"});
  show(id, here);
  try { history.replaceState(null, "", "#" + id); } catch (e) { /* some file:// setups refuse */ }
}

// Span picking: select words in the text and the panel offers them as ready YAML.
function picked() {  // the selected words in the text: [words, start] in UTF-16 units, trimmed
  const sel = window.getSelection();
  if (!sel.rangeCount || sel.isCollapsed) return null;
  const range = sel.getRangeAt(0);
  if (!text.contains(range.startContainer) || !text.contains(range.endContainer)) return null;
  const before = document.createRange();
  before.setStart(text, 0);
  before.setEnd(range.startContainer, range.startOffset);
  const all = text.textContent, raw = range.toString();
  const start = before.toString().length + (raw.length - raw.trimStart().length), words = raw.trim();
  return words ? [words, start, all] : null;
}
function occurrences(all, words, start) {  // how often the words occur (overlapping, as the build counts), which one
  let n = 0, nth = 0;
  for (let i = all.indexOf(words); i >= 0; i = all.indexOf(words, i + 1)) {
    n += 1;
    if (i === start) nth = n;
  }
  return [n, nth];
}
const yamlText = v => JSON.stringify(v);  // a double-quoted YAML scalar: every character as in the text
function copyButton(source) {
  const b = el("button", "copy", "Copy");
  b.type = "button";
  b.addEventListener("click", () => {
    const done = ok => { b.textContent = ok ? "Copied" : "Select and press Ctrl+C"; };
    const fallback = () => {
      const range = document.createRange();
      range.selectNodeContents(source);
      const sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      let ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      done(ok);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(source.textContent).then(() => done(true), fallback);
    } else fallback();
  });
  return b;
}
function offerPick() {
  const p = picked();
  if (!p) return;
  const [words, start, all] = p, [n, nth] = occurrences(all, words, start);
  const extra = n > 1 ? "\noccurrence: " + nth : "";
  const blocks = [["As an event's evidence", "evidence: " + yamlText(words) + extra],
                  ["As a quote's text (without the quotation marks)", "text: " + yamlText(words) + extra]];
  const parts = [el("h2", null, "Selected words"),
    el("p", "here", n > 1 ? "They occur " + n + " times; this is occurrence " + nth +
      " (selecting a few more words that occur once is sturdier)." : "They occur once.")];
  for (const [label, yaml] of blocks) {
    const pre = el("pre", "yaml", yaml);
    parts.push(el("div", "pick", el("div", "pick-head", el("span", null, label), copyButton(pre)), pre));
  }
  detail.replaceChildren(...parts);
  detail.dataset.id = "";
  detail.dataset.pick = words;
}
text.addEventListener("mouseup", () => setTimeout(offerPick, 0));
text.addEventListener("keyup", e => { if (e.shiftKey) offerPick(); });

text.addEventListener("click", e => {
  const mark = e.target.closest("mark");
  if (!mark || !window.getSelection().isCollapsed) return;
  const ids = mark.dataset.ids.split(" ");
  const next = ids.includes(current) ? ids[(ids.indexOf(current) + 1) % ids.length] : ids[0];
  select(next, false, ids);
});
document.getElementById("list").addEventListener("click", e => {
  const entry = e.target.closest(".item");
  if (entry) select(entry.dataset.id, true);
});
detail.addEventListener("click", e => {
  const b = e.target.closest("[data-jump]");
  if (b) select(b.dataset.jump, true);
});
window.addEventListener("hashchange", () => select(decodeURIComponent(location.hash.slice(1)), true));
if (location.hash) select(decodeURIComponent(location.hash.slice(1)), true);
"""

ARTICLE = Template("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title</title>
<style>$css</style>
</head>
<body class="article">
<header class="top">
<div class="head"><h1>$title</h1>
<span class="legend">
<span><span class="sw sw-ev1"></span>event</span>
<span><span class="sw sw-ev2"></span>nested events</span>
<span><span class="sw sw-qu1"></span>quote</span>
<span><span class="sw sw-sel"></span>selected</span>
</span></div>
<div class="facts"><a href="index.html">← All articles</a><span>$facts</span><span>$counts</span></div>
</header>
<div class="cols">
<nav id="list" aria-label="Events and quotes">$side</nav>
<div id="text" lang="en">$text</div>
<aside id="detail" aria-live="polite"><p class="hint">Click a marked span in the text, or an entry in
the list, to see its coding here. Where spans overlap, clicking again cycles through them.
Select words in the text to get them as ready YAML (<code>evidence:</code> or a quote's <code>text:</code>).</p></aside>
</div>
<script type="application/json" id="viewer-data">$data</script>
<script>$js</script>
</body>
</html>
""")

INDEX = Template("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Review viewer — $title</title>
<style>$css</style>
</head>
<body class="index">
<header class="top"><h1>Review viewer — $title</h1>
<div class="facts"><span>version $version</span><span>$count articles</span></div></header>
<main>
<h2>Articles</h2>
<table class="articles">
<thead><tr><th>article</th><th>outlet</th><th>title</th><th>published</th>
<th class="num">events</th><th class="num">quotes</th></tr></thead>
<tbody>$articles</tbody>
</table>
<h2>Timeline of events (date intervals, $axis)</h2>
<div class="tl-legend">
<span><span class="sw sw-short"></span>interval of a month or less</span>
<span><span class="sw sw-long"></span>range or year</span>
<span><span class="sw-rep"></span>date of the report, where the text dates only the report (the bar is the act's own interval)</span>
<span><span class="sw sw-clip"></span>clipped at the axis</span>
<span><span class="warn">◂ date</span> interval entirely off the axis</span>
<span><span class="sw sw-pub"></span>article's publication interval</span>
<span><span class="sw sw-ext"></span>outside-evidence date</span>
<span><span class="sw sw-conflict"></span><span class="warn">⚠</span> outside date conflicts with the text</span>
</div>
<div class="tl">$timeline</div>
</main>
</body>
</html>
""")

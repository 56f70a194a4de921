"""Read stage: YAML annotations and article texts, safely and losslessly, with positions.

YAML is composed into nodes and converted here, not by a YAML constructor: only plain
scalars, lists and mappings with string keys are accepted. Explicit tags, aliases (so no alias
bombs), duplicate keys, non-UTF-8 or binary bytes, oversized files and paths that leave the
tree are refused with a located Problem. Scalars keep the text the contributor wrote (a YAML
date stays the string `2022-07-28`), so nothing is silently altered.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.tokens import ScalarToken

from .errors import Location, Problems

MAX_YAML_BYTES = 1_000_000
MAX_ARTICLE_BYTES = 5_000_000

_T = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_T + t for t in ("str", "int", "float", "bool", "null", "timestamp")}

Path_ = tuple  # a path into a YAML document: keys and list indices


@dataclass
class Document:
    """A parsed YAML file: plain data plus the position of every value and key."""

    file: str
    data: Any
    positions: dict[Path_, tuple[int, int]]
    key_positions: dict[Path_, tuple[int, int]]

    def at(self, path: Path_, key: bool = False) -> Location:
        """Location of the value at `path` (or of its key), else of its nearest ancestor."""
        table = self.key_positions if key else self.positions
        requested = path = tuple(path)
        while path not in table and path:
            if key and path in self.positions:
                table = self.positions
                break
            path = path[:-1]
        line, column = table.get(path, self.positions.get((), (1, 1)))
        return Location(self.file, line, column, field_path(requested))


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
    full = part = root / candidate
    while part != root:  # every component below root, none of which may be a link
        if part.is_symlink():
            problems.add(where, field, relative, "a regular file, not a symbolic link", "replace the link by the file itself")
            return None
        part = part.parent
    return full


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


def load_yaml(path: Path, rel: str, problems: Problems) -> Document | None:
    """Parse one YAML file safely; None (with Problems) when it cannot be used at all."""
    data = read_bytes(path, rel, MAX_YAML_BYTES, problems)
    text = decode(data, rel, problems) if data is not None else None
    if text is None:
        return None
    try:
        if "*" in text and _refuse_aliases(text, rel, problems):
            return None
        node = YAML(typ="safe", pure=True).compose(text)
    except MarkedYAMLError as exc:
        _syntax_problem(exc, text, rel, problems)
        return None
    except YAMLError as exc:  # composer errors without a mark, e.g. several documents
        problems.add(Location(rel), "(syntax)", str(exc).splitlines()[0], "a single valid YAML document")
        return None
    if node is None:  # nothing but blanks and comments
        problems.add(Location(rel, 1, 1), "(document)", "an empty file" if not text.strip() else "only comments",
                     "a YAML mapping", "see annotations/ for examples")
        return None
    doc = Document(rel, None, {}, {})
    before = len(problems.items)
    doc.data = _convert(node, (), doc, problems, set())
    if len(problems.items) > before:
        return None
    return doc


def _syntax_problem(exc: MarkedYAMLError, text: str, rel: str, problems: Problems) -> None:
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
        for token in YAML(typ="safe", pure=True).scan(text):
            if (token.start_mark.line, token.start_mark.column) >= (mark.line, mark.column):
                break
            previous = token
    except YAMLError:
        pass
    if (isinstance(previous, ScalarToken) and previous.style in ('"', "'")
            and previous.start_mark.line < previous.end_mark.line == mark.line):
        return previous.start_mark
    return None


def _refuse_aliases(text: str, rel: str, problems: Problems) -> bool:
    """Report every alias (`*name`) at its own position, before anything is composed."""
    found = False
    for event in YAML(typ="safe", pure=True).parse(text):
        if isinstance(event, AliasEvent):
            found = True
            mark = event.start_mark
            problems.add(Location(rel, mark.line + 1, mark.column + 1), "(alias)", f"*{event.anchor}",
                         "plain values", "write the value out; anchors and aliases are not allowed")
    return found


def _convert(node: Node, path: Path_, doc: Document, problems: Problems, seen: set[int]) -> Any:
    where = Location(doc.file, node.start_mark.line + 1, node.start_mark.column + 1)
    doc.positions[path] = (where.line, where.column)
    if id(node) in seen:
        problems.add(where, field_path(path), "an alias (*name)", "plain values", "write the value out; anchors and aliases are not allowed")
        return None
    seen.add(id(node))
    tag = "!!" + node.tag[len(_T):] if node.tag.startswith(_T) else node.tag  # as the contributor wrote it
    if isinstance(node, ScalarNode):
        if node.tag not in _SCALAR_TAGS:
            problems.add(where, field_path(path), tag, "a plain value without a tag", "remove the '!' tag")
            return None
        return _scalar(node, where, path, problems)
    if isinstance(node, SequenceNode):
        if node.tag != _T + "seq":
            problems.add(where, field_path(path), tag, "a list without a tag", "remove the '!' tag")
            return None
        return [_convert(item, path + (i,), doc, problems, seen) for i, item in enumerate(node.value)]
    if isinstance(node, MappingNode):
        if node.tag != _T + "map":
            problems.add(where, field_path(path), tag, "a mapping without a tag", "remove the '!' tag")
            return None
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key_where = Location(doc.file, key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if not isinstance(key_node, ScalarNode) or key_node.tag != _T + "str":
                shown = key_node.value if isinstance(key_node, ScalarNode) else "a list or mapping"
                problems.add(key_where, field_path(path), shown, "a text key",
                             "keys are field names such as 'summary'")
                continue
            key = key_node.value
            if key in result:
                first = doc.key_positions[path + (key,)]
                problems.add(key_where, field_path(path + (key,)), key, "each key once per mapping",
                             f"remove the duplicate (first at line {first[0]})")
                continue
            doc.key_positions[path + (key,)] = (key_where.line, key_where.column)
            result[key] = _convert(value_node, path + (key,), doc, problems, seen)
            if isinstance(value_node, ScalarNode) and value_node.tag == _T + "null" and not value_node.value:
                doc.positions[path + (key,)] = (key_where.line, key_where.column)  # `key:` left empty
        return result
    problems.add(where, field_path(path), type(node).__name__, "a YAML value")
    return None


def _scalar(node: ScalarNode, where: Location, path: Path_, problems: Problems) -> Any:
    tag, value = node.tag[len(_T):], node.value
    if tag in ("str", "timestamp"):
        return value
    if tag == "null":
        return None
    if tag == "bool":
        return value.lower() == "true"
    try:
        if tag == "int":
            text = value.replace("_", "")
            return int(text, 0) if text.lower().startswith(("0x", "0o")) else int(text)
        return float(value.lower().replace(".inf", "inf").replace(".nan", "nan"))
    except ValueError:
        problems.add(where, field_path(path), value, f"a valid {tag}")
        return None


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

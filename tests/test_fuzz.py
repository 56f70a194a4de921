"""Property-based fuzzing: no input, however broken, may crash the reader or the build.

(a) `noncoop.read.load_yaml` on arbitrary text and bytes, on YAML-like token soup and on dumped
random documents (which must load back unchanged); (b) the whole resolve + validate pipeline
(`noncoop.cli.build`) on randomly mutated copies of the real annotation files. The only
exception allowed out is `BuildError`, and it must carry at least one problem, each located in a
file of the tree. Wherever the loader's fast road (rapidyaml) reads a text, the libyaml road must
read it too, to the same value: every load in (a) is compared, and (c) writes documents in every
scalar style YAML has, with the characters where YAML 1.1 and 1.2 or the two parsers could differ.

The runs are derandomized, so CI is stable. `NONCOOP_FUZZ_EXAMPLES=N` runs N examples per test
for a longer search by hand, e.g. `NONCOOP_FUZZ_EXAMPLES=2000 .venv/bin/python -m pytest -q
tests/test_fuzz.py`.
"""
from __future__ import annotations

import copy
import io
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis.errors import InvalidArgument
from hypothesis import strategies as st
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from conftest import ROOT
from noncoop.cli import build
from noncoop.errors import BuildError, Problems
from noncoop import read
from noncoop.read import Document, load_yaml
from noncoop.schema import load_schema

REL = "annotations/fuzz.yaml"
FILES = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "annotations").glob("*.yaml"))


def fuzz_settings(default: int) -> settings:
    """`default` examples (or NONCOOP_FUZZ_EXAMPLES), reproducible, without a deadline."""
    return settings(max_examples=int(os.environ.get("NONCOOP_FUZZ_EXAMPLES") or default), deadline=None,
                    derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


# --- values ------------------------------------------------------------------------------------

TRICKY = ["", " ", "~", "null", "true", "False", "yes", "0x1F", "0o17", "1_000", ".inf", "-.inf", ".nan", "1e400",
          "2022-02-30", "2022-07-28", "2022-07-28 10:00:00", "e01", "e999", "q01", "001_df0a884ed00454f2-e01",
          "ua-government", "kherson", "ASSAULT", "planned", "month", "’", "“", "”", "'", '"', "\u00a0", "\t", "\n",
          "#", ": ", "- ", "---", "...", "*a", "&a", "!tag", "!!python/object/apply:os.system", "{", "[", "]", "%",
          "@", "`", "|", ">", "\\", "\ufeff", "\x00", "\x85", "\u2028", "Kherson", "Kyiv’s", "a “massive” boycott"]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(), st.sampled_from(TRICKY), st.text(max_size=40),
    st.text(alphabet=st.sampled_from(list("ab ’“”'\":-#\n\t[]{}&*!|>%@`,?ё∑😀\u00a0")), max_size=20),
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                                            max_size=4), max_leaves=8)


def dump(data: Any, flow: bool | None = False) -> str:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = flow
    yaml.allow_unicode = True
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def plain(value: Any) -> bool:
    """Only the types the loader promises: text-keyed mappings, lists and scalars."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(plain(v) for v in value)
    return value is None or isinstance(value, (str, int, float, bool))


def same(a: Any, b: Any) -> bool:
    """Equality where NaN equals NaN."""
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


# --- (a) the YAML loader -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz-yaml")


def load(scratch: Path, data: bytes) -> tuple[Document | None, Problems]:
    """Load `data` as the file `REL`; a refusal must come with located problems, and only then."""
    path = scratch / "fuzz.yaml"
    path.write_bytes(data)
    problems = Problems()
    doc = load_yaml(path, REL, problems)
    same_on_both_roads(path)
    if doc is None:
        assert problems.items, "refused without saying why"
        for problem in problems.items:
            assert problem.location.file == REL
            assert str(problem).startswith(REL)
    else:
        assert not problems.items
        assert plain(doc.data)
        str(doc.at(("events", 0, "status")))  # every path has a location, present or not
    return doc, problems


@fuzz_settings(300)
@given(st.text(max_size=400))
def test_load_yaml_on_arbitrary_text(scratch, text):
    load(scratch, text.encode("utf-8"))


@fuzz_settings(300)
@given(st.binary(max_size=400))
def test_load_yaml_on_arbitrary_bytes(scratch, data):
    load(scratch, data)


TOKENS = ["key", "events", "id", "e01", ":", ": ", " ", "  ", "- ", "-", "\n", "\n  ", "\n    ", "\t", "'", '"', "’",
          "[", "]", "{", "}", ",", "#", "&a ", "*a", "&b ", "*b", "!!python/object/apply:os.system ", "!!str ",
          "!!binary ", "!!int ", "!custom ", "!", "---\n", "...\n", "%YAML 1.2\n", "%TAG ! tag:x,2024:\n", "|\n", ">-\n",
          "? ", "~", "null", "true", "1.5", ".inf", "0x", "2022-02-30", "\\", "\\x", "\ufeff", "\x00", "\r\n", "é",
          "\u2028", "😀", "<<: ", "=", "@", "`"]


@fuzz_settings(300)
@given(st.lists(st.sampled_from(TOKENS), max_size=60))
def test_load_yaml_on_yaml_like_token_soup(scratch, tokens):
    load(scratch, "".join(tokens).encode("utf-8"))


@fuzz_settings(200)
@given(st.dictionaries(st.text(max_size=12), values, max_size=6), st.sampled_from([False, True, None]))
def test_dumped_documents_load_back_unchanged(scratch, data, flow):
    """What ruamel's YAML 1.2 loader reads back unchanged, the loader reads back identically (lossless
    scalars), or refuses as a located syntax error: it never returns a different value."""
    text = dump(data, flow)
    try:
        assume(same(YAML(typ="safe", pure=True).load(text), data))  # the dumper has its own corner cases
    except YAMLError:
        assume(False)
    doc, problems = load(scratch, text.encode("utf-8"))
    if doc is None:  # libyaml follows YAML 1.1 syntax: a few 1.2-only forms are refused, never altered
        assert problems.items and all(p.field == "(syntax)" and p.location.line for p in problems.items)
        return
    assert same(doc.data, data)


def same_on_both_roads(path: Path) -> None:
    """What the fast road reads, the libyaml road reads too, to the same values and types."""
    data = path.read_bytes()
    try:
        fast = read._fast(data, data.decode("utf-8"))
    except UnicodeDecodeError:
        return
    if fast is None:
        return
    problems = Problems()
    slow = load_yaml(path, REL, problems, fast=False)
    assert slow is not None, f"only the fast road read it: {problems.items}"
    assert same(fast, slow.data)
    try:
        event("fast road")
    except InvalidArgument:  # (outside a Hypothesis test)
        pass


# --- (c) the two roads on every scalar style --------------------------------------------------------

STYLED_TEXT = st.text(alphabet=st.sampled_from(list("ab -:#'\"\\\n\t ’é😀\u00a0\u2028\x85\x07\ufeff"
                                                   "0.1e+~!&*|>[]{},?%@`")), max_size=16)
FLOW_ITEMS = STYLED_TEXT | st.sampled_from(["1", "x", '"y z"', "'w'", "true", "~", "", "[a]", "{b: c}", "-x", ":x", "b: c"])


def styled(text: str, style: str, indent: str) -> str:
    """`text` as a YAML scalar of `style`, as a contributor might write it (not always valid YAML)."""
    if style == "plain":
        return text.replace("\n", "\n" + indent)
    if style == "single":
        return "'" + text.replace("'", "''").replace("\n", "\n" + indent) + "'"
    if style == "double":
        escaped = text.replace("\\", "\\\\").replace('"', '\\"')
        return '"' + escaped.replace("\n", "\\n\\\n" + indent) + '"'
    if style == "double-raw":  # escapes and line breaks left to the parser's folding
        return '"' + text.replace('"', '\\"').replace("\n", "\n" + indent) + '"'
    return style + "\n" + "".join(indent + "  " + line + "\n" for line in text.split("\n")).rstrip("\n")


@st.composite
def styled_documents(draw) -> str:
    """A mapping of a few levels written out by hand: every scalar style and chomping, flow lists,
    comments, escapes, folding and the characters YAML versions or parsers treat differently."""
    lines = []

    def block(depth: int, indent: str) -> None:
        for i in range(draw(st.integers(1, 4))):
            key = draw(st.sampled_from(["summary", "id", "a b", "é", "true", "1", "~", '"q"', "'s'", "k#", "k:"]))
            kind = draw(st.sampled_from(["scalar", "scalar", "list", "flow", "map"] if depth < 3 else ["scalar"]))
            if kind == "map":
                lines.append(f"{indent}{key}{i}:")
                block(depth + 1, indent + draw(st.sampled_from(["  ", "    "])))
            elif kind == "list":
                lines.append(f"{indent}{key}{i}:")
                for _ in range(draw(st.integers(0, 3))):
                    style = draw(st.sampled_from(["plain", "double"]))
                    lines.append(f"{indent}- {styled(draw(STYLED_TEXT), style, indent + '  ')}")
            elif kind == "flow":
                items = draw(st.lists(FLOW_ITEMS, max_size=3))
                lines.append(f"{indent}{key}{i}: [{draw(st.sampled_from([', ', ',', ' , '])).join(items)}]")
            else:
                style = draw(st.sampled_from(["plain", "single", "double", "double-raw", "|", "|-", "|+", ">", ">-",
                                              ">+", "|2", ">1-"]))
                comment = draw(st.sampled_from(["", "", " # note", "  #x"]))
                lines.append(f"{indent}{key}{i}: {styled(draw(STYLED_TEXT), style, indent + '  ')}{comment}")
    block(0, "")
    return "\n".join(lines) + draw(st.sampled_from(["\n", "", "\n\n", "\n...\n", "\n# end\n"]))


@fuzz_settings(1500)
@given(styled_documents())
def test_the_fast_road_reads_every_scalar_style_as_libyaml_does(scratch, text):
    doc, _ = load(scratch, text.encode("utf-8"))
    event("read" if doc else "refused")


# Each reason the fast road has to leave a text to libyaml, with a text it must leave for it.
OFF_THE_FAST_ROAD = {
    "a tag": "a: !x 1\n",
    "an anchor": "a: &x 1\n",
    "an alias": "a: 1\nb: *x\n",
    "a tab": "a:\tb\n",
    "a carriage return": "a: b\r\n",
    "NEL, a line break to YAML 1.1 only": "a: b\x85c\n",
    "LINE SEPARATOR, a line break to YAML 1.1 only": "a: b\u2028c\n",
    "a byte order mark inside": "a: \ufeffb\n",
    "a control character": "a: b\x07\n",
    "an escape that gives a control character": 'a: "\\a"\n',
    "no final line break (a block scalar's last break)": "a: |\n  b",
    "a value that begins with ]": "a: ]\n",
    "a value that begins with @": "a: @x\n",
    "a value that begins with %": "a: %x\n",
    "a duplicate key": "a: 1\na: 2\n",
    "a key the core schema reads as a number": "1: a\n",
    "a key the core schema reads as a boolean": "true: a\n",
    "a quoted key that would read as a number": "'1': a\n",
    "an empty key": '"": a\n',
    "a null libyaml's road resolves and rapidyaml keeps as text": "a: ~\n",
    "a boolean libyaml's road resolves and rapidyaml keeps as text": "a: True\n",
    "a number libyaml's road resolves and rapidyaml keeps as text": "a: 0x1F\n",
    "a quoted text that would read as a number": "a: '12'\n",
    "an empty quoted text": 'a: ""\n',
    "a list of such texts": "a: [x, TRUE]\n",
    "a list at the top": "- a\n",
    "a scalar at the top": "a\n",
    "an empty document": "# nothing\n",
    "two documents": "a: 1\n---\nb: 2\n",
    "a document start marker": "---\na: 1\n",
    "a directive": "%YAML 1.2\n---\na: 1\n",
    "nesting deeper than MAX_DEPTH": "a: " + "[" * 40 + "]" * 40 + "\n",
    "a syntax error": "a: [b\n",
    "a plain value in a flow beginning with ':' (YAML 1.2 only)": "a: [:x]\n",
    "a colon before a flow indicator (libyaml refuses it, rapidyaml reads a key)": "a: [x:]\n",
    "an integer with more digits than Python converts": "a: " + "1" * 5000 + "\n",
}


@pytest.mark.parametrize("text", OFF_THE_FAST_ROAD.values(), ids=OFF_THE_FAST_ROAD.keys())
def test_the_fast_road_leaves_what_it_cannot_vouch_for_to_libyaml(text):
    assert read._fast(text.encode("utf-8"), text) is None


def test_an_integer_too_long_for_python_is_kept_as_text(scratch):
    doc, _ = load(scratch, ("a: " + "1" * 5000 + "\n").encode())
    assert doc.data == {"a": "1" * 5000}


@pytest.mark.parametrize("rel", FILES)
def test_the_real_annotations_take_the_fast_road_to_the_same_values(rel):
    data = (ROOT / rel).read_bytes()
    fast = read._fast(data, data.decode("utf-8"))
    assert fast is not None, "the fast road declined a real annotation file"
    assert same(fast, load_yaml(ROOT / rel, rel, Problems(), fast=False).data)


def test_an_article_with_a_problem_is_told_by_the_libyaml_road(pipeline, monkeypatch):
    """Whatever the fast road made of a file, an article with a problem is read again by libyaml:
    its messages are the libyaml road's (here the fast road is made to misread the broken file)."""
    root, originals, schema = pipeline
    restore(root, originals)
    rel = FILES[0]
    (root / rel).write_text(originals[rel].replace("status: ongoing", "status: going on", 1), encoding="utf-8")

    def told() -> list[str]:
        with pytest.raises(BuildError) as refused:
            build(root, schema)
        return [str(problem) for problem in refused.value.problems]
    expected = told()
    fast = read._fast
    monkeypatch.setattr(read, "_fast", lambda data, text: {"source": {}} if "going on" in text else fast(data, text))
    assert told() == expected and any("going on" in problem for problem in expected)
    restore(root, originals)


# --- (b) the whole pipeline on mutated annotations ---------------------------------------------------

class Pipeline(tuple):
    """(root, original texts, schema), shown briefly in Hypothesis' reports."""

    def __repr__(self) -> str:
        return f"Pipeline({self[0]})"


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory) -> Pipeline:
    """A tree of the real articles and annotations, the original texts, and the schema."""
    root = tmp_path_factory.mktemp("fuzz-tree")
    for rel in ("articles", "annotations"):
        shutil.copytree(ROOT / rel, root / rel)
    originals = {rel: (root / rel).read_text(encoding="utf-8") for rel in FILES}
    return Pipeline((root, originals, load_schema()))


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path into `value`, the root included."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, prefix + (key,))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += paths(item, prefix + (i,))
    return found


def scalars_of(value: Any) -> list:
    return [value] if not isinstance(value, (dict, list)) else [s for v in (value.values() if isinstance(value, dict)
                                                                            else value) for s in scalars_of(v)]


def mutate(data: Any, draw) -> Any:
    """Apply one random structural change: delete, duplicate, rename, replace or borrow a value."""
    candidates = paths(data)[1:]
    if not candidates:  # an earlier round emptied the document
        return data
    path = draw(st.sampled_from(candidates))
    *head, last = path
    parent = data
    for part in head:
        parent = parent[part]
    op = draw(st.sampled_from(["delete", "duplicate", "rename", "replace", "borrow", "type-swap"]))
    if op == "delete":
        del parent[last]
    elif op == "duplicate":
        if isinstance(parent, list):
            parent.insert(last, copy.deepcopy(parent[last]))  # a copy: a shared object would dump as an alias
        else:
            parent[draw(st.text(max_size=12))] = copy.deepcopy(parent[last])
    elif op == "rename" and isinstance(parent, dict):
        parent[draw(st.sampled_from(TRICKY) | st.text(max_size=12))] = parent.pop(last)
    elif op == "borrow":
        parent[last] = draw(st.sampled_from(scalars_of(data)))
    elif op == "type-swap":
        parent[last] = [parent[last]] if not isinstance(parent[last], list) else (parent[last] or [None])[0]
    else:
        parent[last] = draw(values)
    return data


def run_build(root: Path, schema) -> None:
    """The pipeline may succeed or raise BuildError with located problems; nothing else."""
    try:
        _, outputs = build(root, schema)
        for _ in outputs:  # rendered as consumed
            pass
        event("built")
    except BuildError as exc:
        event("refused: " + ("read" if exc.problems[0].field.startswith("(") else "checked") if exc.problems else "?")
        assert exc.problems, "a BuildError without problems"
        for problem in exc.problems:
            assert re.match(r"(annotations|articles)/[^/]+$", problem.location.file), str(problem)
            assert str(problem)
        assert exc.report().endswith("nothing was written.")


def restore(root: Path, originals: dict[str, str]) -> None:
    for rel, text in originals.items():
        (root / rel).write_text(text, encoding="utf-8")


@fuzz_settings(30)
@given(st.data())
def test_build_on_structurally_mutated_annotations(pipeline, data):
    root, originals, schema = pipeline
    restore(root, originals)
    for _ in range(data.draw(st.integers(1, 3))):
        rel = data.draw(st.sampled_from(FILES))
        try:
            document = YAML(typ="safe", pure=True).load((root / rel).read_text(encoding="utf-8"))
        except YAMLError:  # an earlier round left text the dumper wrote but cannot read back
            break
        document = mutate(document, data.draw)
        (root / rel).write_text(dump(document, data.draw(st.sampled_from([False, None]))), encoding="utf-8")
    run_build(root, schema)


@fuzz_settings(15)
@given(st.data())
def test_build_on_textually_mutated_annotations(pipeline, data):
    root, originals, schema = pipeline
    restore(root, originals)
    rel = data.draw(st.sampled_from(FILES))
    lines = originals[rel].splitlines(keepends=True)
    for _ in range(data.draw(st.integers(1, 3))):
        if not lines:
            break
        i = data.draw(st.integers(0, len(lines) - 1))
        op = data.draw(st.sampled_from(["delete", "duplicate", "insert", "splice", "quotes"]))
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "insert":
            lines.insert(i, "".join(data.draw(st.lists(st.sampled_from(TOKENS), max_size=12))) + "\n")
        elif op == "splice":
            at = data.draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:at] + data.draw(st.sampled_from(TOKENS) | st.text(max_size=5)) + lines[i][at:]
        else:
            lines[i] = lines[i].translate(str.maketrans({"’": "'", "“": '"', "”": '"', "'": "’"}))
    (root / rel).write_text("".join(lines), encoding="utf-8")
    run_build(root, schema)


def test_the_unmutated_round_trip_builds(pipeline):
    """Dumping the parsed annotations (the fuzzers' starting point) changes nothing that matters."""
    root, originals, schema = pipeline
    restore(root, originals)
    for rel in FILES:
        (root / rel).write_text(dump(YAML(typ="safe", pure=True).load(originals[rel])), encoding="utf-8")
    _, outputs = build(root, schema)
    assert dict(outputs)["datapackage.json"]

"""Every row rule fires whether a field it involves is wrong, empty or missing.

The cases are generated from `schemas/rules.yaml` itself: for each rule, each table obeying it
and each field it involves that contributors write, a real annotated item has that field removed,
blanked (`key:` with no value) and given a wrong value. A wrong value must always be refused at
its item; a removed or blanked one must either be refused at its item or leave a package in which
every rule of the table still holds. No case may end in a traceback. A rule added to rules.yaml
is covered without touching this file.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from noncoop.cli import build
from noncoop.errors import BuildError
from noncoop.read import field_path
from noncoop.validate import rule_failures

from conftest import ROOT, load_schema

SCHEMA = load_schema()
ARTICLES = sorted(p.name for p in (ROOT / "annotations").glob("*.yaml") if p.stem not in ("actors", "places"))
# Where each table's items are written: (file, path to the list of items, or to the single item).
SECTIONS = {"sources": ("article", ("source",)), "events": ("article", ("events",)),
            "quotes": ("article", ("quotes",)), "actors": ("actors.yaml", ("actors",)),
            "places": ("places.yaml", ("places",)), "event_actors": ("article", ("events",)),
            "event_links": ("article", ("events", "*", "links"))}
# Columns filled from an annotation key of another name: spans from the words, roles from `actors`.
KEYS = {("events", "char_start"): "evidence", ("events", "char_end"): "evidence", ("quotes", "char_start"): "text",
        ("quotes", "char_end"): "text", ("event_actors", "event_id"): "actors"}
MUTATIONS = ("remove", "blank", "wrong")


def _wrong(table: str, key: str):
    """A value of the wrong kind for `key`: an unknown code, an unknown ID, an impossible date..."""
    f = SCHEMA.fields.get(key)
    if f is None:
        return "no-such-actor"
    if f.vocabulary:
        return "not-a-code"
    if f.type == "date":
        return "2022-02-30"
    if f.type == "boolean":
        return "maybe"
    if f.type in ("integer", "number"):
        return -1 if (f.minimum or 0) >= 0 else "many"
    if any(key in fk.fields for t in SCHEMA.tables.values() for fk in t.foreign_keys):
        return "no-such-id"
    return ""


def _items(table: str) -> list[tuple[str, tuple, dict]]:
    """(file, item path, item) of every annotated item of `table`, in file order."""
    where, path = SECTIONS[table]
    files = ARTICLES if where == "article" else [where]
    found = []
    for name in files:
        data = yaml.safe_load((ROOT / "annotations" / name).read_text(encoding="utf-8"))
        if path == ("source",):
            found.append((name, path, data["source"]))
        elif path[-1] == "links":
            for i, event in enumerate(data["events"]):
                found += [(name, ("events", i, "links", j), link) for j, link in enumerate(event.get("links") or [])]
        else:
            found += [(name, path + (i,), item) for i, item in enumerate(data[path[0]])]
    return found


def _cases():
    cases = []
    for rule, involved in SCHEMA.rule_fields.items():
        for table in (t for t in SCHEMA.tables.values() if rule in t.rules):
            written = {f.name for f in table.annotated_fields} | {"linked_event_id", "link_type"}
            for column in involved:
                key = KEYS.get((table.name, column), column if column in written and column in table.columns else None)
                if key is None:
                    continue
                items = _items(table.name)
                present = [item for item in items if item[2].get(key) is not None]
                # prefer an item where every other field of the rule is filled too
                present.sort(key=lambda item: -sum(item[2].get(c) is not None for c in involved))
                for mutation in MUTATIONS:
                    chosen = present[:1] if mutation != "wrong" else (present or items)[:1]
                    for name, path, _ in chosen:
                        cases.append(pytest.param(rule, table.name, key, mutation, name, path,
                                                  id=f"{rule}-{table.name}-{key}-{mutation}"))
    return cases


CASES = _cases()


def test_every_rule_has_generated_cases():
    covered = {case.values[0] for case in CASES}
    assert covered == set(SCHEMA.rules), f"rules without a case: {set(SCHEMA.rules) - covered}"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("rules")
    for rel in ("articles", "annotations"):
        shutil.copytree(ROOT / rel, root / rel)
    return root


@pytest.mark.parametrize("rule, table, key, mutation, name, path", CASES)
def test_rule_fires_on_a_wrong_empty_or_missing_field(pristine, rule, table, key, mutation, name, path):
    file = pristine / "annotations" / name
    original = file.read_text(encoding="utf-8")
    data = yaml.safe_load(original)
    item = data
    for part in path:
        item = item[part]
    if mutation == "remove":
        item.pop(key)
    else:
        item[key] = None if mutation == "blank" else _wrong(table, key)
    file.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=10_000), encoding="utf-8")
    try:
        frames, _ = build(pristine, schema=SCHEMA)  # outputs are rendered only when consumed
    except BuildError as exc:
        here = field_path(path)
        at_item = [p for p in exc.problems if p.location.file == f"annotations/{name}"
                   and (p.field == here or p.field.startswith((here + ".", here + "[")))]
        assert at_item, f"refused, but not at {here}:\n{exc.report()}"
        named = set(SCHEMA.rule_fields[rule]) | {key}
        assert any(p.field.rsplit(".", 1)[-1] in named for p in at_item), \
            f"refused at {here}, but no problem names a field of {rule}:\n{exc.report()}"
        return
    finally:
        file.write_text(original, encoding="utf-8")
    assert mutation != "wrong", f"{key}={_wrong(table, key)!r} at {field_path(path)} passed the check"
    broken = [(r, row) for r, column, row in rule_failures(SCHEMA, SCHEMA.tables[table], frames[table])]
    assert not broken, f"the check passed, but rows break {broken}"

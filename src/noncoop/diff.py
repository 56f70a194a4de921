"""Diff stage: the published package of a git ref against a fresh build of the working tree.

    python build.py diff [REF] [--markdown] [--check-release]

Tables are compared row by row by primary key (added, removed, changed fields with old -> new
values), schemas field by field (added, removed, reordered, retyped, constraints loosened or
tightened, codes added or removed). From that follow the smallest version bump the project's
versioning rules allow, and the ID rules: an event, quote, actor or place ID may disappear only
when `schemas/retired_ids.yaml` retires it, a retired ID never comes back, and an ID whose source
or verbatim words changed is listed as a change of meaning for the reviewer to confirm.

The old side is what REF published: its committed `datapackage.json` and Parquet tables (CI
refuses a commit whose outputs differ from what its inputs produce). The new side is built in
memory from the working tree, so the diff never depends on a stale `data/`.
"""
from __future__ import annotations

import io
import json
import re
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

from .errors import Problems
from .read import load_yaml

RETIRED = "schemas/retired_ids.yaml"
STABLE = {"events": "event_id", "quotes": "quote_id", "actors": "actor_id", "places": "place_id"}
MEANING = {"events": ("source_id", "evidence"), "quotes": ("source_id", "text")}  # what an ID stands for
BUMPS = ("PATCH", "MINOR", "MAJOR")
# constraints whose bound makes the field stricter when it grows (else when it shrinks)
_LOWER, _UPPER = ("minimum", "minLength"), ("maximum", "maxLength")


class DiffError(Exception):
    """The ref cannot be read (unknown, or without a published package)."""


@dataclass
class Package:
    """One side: the descriptor and every table's rows, by table name."""

    descriptor: dict
    tables: dict[str, list[dict]]

    def resource(self, name: str) -> dict:
        return next(r for r in self.descriptor["resources"] if r["name"] == name)

    def key(self, name: str) -> list[str]:
        key = self.resource(name)["schema"]["primaryKey"]
        return [key] if isinstance(key, str) else list(key)


@dataclass
class Diff:
    ref: str
    commit: str
    rows: dict[str, dict[str, list]] = field(default_factory=dict)  # table -> added / removed / changed
    schema: list[tuple[str, str]] = field(default_factory=list)  # (bump, what changed)
    id_errors: list[str] = field(default_factory=list)
    meaning: list[str] = field(default_factory=list)

    @property
    def bump(self) -> str | None:
        """The smallest version bump the changes allow (None: nothing changed)."""
        levels = [BUMPS.index(b) for b, _ in self.schema]
        for changes in self.rows.values():
            if changes["added"]:
                levels.append(1)
            if changes["removed"] or changes["changed"]:
                levels.append(0)
        return BUMPS[max(levels)] if levels else None

    @property
    def empty(self) -> bool:
        return self.bump is None and not self.id_errors and not self.meaning


def published_at(root: Path, ref: str) -> tuple[Package, str]:
    """What `ref` published, and its commit, read from git into a temporary folder."""
    try:
        commit = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").strip()
        data = subprocess.run(["git", "-C", str(root), "archive", "--format=tar", commit, "datapackage.json", "data"],
                              capture_output=True, check=True).stdout
    except subprocess.CalledProcessError as exc:
        raise DiffError(f"{ref}: not a commit with a published package in this repository "
                        f"({(exc.stderr or b'').decode(errors='replace').strip() or 'unknown ref'})") from None
    with tempfile.TemporaryDirectory() as folder:
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            tar.extractall(folder, filter="data")
        files = {str(p.relative_to(folder)): p.read_bytes() for p in Path(folder).rglob("*") if p.is_file()}
    return package_from(files), commit


def package_from(files: dict[str, bytes]) -> Package:
    """A package from its published files by path (`datapackage.json`, `data/<table>.parquet`)."""
    descriptor = json.loads(files["datapackage.json"])
    names = [r["name"] for r in descriptor["resources"] if str(r.get("path", "")).endswith(".csv")]
    tables = {}
    for name in names:
        table = pq.read_table(io.BytesIO(files[f"data/{name}.parquet"]))
        tables[name] = [{k: _plain(v) for k, v in row.items()} for row in table.to_pylist()]
    descriptor["resources"] = [r for r in descriptor["resources"] if r["name"] in names]
    return Package(descriptor, tables)


def _plain(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def compare(old: Package, new: Package, retired: dict[str, dict], ref: str = "", commit: str = "") -> Diff:
    diff = Diff(ref, commit)
    old_names, new_names = list(old.tables), list(new.tables)
    for name in old_names:
        if name not in new.tables:
            diff.schema.append(("MAJOR", f"table `{name}` removed"))
    for name in new_names:
        if name not in old.tables:
            diff.schema.append(("MINOR", f"table `{name}` added"))
    common = [n for n in new_names if n in old.tables]
    if [n for n in old_names if n in common] != common:
        diff.schema.append(("MAJOR", "tables reordered"))
    for name in common:
        diff.schema += _schema_changes(name, old.resource(name)["schema"], new.resource(name)["schema"])
        diff.rows[name] = _row_changes(old, new, name)
    _ids(diff, old, new, retired)
    return diff


def _schema_changes(table: str, old: dict, new: dict) -> list[tuple[str, str]]:
    changes = []
    before = {f["name"]: f for f in old["fields"]}
    after = {f["name"]: f for f in new["fields"]}
    for name in [n for n in before if n not in after]:
        changes.append(("MAJOR", f"`{table}.{name}` removed"))
    for name in [n for n in after if n not in before]:
        required = after[name].get("constraints", {}).get("required")
        changes.append(("MAJOR" if required else "MINOR", f"`{table}.{name}` added" + (" (required)" if required else "")))
    kept = [n for n in before if n in after]
    if kept != [n for n in after if n in before]:
        changes.append(("MAJOR", f"`{table}` columns reordered"))
    for name in kept:
        a, b = before[name], after[name]
        if a.get("type") != b.get("type"):
            changes.append(("MAJOR", f"`{table}.{name}` retyped {a.get('type')} -> {b.get('type')}"))
        changes += _constraint_changes(f"{table}.{name}", a.get("constraints", {}), b.get("constraints", {}))
    if old.get("primaryKey") != new.get("primaryKey"):
        changes.append(("MAJOR", f"`{table}` primary key {old.get('primaryKey')} -> {new.get('primaryKey')}"))
    fks = lambda s: {json.dumps(fk, sort_keys=True) for fk in s.get("foreignKeys", [])}  # noqa: E731
    for fk in sorted(fks(new) - fks(old)):
        changes.append(("MAJOR", f"`{table}` foreign key added: {fk}"))
    for fk in sorted(fks(old) - fks(new)):
        changes.append(("MINOR", f"`{table}` foreign key removed: {fk}"))
    return changes


def _constraint_changes(where: str, old: dict, new: dict) -> list[tuple[str, str]]:
    changes = []
    for key in sorted(old.keys() | new.keys()):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if key == "enum":
            removed, added = [c for c in a or [] if c not in (b or [])], [c for c in b or [] if c not in (a or [])]
            if b is None:
                changes.append(("MINOR", f"`{where}` code list removed (any value allowed)"))
            elif a is None:
                changes.append(("MAJOR", f"`{where}` restricted to codes {b}"))
            else:
                if removed:
                    changes.append(("MAJOR", f"`{where}` codes removed: {', '.join(map(str, removed))}"))
                if added:
                    changes.append(("MINOR", f"`{where}` codes added: {', '.join(map(str, added))}"))
                if not removed and not added:
                    changes.append(("MAJOR", f"`{where}` codes reordered"))
        elif key in ("required", "unique"):
            changes.append(("MAJOR" if b else "MINOR", f"`{where}` {'now' if b else 'no longer'} {key}"))
        elif key in _LOWER + _UPPER and a is not None and b is not None:
            stricter = (b > a) if key in _LOWER else (b < a)
            changes.append(("MAJOR" if stricter else "MINOR", f"`{where}` {key} {a} -> {b} ({'tightened' if stricter else 'loosened'})"))
        else:  # a bound or pattern added (stricter) or removed (looser); a changed pattern may be either
            changes.append(("MINOR" if b is None else "MAJOR",
                            f"`{where}` {key} {'removed' if b is None else 'added' if a is None else 'changed'}"
                            + (f": {b}" if b is not None else "")))
    return changes


def _keyed(package: Package, name: str) -> dict[tuple, dict]:
    key = package.key(name)
    return {tuple(row[k] for k in key): row for row in package.tables[name]}


def _row_changes(old: Package, new: Package, name: str) -> dict[str, list]:
    before, after = _keyed(old, name), _keyed(new, name)
    changed = []
    for key in sorted(before.keys() & after.keys(), key=_sort_key):
        a, b = before[key], after[key]
        fields = [(f, a.get(f), b.get(f)) for f in b if f in a and a[f] != b[f]]
        if fields:
            changed.append((key, fields))
    return {"added": sorted(after.keys() - before.keys(), key=_sort_key),
            "removed": sorted(before.keys() - after.keys(), key=_sort_key), "changed": changed}


def _sort_key(key: tuple) -> tuple:
    return tuple((v is None, str(v)) for v in key)


def _ids(diff: Diff, old: Package, new: Package, retired: dict[str, dict]) -> None:
    for name, column in STABLE.items():
        if name not in old.tables or name not in new.tables:
            continue
        before = {row[column]: row for row in old.tables[name]}
        after = {row[column]: row for row in new.tables[name]}
        for gone in sorted(before.keys() - after.keys()):
            if gone not in retired:
                diff.id_errors.append(f"{column} {gone} (published at {diff.commit[:12] or diff.ref}) disappeared: "
                                      f"restore it, or retire it in {RETIRED} with a reason and the version")
        for back in sorted(after.keys() & retired.keys()):
            diff.id_errors.append(f"{column} {back} was retired in version {retired[back].get('version')} "
                                  f"({retired[back].get('reason')}) and may never be used again: choose a new ID")
        for same in sorted(before.keys() & after.keys()):
            moved = [c for c in MEANING.get(name, ()) if before[same].get(c) != after[same].get(c)]
            if moved:
                diff.meaning.append(f"{column} {same}: {', '.join(moved)} changed "
                                    f"({'; '.join(f'{before[same][c]!r} -> {after[same][c]!r}' for c in moved)}): "
                                    "confirm it still names the same event or statement")


def retired_ids(root: Path) -> tuple[dict[str, dict], Problems]:
    """`schemas/retired_ids.yaml`: retired ID -> {reason, version}."""
    problems = Problems()
    path = root / RETIRED
    if not path.exists():
        return {}, problems
    doc = load_yaml(path, RETIRED, problems)
    entries = (doc.data or {}).get("retired") if doc and isinstance(doc.data, dict) else None
    found = {}
    for i, entry in enumerate(entries if isinstance(entries, list) else []):
        if isinstance(entry, dict) and isinstance(entry.get("id"), str) and entry.get("reason") and entry.get("version"):
            found[entry["id"]] = entry
        else:
            problems.add(doc.at(("retired", i)), f"retired[{i}]", entry, "a mapping with id, reason and version")
    if doc and not isinstance(entries, list):
        problems.add(doc.at(()), "retired", entries, "a list of {id, reason, version}")
    return found, problems


def required_version(current: str, bump: str | None) -> str:
    """The smallest version after `current` that `bump` allows (`current` itself when nothing changed)."""
    major, minor, patch = (int(p) for p in current.split("."))
    if bump == "MAJOR":
        return f"{major + 1}.0.0"
    if bump == "MINOR":
        return f"{major}.{minor + 1}.0"
    if bump == "PATCH":
        return f"{major}.{minor}.{patch + 1}"
    return current


def version_at_least(version: str, floor: str) -> bool:
    return tuple(map(int, version.split("."))) >= tuple(map(int, floor.split(".")))


def report(diff: Diff, markdown: bool = False, shown: int = 20) -> str:
    """The diff for a terminal, or as Markdown for a pull request summary."""
    h = (lambda t: f"### {t}") if markdown else (lambda t: f"{t}:")
    item = "- " if markdown else "  "
    code = (lambda t: f"`{t}`") if markdown else (lambda t: t)
    lines = [("## " if markdown else "") + f"Data diff against {diff.ref} ({diff.commit[:12]})"]
    if diff.empty:
        return "\n".join(lines + ["", "No change."]) + "\n"
    if diff.bump:
        lines += ["", f"Smallest version bump these changes allow: **{diff.bump}**" if markdown
                  else f"smallest version bump these changes allow: {diff.bump}"]
    if diff.id_errors:
        lines += ["", h("ID rules broken (refused)")] + [item + e for e in diff.id_errors]
    if diff.meaning:
        lines += ["", h("IDs whose meaning may have changed (confirm)")] + [item + e for e in diff.meaning]
    if diff.schema:
        lines += ["", h("Schema")] + [f"{item}{b}: {w}" for b, w in diff.schema]
    for name, changes in diff.rows.items():
        counts = {k: len(v) for k, v in changes.items()}
        if not any(counts.values()):
            continue
        lines += ["", h(f"{code(name)}: {counts['added']} added, {counts['removed']} removed, {counts['changed']} changed")]
        for kind in ("added", "removed"):
            for key in changes[kind][:shown]:
                lines.append(f"{item}{kind} {code(', '.join(map(str, key)))}")
        for key, fields in changes["changed"][:shown]:
            what = "; ".join(f"{f}: {_short(a)} -> {_short(b)}" for f, a, b in fields)
            lines.append(f"{item}changed {code(', '.join(map(str, key)))}: {what}")
        hidden = sum(max(0, n - shown) for n in counts.values())
        if hidden:
            lines.append(f"{item}... and {hidden} more")
    return "\n".join(lines) + "\n"


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, check=True, text=True).stdout


def default_ref(root: Path) -> str:
    """The latest release tag (`v1.2.3`), else `origin/main`, else `HEAD`."""
    tags = [t for t in _git(root, "tag", "--list").split() if re.fullmatch(r"v?\d+\.\d+\.\d+", t)]
    if tags:
        return max(tags, key=lambda t: tuple(map(int, t.lstrip("v").split("."))))
    try:
        _git(root, "rev-parse", "--verify", "--quiet", "origin/main")
        return "origin/main"
    except subprocess.CalledProcessError:
        return "HEAD"


def main(argv: list[str]) -> int:
    """`build.py diff`: print the diff; exit 1 when an ID rule is broken (or, with --check-release,
    when VERSION is below the bump the changes require or CHANGELOG.md has no entry for it)."""
    import argparse
    import os
    import sys

    from .cli import build
    from .errors import BuildError
    from .schema import PROJECT, SchemaDefinitionError, load_schema

    parser = argparse.ArgumentParser(prog="build.py diff", description=__doc__.split("\n\n")[0])
    parser.add_argument("ref", nargs="?", help="a tag, branch or commit (default: the latest release tag, "
                                              "else origin/main)")
    parser.add_argument("--markdown", action="store_true", help="Markdown, for a pull request summary")
    parser.add_argument("--check-release", action="store_true",
                        help="also refuse a VERSION below the required bump, or a CHANGELOG without its entry")
    parser.add_argument("--root", type=Path, default=PROJECT, help="the repository (default: this one)")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    ref = args.ref or default_ref(root)
    try:
        old, commit = published_at(root, ref)
        schema = load_schema.__wrapped__(root / "schemas")  # as the files are now, not as cached
        frames, outputs = build(root, schema)
        new = package_from({rel: data for rel, data in outputs if rel == "datapackage.json" or rel.endswith(".parquet")})
    except DiffError as exc:
        print(f"build.py diff: {exc}", file=sys.stderr)
        return 1
    except SchemaDefinitionError as exc:
        print(exc, file=sys.stderr)
        return 1
    except BuildError as exc:
        print(exc.report(), file=sys.stderr)
        return 1
    retired, problems = retired_ids(root)
    if problems:
        print("\n".join(map(str, problems.items)), file=sys.stderr)
        return 1
    diff = compare(old, new, retired, ref, commit)
    print(report(diff, args.markdown), end="")
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary and os.environ.get("GITHUB_ACTIONS") == "true":
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(report(diff, markdown=True))
    refusals = list(diff.id_errors)
    if args.check_release:
        version, floor = schema.package["version"], required_version(old.descriptor["version"], diff.bump)
        if not version_at_least(version, floor):
            refusals.append(f"VERSION is {version}, but the changes since {ref} need at least {floor} ({diff.bump})")
        changelog = root / "CHANGELOG.md"
        if f"## [{version}]" not in (changelog.read_text(encoding="utf-8") if changelog.is_file() else ""):
            refusals.append(f"CHANGELOG.md has no entry `## [{version}] - YYYY-MM-DD`: describe the release there")
    for refusal in refusals:
        print(f"build.py diff: refused: {refusal}", file=sys.stderr)
    return 1 if refusals else 0

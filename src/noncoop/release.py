"""Release stage: citation files from the release metadata, and a verifiable release archive.

    python -m noncoop.release build [--root DIR] [--out dist]   # dist/<name>-<version>.zip
    python -m noncoop.release verify PATH                        # the zip, or the folder it unpacks into

The version lives only in VERSION; `schemas/package.yaml` holds the rest of the release
metadata. A release holds exactly the outputs of a fresh validated build, taken from the build
itself (and refused when the published files on disk differ from them), the Stata and Excel
files rendered from that build's tables (only the release holds them), the articles and
annotation files that build read, and the hand-written files of HAND_WRITTEN: never a symbolic
link, never a stray file. The archive is byte-reproducible: sorted entries, fixed timestamps and
permissions, pinned compression. It is flat: every entry sits at the archive's root, as in the
repository (datapackage.json at the root, so `frictionless.Package(<zip>)` reads it), with a
`SHA256SUMS` of every other file (`unzip -d <folder>`, then `sha256sum -c SHA256SUMS` in it).

`verify` trusts nothing it is given (docs/security.md): it checks every file against SHA256SUMS
and every resource against the `hash` and `bytes` of the release's own datapackage.json, refuses
links, duplicate, absolute and `..` entries, streams each file within size limits, and says in
one line why any malformed input cannot be checked.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import re
import stat
import sys
import zipfile
import zlib
from pathlib import Path
from typing import IO, Iterator

from .errors import BuildError, Location, Problems
from .read import safe_path
from .schema import PROJECT, SCHEMA_FILES, Schema, SchemaDefinitionError, load_schema
from .write import build_lock

# The hand-written files every release ships, besides the build's outputs and the articles and
# annotation files the build read. The one list to extend; a file the build generates needs no entry.
HAND_WRITTEN = (
    "LICENSE", "CHANGELOG.md", "VERSION",
    *(f"schemas/{name}" for name in SCHEMA_FILES), "schemas/retired_ids.yaml",
    "docs/annotation-guide.md", "docs/workbench.md", "docs/datasheet.md", "docs/performance.md", "docs/quality.md", "docs/security.md",
    "docs/sources.md",
)
MAX_ENTRY_BYTES = 1 << 30  # verify: at most this much per file,
MAX_TOTAL_BYTES = 4 << 30  # and in all (declared sizes, then bytes counted while reading)
MAX_LISTING_BYTES = 64 << 20  # SHA256SUMS and datapackage.json, the two files held in memory
_EPOCH = (1980, 1, 1, 0, 0, 0)
_CHUNK = 1 << 20
_SUMS_LINE = re.compile(r"([0-9a-f]{64}) [ *]([^\x00-\x1f\x7f]+)")
_HASH = re.compile(r"sha256:([0-9a-f]{64})")


class ReleaseError(Exception):
    """A release refused: the message says why and what to do."""


def _quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def citation_cff(schema: Schema) -> str:
    """CITATION.cff (CFF 1.2.0, type dataset) from the release metadata."""
    meta = schema.package
    lines = [
        "# Generated from VERSION and schemas/package.yaml by build.py; do not edit.",
        "cff-version: 1.2.0",
        f"message: {_quoted('If you use this dataset, please cite the version you used.')}",
        "type: dataset",
        f"title: {_quoted(meta['title'])}",
        f"version: {_quoted(meta['version'])}",
        f"date-released: {meta['created'][:10]}",
        "authors:",
        *[f"  - name: {_quoted(c['title'])}" for c in meta["contributors"]],
        f"license: {meta['licenses'][0]['name']}",
        f"abstract: {_quoted(meta['description'])}",
        "keywords:",
        *[f"  - {_quoted(k)}" for k in meta["keywords"]],
        "identifiers:",
        *([f"  - type: doi\n    value: {_quoted(meta['doi'])}"] if meta.get("doi") else []),
        f"  - type: other\n    value: {_quoted(meta['id'])}\n    description: {_quoted('Data Package id (datapackage.json)')}",
        *([f"doi: {_quoted(meta['doi'])}"] if meta.get("doi") else []),
        *([f"repository-code: {_quoted(meta['repository'])}"] if meta.get("repository") else []),
    ]
    return "\n".join(lines) + "\n"


def zenodo_json(schema: Schema) -> str:
    """.zenodo.json (Zenodo deposit metadata) from the release metadata."""
    meta = schema.package
    record = {
        "title": meta["title"], "version": meta["version"], "upload_type": "dataset",
        "publication_date": meta["created"][:10], "description": meta["description"],
        "creators": [{"name": c["title"]} for c in meta["contributors"]],
        "license": meta["licenses"][0]["name"].lower(), "keywords": meta["keywords"],
        "related_identifiers": [{"identifier": r["url"], "relation": "references"} for r in meta.get("related", [])],
        **({"doi": meta["doi"]} if meta.get("doi") else {}),
    }
    return json.dumps(record, indent=2, ensure_ascii=False) + "\n"


def release_formats(schema: Schema, frames: dict) -> Iterator[tuple[str, bytes]]:
    """The formats only the release holds, as (path, bytes): a Stata file per table and the Excel
    workbook, rendered from the build's frames (the repository does not publish them). Their writers
    are imported here: every check imports this module, and xlsxwriter alone takes 55 ms."""
    from .excel import render_excel
    from .stata import render_stata
    yield from render_stata(schema, frames)
    yield from render_excel(schema, frames)


def contents(root: Path, schema: Schema) -> dict[str, bytes]:
    """Every file of the release by relative path: the outputs of a fresh build of `root` (BuildError
    when its inputs are invalid) and the Stata and Excel files made from its frames, the inputs it
    read and HAND_WRITTEN. ReleaseError when a published file differs from its output, or a file is
    missing, not regular, or behind a symbolic link."""
    from .cli import build  # imported here: cli imports this module for the citation files
    frames, outputs = build(root, schema)
    files = dict(outputs)
    stale = [f"{rel} ({why})" for rel, data in files.items() if (why := _differs(root, rel, data))]
    if stale:
        raise ReleaseError(f"published files differ from what the inputs produce: {', '.join(stale)}; "
                           "run make data and commit")
    files.update(release_formats(schema, frames))
    sources = frames["sources"]
    read = [*(f"annotations/{kind}.yaml" for kind in ("actors", "places")), *sources["path"].tolist(),
            *(f"annotations/{source_id}.yaml" for source_id in sources["source_id"].tolist())]
    for rel in sorted({*HAND_WRITTEN, *read}):
        data = _disk(root, rel)
        if data is None:
            raise ReleaseError(f"{rel} is missing; every release ships it (see HAND_WRITTEN in noncoop/release.py)")
        files[rel] = data
    return files


def _differs(root: Path, rel: str, data: bytes) -> str:
    """What is wrong with the published `root/rel` given the build's `data` ('' when it is current)."""
    published = _disk(root, rel)
    return "missing" if published is None else "" if published == data else "differs"


def _disk(root: Path, rel: str) -> bytes | None:
    """The bytes of the regular file `root/rel`, None when it does not exist."""
    if safe_path(root, rel, Problems(), Location(rel), "(file)") is None:
        raise ReleaseError(f"{rel} is or lies behind a symbolic link; a release ships files, never what a link "
                           "points at: replace the link by the file itself")
    path = root / rel
    if not path.exists():
        return None
    if not path.is_file():
        raise ReleaseError(f"{rel} is not a regular file")
    return path.read_bytes()


def archive(root: Path, schema: Schema) -> tuple[str, bytes]:
    """The release archive's file name and bytes (see `contents` for what it holds and refuses)."""
    entries = contents(root, schema)
    entries["SHA256SUMS"] = "".join(f"{hashlib.sha256(data).hexdigest()}  {rel}\n"
                                    for rel, data in sorted(entries.items())).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            zf.writestr(info, entries[name], compresslevel=9)
    return f"{schema.package['name']}-{schema.package['version']}.zip", buffer.getvalue()


class _Refused(Exception):
    """An input that cannot be checked at all; the message is the one line that says why."""


class _Release:
    """A release's regular files (`files`: paths relative to its root), listed once their
    names, types and declared sizes passed; their content is read only through `read`."""

    def __init__(self, sizes: dict[str, int]):
        for rel, size in sizes.items():
            if size > MAX_ENTRY_BYTES:
                raise _Refused(f"{rel}: {size} bytes, more than the {MAX_ENTRY_BYTES} allowed per file")
        total = sum(sizes.values())
        if total > MAX_TOTAL_BYTES:
            raise _Refused(f"{total} bytes in total, more than the {MAX_TOTAL_BYTES} allowed")
        self.files = sorted(sizes)
        self._budget = MAX_TOTAL_BYTES

    def _open(self, rel: str) -> IO[bytes]:
        raise NotImplementedError

    def read(self, rel: str, keep: bool = False) -> tuple[int, str, bytes]:
        """A file's size, sha256 and (when `keep`) bytes, streamed: reading stops at the limits
        whatever size the file declared."""
        limit = min(MAX_LISTING_BYTES if keep else MAX_ENTRY_BYTES, self._budget)
        digest, size, kept = hashlib.sha256(), 0, []
        with self._open(rel) as handle:
            while chunk := handle.read(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise _Refused(f"{rel}: larger than allowed (stopped reading after {size} bytes)")
                digest.update(chunk)
                if keep:
                    kept.append(chunk)
        self._budget -= size
        return size, digest.hexdigest(), b"".join(kept)


class _Zip(_Release):
    def __init__(self, zf: zipfile.ZipFile):
        infos = zf.infolist()
        if not infos:
            raise _Refused("the archive is empty")
        self._zf, self._infos = zf, {}
        for info in infos:
            name, mode = info.filename, info.external_attr >> 16
            why = _unsafe(name)
            if why:
                raise _Refused(f"{name!r}: {why}")
            if stat.S_ISLNK(mode):
                raise _Refused(f"{name}: a symbolic link")
            if info.is_dir():
                if info.file_size:
                    raise _Refused(f"{name}: a folder entry with content")
                continue
            if stat.S_IFMT(mode) not in (0, stat.S_IFREG):
                raise _Refused(f"{name}: not a regular file")
            if info.flag_bits & 0x1:
                raise _Refused(f"{name}: encrypted")
            if name in self._infos:
                raise _Refused(f"{name}: a duplicate entry")
            self._infos[name] = info
        for rel in self._infos:
            parts = rel.split("/")
            folders = ("/".join(parts[:i]) for i in range(1, len(parts)))
            if clash := next((folder for folder in folders if folder in self._infos), None):
                raise _Refused(f"{clash}: both a file and a folder")
        super().__init__({rel: info.file_size for rel, info in self._infos.items()})

    def _open(self, rel: str) -> IO[bytes]:
        return self._zf.open(self._infos[rel])


class _Folder(_Release):
    def __init__(self, folder: Path):
        self._paths, sizes = {}, {}
        for base, folders, names in os.walk(folder, onerror=_raise):
            for name in folders + names:
                path = Path(base, name)
                rel, status = path.relative_to(folder).as_posix(), path.lstat()
                if stat.S_ISLNK(status.st_mode):
                    raise _Refused(f"{rel}: a symbolic link")
                if stat.S_ISDIR(status.st_mode):
                    continue
                if not stat.S_ISREG(status.st_mode):
                    raise _Refused(f"{rel}: not a regular file")
                self._paths[rel], sizes[rel] = path, status.st_size
        super().__init__(sizes)

    def _open(self, rel: str) -> IO[bytes]:
        return open(self._paths[rel], "rb", opener=lambda path, flags: os.open(path, flags | os.O_NOFOLLOW))


def _raise(error: OSError) -> None:
    raise error


def _unsafe(name: str) -> str:
    """Why `name` cannot be a path inside the release ('' when it can)."""
    if name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name):
        return "an absolute path"
    if "\\" in name or any(ord(c) < 32 or ord(c) == 127 for c in name):
        return "a backslash or control character in a path"
    parts = name.removesuffix("/").split("/")
    if ".." in parts:
        return "a path with '..'"
    if "" in parts or "." in parts:
        return "an empty or '.' path component"
    return ""


def verify(path: Path) -> list[str]:
    """Problems of a release (its zip, or the folder it was unpacked into); empty when it verifies."""
    try:
        if path.is_dir():
            return _check(_Folder(path))
        if not path.is_file():
            return [f"{path}: not a file or folder"]
        with zipfile.ZipFile(path) as zf:
            return _check(_Zip(zf))
    except _Refused as exc:
        return [str(exc)]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, ValueError, RuntimeError,
            NotImplementedError) as exc:
        return [f"{path}: unreadable: {' '.join(str(exc).split()) or type(exc).__name__}"]


def _check(release: _Release) -> list[str]:
    if "SHA256SUMS" not in release.files:
        raise _Refused("no SHA256SUMS at the release's root")
    listed = _sums(release.read("SHA256SUMS", keep=True)[2])
    if "datapackage.json" not in release.files:
        raise _Refused("no datapackage.json at the release's root")
    size, digest, data = release.read("datapackage.json", keep=True)
    described = _resources(data)
    found = {"datapackage.json": (size, digest)}
    for rel in release.files:
        if rel not in found and rel != "SHA256SUMS":
            found[rel] = release.read(rel)[:2]
    problems = []
    for rel, digest in listed.items():
        if rel not in found:
            problems.append(f"{rel}: listed in SHA256SUMS but missing")
        elif found[rel][1] != digest:
            problems.append(f"{rel}: sha256 differs from SHA256SUMS")
    problems += [f"{rel}: not listed in SHA256SUMS" for rel in found if rel not in listed]
    for rel, size, digest in described:
        if rel not in found:
            problems.append(f"{rel}: a resource of datapackage.json, missing")
        elif found[rel][1] != digest or size not in (None, found[rel][0]):
            problems.append(f"{rel}: differs from the hash and bytes datapackage.json gives")
    return problems


def _sums(data: bytes) -> dict[str, str]:
    """SHA256SUMS as {path: sha256}; every line well-formed, at least one."""
    try:
        lines = data.decode("utf-8").split("\n")
    except UnicodeDecodeError:
        raise _Refused("SHA256SUMS is not UTF-8 text") from None
    if lines[-1] == "":
        lines.pop()
    if not lines:
        raise _Refused("SHA256SUMS lists no files")
    listed = {}
    for number, line in enumerate(lines, 1):
        match = _SUMS_LINE.fullmatch(line)
        if not match:
            raise _Refused(f"SHA256SUMS line {number}: {line[:80]!r} is not '<sha256>  <file>'")
        digest, rel = match.groups()
        why = _unsafe(rel) or ("listed twice" if rel in listed else "") or ("lists itself" if rel == "SHA256SUMS" else "")
        if why:
            raise _Refused(f"SHA256SUMS line {number}: {rel!r}: {why}")
        listed[rel] = digest
    return listed


def _resources(data: bytes) -> list[tuple[str, int | None, str]]:
    """The (path, bytes or None, sha256) of every resource of datapackage.json."""
    try:
        package = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise _Refused(f"datapackage.json is not valid JSON: {' '.join(str(exc).split())}") from None
    resources = package.get("resources") if isinstance(package, dict) else None
    if not isinstance(resources, list) or not resources:
        raise _Refused("datapackage.json lists no resources")
    described = []
    for number, resource in enumerate(resources, 1):
        resource = resource if isinstance(resource, dict) else {}
        twin = resource.get("parquet")  # the resource's Parquet twin (see package.py), checked alike
        for file in [resource] + ([twin if isinstance(twin, dict) else {}] if "parquet" in resource else []):
            described.append(_described(file, number))
    return described


def _described(resource: dict, number: int) -> tuple[str, int | None, str]:
    """The (path, bytes or None, sha256) a resource (or its Parquet twin) gives for its file."""
    path, digest, size = resource.get("path"), resource.get("hash"), resource.get("bytes")
    where = f"datapackage.json resource {number} ({str(path)[:80]!r})"
    if not isinstance(path, str) or _unsafe(path):
        raise _Refused(f"{where}: not a path inside the release ({_unsafe(str(path)) or 'not a text'})")
    match = _HASH.fullmatch(digest) if isinstance(digest, str) else None
    if not match:
        raise _Refused(f"{where}: no sha256 hash")
    if size is not None and (type(size) is not int or size < 0):
        raise _Refused(f"{where}: bytes is not a size")
    return path, size, match[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m noncoop.release", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="write the release archive")
    build.add_argument("--root", type=Path, default=PROJECT, help="the repository to release (default: this one)")
    build.add_argument("--out", type=Path, default=PROJECT / "dist")
    check = sub.add_parser("verify", help="check a release zip or unpacked folder: SHA256SUMS and datapackage.json")
    check.add_argument("path", type=Path)
    args = parser.parse_args(argv)
    if args.command == "verify":
        problems = verify(args.path)
        for problem in problems:
            print(problem, file=sys.stderr)
        if not problems:
            print(f"verified: {args.path}")
        return 1 if problems else 0
    root = args.root.resolve()
    try:
        with build_lock(root, shared=True, say=lambda text: print(f"release: {text}", file=sys.stderr)):
            name, data = archive(root, load_schema(root / "schemas"))  # no build publishes meanwhile
    except BuildError as exc:
        print(exc.report(), file=sys.stderr)
        return 1
    except (ReleaseError, SchemaDefinitionError) as exc:
        print(f"release refused: {exc}", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / name).write_bytes(data)
    print(f"{args.out / name}  sha256:{hashlib.sha256(data).hexdigest()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Release stage: citation files from the release metadata, and a verifiable release archive.

    python -m noncoop.release build [--root DIR] [--out dist]   # dist/<name>-<version>.zip
    python -m noncoop.release verify PATH                        # the zip, or its unpacked top folder

The version lives only in VERSION; `schemas/package.yaml` holds the rest of the release
metadata. A release holds exactly the outputs of a fresh validated build, taken from the build
itself (and refused when the published files on disk differ from them), the articles and
annotation files that build read, and the hand-written files of HAND_WRITTEN: never a symbolic
link, never a stray file. The archive is byte-reproducible: sorted entries, fixed timestamps and
permissions, pinned compression. Its top folder `<name>-<version>/` holds a `SHA256SUMS` of every
other file (`sha256sum -c SHA256SUMS` works too).
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
import zipfile
from pathlib import Path

from .errors import BuildError, Location, Problems
from .read import safe_path
from .schema import PROJECT, SCHEMA_FILES, Schema, SchemaDefinitionError, load_schema

# The hand-written files every release ships, besides the build's outputs and the articles and
# annotation files the build read. The one list to extend; a file the build generates needs no entry.
HAND_WRITTEN = (
    "LICENSE", "CHANGELOG.md", "VERSION",
    *(f"schemas/{name}" for name in SCHEMA_FILES),
    "docs/annotation-guide.md", "docs/datasheet.md", "docs/performance.md", "docs/quality.md", "docs/security.md",
)
_EPOCH = (1980, 1, 1, 0, 0, 0)


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
    }
    return json.dumps(record, indent=2, ensure_ascii=False) + "\n"


def contents(root: Path, schema: Schema) -> dict[str, bytes]:
    """Every file of the release by relative path: the outputs of a fresh build of `root` (BuildError
    when its inputs are invalid), the inputs it read and HAND_WRITTEN. ReleaseError when a published
    file differs from its output, or a file is missing, not regular, or behind a symbolic link."""
    from .cli import build  # imported here: cli imports this module for the citation files
    frames, outputs = build(root, schema)
    files = dict(outputs)
    stale = [f"{rel} ({why})" for rel, data in files.items() if (why := _differs(root, rel, data))]
    if stale:
        raise ReleaseError(f"published files differ from what the inputs produce: {', '.join(stale)}; "
                           "run make data and commit")
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
    prefix = f"{schema.package['name']}-{schema.package['version']}"
    entries = contents(root, schema)
    entries["SHA256SUMS"] = "".join(f"{hashlib.sha256(data).hexdigest()}  {rel}\n"
                                    for rel, data in sorted(entries.items())).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name in sorted(entries):
            info = zipfile.ZipInfo(f"{prefix}/{name}", date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            zf.writestr(info, entries[name], compresslevel=9)
    return f"{prefix}.zip", buffer.getvalue()


def verify(path: Path) -> list[str]:
    """Problems of a release (folder or zip) against its SHA256SUMS; empty when it verifies."""
    if path.is_file():
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            prefix = names[0].split("/", 1)[0] + "/"
            read = {n[len(prefix):]: zf.read(n) for n in names}
    else:
        read = {str(p.relative_to(path)): p.read_bytes() for p in path.rglob("*") if p.is_file()}
    if "SHA256SUMS" not in read:
        return ["SHA256SUMS is missing"]
    problems, listed = [], set()
    for line in read["SHA256SUMS"].decode().splitlines():
        digest, name = line.split("  ", 1)
        listed.add(name)
        if name not in read:
            problems.append(f"{name}: missing")
        elif hashlib.sha256(read[name]).hexdigest() != digest:
            problems.append(f"{name}: sha256 differs from SHA256SUMS")
    problems += [f"{name}: not listed in SHA256SUMS" for name in sorted(set(read) - listed - {"SHA256SUMS"})]
    return problems


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
        print("verified" if not problems else f"{len(problems)} problem(s)")
        return 1 if problems else 0
    root = args.root.resolve()
    try:
        name, data = archive(root, load_schema(root / "schemas"))
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

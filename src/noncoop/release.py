"""Release stage: citation files from the release metadata, and a verifiable release archive.

    python -m noncoop.release build [--out dist]     # dist/<name>-<version>.zip
    python -m noncoop.release verify PATH            # an unpacked release folder, or the zip

The version lives only in VERSION; `schemas/package.yaml` holds the rest of the release
metadata. The archive is byte-reproducible: sorted entries, fixed timestamps and permissions,
pinned compression. Its `SHA256SUMS` lists every other file (`sha256sum -c SHA256SUMS` works too).
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
import zipfile
from pathlib import Path

from .schema import PROJECT, Schema, load_schema

CONTENTS = ["README.md", "LICENSE", "CHANGELOG.md", "CITATION.cff", ".zenodo.json", "VERSION", "datapackage.json",
            "data/*", "docs/*.md", "docs/viewer/*.html", "articles/*.txt", "annotations/*.yaml", "schemas/*.yaml", "schemas/*.csv",
            "schemas/json/*.json"]
_EPOCH = (1980, 1, 1, 0, 0, 0)


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


def files(root: Path) -> list[str]:
    """The release's files, relative to `root`, sorted."""
    found = set()
    for pattern in CONTENTS:
        found.update(str(p.relative_to(root)) for p in root.glob(pattern) if p.is_file())
    return sorted(found)


def sha256sums(root: Path, names: list[str]) -> bytes:
    return "".join(f"{hashlib.sha256((root / n).read_bytes()).hexdigest()}  {n}\n" for n in names).encode()


def archive(root: Path, schema: Schema) -> tuple[str, bytes]:
    """The release archive's file name and bytes."""
    prefix = f"{schema.package['name']}-{schema.package['version']}"
    names = files(root)
    entries = {n: (root / n).read_bytes() for n in names}
    entries["SHA256SUMS"] = sha256sums(root, names)
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
    build.add_argument("--out", type=Path, default=PROJECT / "dist")
    check = sub.add_parser("verify", help="check a release folder or zip against its SHA256SUMS")
    check.add_argument("path", type=Path)
    args = parser.parse_args(argv)
    if args.command == "build":
        name, data = archive(PROJECT, load_schema())
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / name).write_bytes(data)
        print(f"{args.out / name}  sha256:{hashlib.sha256(data).hexdigest()}")
        return 0
    problems = verify(args.path)
    for problem in problems:
        print(problem, file=sys.stderr)
    print("verified" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())

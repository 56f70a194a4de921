"""`python build.py [--check] [--root DIR]`: validate the annotations and publish the package."""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from .annotation_schema import KINDS, annotation_json_schema
from .codebook import codebook, readme_with_tables
from .errors import BuildError
from .package import descriptor_bytes
from .release import citation_cff, zenodo_json
from .resolve import resolve
from .schema import PROJECT, Schema, load_schema
from .tables import build_frames
from .validate import validate_package, validate_tables
from .viewer import render_viewer
from .write import publish, recover, render_tables



def render(schema: Schema, frames, root: Path, texts: dict[str, str]) -> dict[str, bytes]:
    """Every published file, as bytes: tables, descriptor, codebook, citation files, annotation
    JSON Schemas, review viewer pages, and README.md's generated table overview."""
    outputs = render_tables(schema, frames)
    outputs.update(render_viewer(schema, frames, texts))
    readme = root / "README.md"
    if readme.is_file():
        text = readme_with_tables(readme.read_text(encoding="utf-8"), schema, {n: len(df) for n, df in frames.items()})
        outputs["README.md"] = text.encode("utf-8")
    outputs["datapackage.json"] = descriptor_bytes(schema, outputs)
    outputs["docs/codebook.md"] = codebook(schema).encode("utf-8")
    outputs["CITATION.cff"] = citation_cff(schema).encode("utf-8")
    outputs[".zenodo.json"] = zenodo_json(schema).encode("utf-8")
    for kind in KINDS:
        text = json.dumps(annotation_json_schema(schema, kind), indent=2, ensure_ascii=False) + "\n"
        outputs[f"schemas/json/{kind}.schema.json"] = text.encode("utf-8")
    return outputs


def build(root: Path, schema: Schema | None = None, timings: dict | None = None,
          publish_outputs: bool = True) -> tuple[dict, dict[str, bytes]]:
    """Validate everything under `root`; return the frames and the rendered outputs (none when
    `publish_outputs` is false: a check), or raise BuildError."""
    schema = schema or load_schema()
    timings = timings if timings is not None else {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = round(now - clock, 4)
        clock = now

    resolved, problems = resolve(root, schema)
    lap("resolve")
    frames = build_frames(schema, resolved)
    lap("tables")
    problems.extend(validate_tables(schema, frames, resolved.origins))
    texts = {k: a.text for k, a in resolved.articles.items()}
    hashes = {k: a.sha256 for k, a in resolved.articles.items()}
    problems.extend(validate_package(schema, frames, texts, hashes, resolved.origins, resolved.was_skipped))
    lap("validate")
    problems.check()
    if not publish_outputs:
        return frames, {}
    outputs = render(schema, frames, root, texts)
    lap("render")
    return frames, outputs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="build.py", description=__doc__)
    parser.add_argument("--check", action="store_true", help="validate everything and write nothing")
    parser.add_argument("--root", type=Path, default=PROJECT,
                        help="folder holding articles/, annotations/ and the outputs (default: the project)")
    parser.add_argument("--timings", action="store_true", help="print the seconds of each stage as JSON on stderr")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    if not (root / "annotations").is_dir():
        parser.error(f"{root} has no annotations/ folder")
    if not args.check:
        note = recover(root)
        if note:
            print(f"build.py: {note}", file=sys.stderr)
    timings: dict[str, float] = {}
    try:
        frames, outputs = build(root, timings=timings, publish_outputs=not args.check)
    except BuildError as exc:
        print(exc.report(), file=sys.stderr)
        return 1
    counts = ", ".join(f"{name} {len(df)}" for name, df in frames.items())
    if args.check:
        if args.timings:
            print("timings: " + json.dumps(timings), file=sys.stderr)
        print(f"check passed: {counts}")
        return 0
    clock = time.perf_counter()
    written = publish(root, outputs, _pause_hook())
    timings["publish"] = round(time.perf_counter() - clock, 4)
    if args.timings:
        print("timings: " + json.dumps(timings), file=sys.stderr)
    print(f"built {len(written)} changed file(s): {counts}")
    return 0


def _pause_hook():
    """Test hook: NONCOOP_PAUSE_AT=<point> makes the publish wait there (to be killed)."""
    point = os.environ.get("NONCOOP_PAUSE_AT")
    if not point:
        return lambda at: None

    def pause(at: str) -> None:
        if at == point:
            print(f"paused at {at}", flush=True)
            time.sleep(60)
    return pause

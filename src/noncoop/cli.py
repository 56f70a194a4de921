"""`python build.py [--check] [--root DIR]`: validate the annotations and publish the package."""
from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

import pyarrow as pa

from .annotation_schema import KINDS, annotation_json_schema
from .codebook import codebook, readme_with_tables
from .errors import BuildError
from .package import descriptor_bytes, digest
from .release import citation_cff, zenodo_json
from .resolve import resolve
from .schema import PROJECT, Schema, load_schema
from .tables import build_frames
from .validate import validate_package, validate_tables
from .viewer import render_viewer
from .write import publish, recover, render_tables


def render(schema: Schema, frames, root: Path, texts: dict[str, str]) -> Iterator[tuple[str, bytes]]:
    """Every published file as (path, bytes), one at a time: tables, descriptor, review viewer
    pages, README.md's generated table overview, codebook, citation files, annotation JSON Schemas."""
    digests = {}
    for rel, data in render_tables(schema, frames):
        digests[rel] = digest(data)
        yield rel, data
    yield "datapackage.json", descriptor_bytes(schema, digests)
    yield from render_viewer(schema, frames, texts)
    readme = root / "README.md"
    if readme.is_file():
        text = readme_with_tables(readme.read_text(encoding="utf-8"), schema, {n: len(df) for n, df in frames.items()})
        yield "README.md", text.encode("utf-8")
    yield "docs/codebook.md", codebook(schema).encode("utf-8")
    yield "CITATION.cff", citation_cff(schema).encode("utf-8")
    yield ".zenodo.json", zenodo_json(schema).encode("utf-8")
    for kind in KINDS:
        text = json.dumps(annotation_json_schema(schema, kind), indent=2, ensure_ascii=False) + "\n"
        yield f"schemas/json/{kind}.schema.json", text.encode("utf-8")


_PAUSED = [0]  # how many _without_cycle_collection blocks are open


@contextmanager
def _without_cycle_collection():
    """Pause Python's cycle collector while the build allocates its many small, acyclic objects.

    Each full collection walks every live object, so with it running the build spends most of its
    time re-walking rows it keeps anyway (resolve ran 3.5 times slower at 1,000 articles). The
    objects each stage leaves are frozen, so later collections (and any gc.collect() a library makes
    on import) skip them. The outermost block unfreezes them when the build is over: a caller's
    objects are collectable again, and none outlives the interpreter uncollected (DuckDB's bindings
    print 'nanobind: leaked ...' at exit for every frozen object of theirs).
    """
    enabled = gc.isenabled()
    gc.disable()
    _PAUSED[0] += 1
    try:
        yield
    finally:
        _PAUSED[0] -= 1
        gc.freeze() if _PAUSED[0] else gc.unfreeze()
        if enabled:
            gc.enable()


class Stages:
    """Seconds and peak memory (MB) at the end of each build stage."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.peak_mb: dict[str, float] = {}
        self._clock = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.seconds[stage] = now - self._clock
        self.peak_mb[stage] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        self._clock = now
        if _PAUSED[0]:
            gc.freeze()  # what a stage leaves is kept: no collection need walk it again

    def timed(self, stage: str, items: Iterable) -> Iterator:
        """`items`, adding the time spent producing them to `stage`."""
        self.seconds.setdefault(stage, 0.0)
        iterator, end = iter(items), object()
        while True:
            clock = time.perf_counter()
            item = next(iterator, end)
            self.seconds[stage] += time.perf_counter() - clock
            if item is end:
                return
            yield item

    def report(self) -> str:
        seconds = {stage: round(s, 4) for stage, s in self.seconds.items()}
        return f"timings: {json.dumps(seconds)}\npeak_rss_mb: {json.dumps(self.peak_mb)}"


def build(root: Path, schema: Schema | None = None, stages: Stages | None = None,
          publish_outputs: bool = True) -> tuple[dict, Iterator[tuple[str, bytes]]]:
    """Validate everything under `root`; return the frames and the outputs, rendered as they are
    consumed (none when `publish_outputs` is false: a check), or raise BuildError."""
    schema = schema or load_schema()
    stages = stages or Stages()
    with _without_cycle_collection():
        resolved, problems = resolve(root, schema)
        stages.lap("resolve")
        frames = build_frames(schema, resolved)
        stages.lap("tables")
        problems.extend(validate_tables(schema, frames, resolved.origins))
        texts = {k: a.text for k, a in resolved.articles.items()}
        hashes = {k: a.sha256 for k, a in resolved.articles.items()}
        problems.extend(validate_package(schema, frames, texts, hashes, resolved.origins, resolved.was_skipped,
                                            resolved.loose_refs))
        stages.lap("validate")
        problems.check()
    if not publish_outputs:
        return frames, iter(())
    return frames, stages.timed("render", render(schema, frames, root, texts))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="build.py", description=__doc__)
    parser.add_argument("--check", action="store_true", help="validate everything and write nothing")
    parser.add_argument("--root", type=Path, default=PROJECT,
                        help="folder holding articles/, annotations/ and the outputs (default: the project)")
    parser.add_argument("--timings", action="store_true",
                        help="print the seconds and peak memory of each stage as JSON on stderr")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    if not (root / "annotations").is_dir():
        parser.error(f"{root} has no annotations/ folder")
    if not args.check:
        note = recover(root)
        if note:
            print(f"build.py: {note}", file=sys.stderr)
    # Arrow's default allocator (mimalloc) keeps what pandas frees for reuse: several times the
    # frames' size at 1,000 articles. The system allocator hands it back.
    pa.set_memory_pool(pa.system_memory_pool())
    stages = Stages()
    with _without_cycle_collection():
        try:
            frames, outputs = build(root, stages=stages, publish_outputs=not args.check)
        except BuildError as exc:
            print(exc.report(), file=sys.stderr)
            return 1
        written = None if args.check else publish(root, outputs, _pause_hook())
    if written is not None:
        stages.lap("publish")  # rendering and writing, less the rendering
        stages.seconds["publish"] -= stages.seconds["render"]
    if args.timings:
        print(stages.report(), file=sys.stderr)
    counts = ", ".join(f"{name} {len(df)}" for name, df in frames.items())
    print(f"check passed: {counts}" if written is None else f"built {len(written)} changed file(s): {counts}")
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

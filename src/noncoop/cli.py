"""`python build.py [--check] [--root DIR]`: validate the annotations and publish the package;
`python build.py diff [REF]`: compare the built tables with a git ref (see diff.py)."""
from __future__ import annotations

import argparse
import ctypes
import errno
import gc
import json
import os
import re
import resource
import sys
import time
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import pyarrow as pa

from .annotation_schema import KINDS, annotation_json_schema
from .cache import (Cache, code_digest, combined, file_sha256, forget_hashes, hashes_read, learn_hashes, new_hashes,
                    sha256, tree_digest)
from .codebook import codebook, readme_with_tables
from .croissant import CROISSANT, croissant_bytes
from .errors import BuildError, github_annotations
from .package import descriptor_bytes, digest
from . import delta, resident
from .record import Fingerprint, Verdict, fingerprint, known_differences, row_hashes, save
from .release import citation_cff, zenodo_json
from .resolve import resolve
from .scaffold import new_article, notes_by_article
from .schema import PROJECT, Schema, load_schema
from .show import reference_notes, show
from .tables import build_frames
from .validate import validate_package, validate_tables
from .viewer import Pages, page_path, render_viewer
from .write import (COMMIT, STAGING, LockTimeout, Refused, build_lock, publish, recover, render_tables,
                    published_as, table_paths)

DESCRIPTOR, README, CODEBOOK = "datapackage.json", "README.md", "docs/codebook.md"
NOTE_TABLES = ("sources", "event_links", "quotes")  # the published tables the check's notes read
KEPT_STATES = 20  # verdicts and output records kept in the cache (the most recent ones)
CITATION, ZENODO = "CITATION.cff", ".zenodo.json"


def json_schema_path(kind: str) -> str:
    return f"schemas/json/{kind}.schema.json"


def render(schema: Schema, frames, root: Path, texts: dict[str, str],
           judge: Callable[[str, bytes], Any] | None = None, pages: Pages | None = None) -> Iterator[tuple[str, Any]]:
    """Every published file as (path, bytes), one at a time: tables, descriptor, Croissant, review viewer pages,
    README.md's generated table overview, codebook, citation files, annotation JSON Schemas. (The Stata and
    Excel files are made by the release, release.py, from the same frames: the repository does not hold them.)
    With `judge`, the articles' viewer pages come as (path, judge(path, bytes)) (`render_viewer`); `pages`: those
    pages, when they were started already."""
    digests = {}
    _give_back()
    if pages is None and judge is not None:  # (judgements are small: the workers run ahead while the tables are made)
        with _collecting():  # each page leaves reference cycles (Jinja2's contexts) that only the collector frees
            pages = render_viewer(schema, frames, texts, judge)
    try:
        for rel, data in render_tables(schema, frames):
            digests[rel] = digest(data)
            yield rel, data
        yield DESCRIPTOR, descriptor_bytes(schema, digests)
        yield CROISSANT, croissant_bytes(schema, digests)
        _give_back()
        with _collecting():  # (a build's pages start here: held while the tables were made, 130 MiB more at N = 10,000)
            pages = pages or render_viewer(schema, frames, texts)
            yield from pages
    finally:
        if pages is not None:
            pages.close()
    yield from _readme(root, schema, {n: len(df) for n, df in frames.items()})
    yield CODEBOOK, codebook(schema).encode("utf-8")
    yield CITATION, citation_cff(schema).encode("utf-8")
    yield ZENODO, zenodo_json(schema).encode("utf-8")
    registry = {t: list(zip(frames[t][f"{t[:-1]}_id"], frames[t]["name"])) for t in ("actors", "places")}
    for kind in KINDS:
        text = json.dumps(annotation_json_schema(schema, kind, registry), indent=2, ensure_ascii=False) + "\n"
        yield json_schema_path(kind), text.encode("utf-8")


@dataclass(frozen=True)
class OutputSet:
    """The paths `render` can yield for a schema: the only files a build publishes or recovers."""

    fixed: frozenset[str]
    source_id: re.Pattern

    def __contains__(self, rel: object) -> bool:
        if not isinstance(rel, str):
            return False
        head, tail = page_path("\0").split("\0")  # the viewer folder, the page suffix
        name = rel[len(head):-len(tail)]
        return rel in self.fixed or (page_path(name) == rel and self.source_id.fullmatch(name) is not None)


def output_set(schema: Schema) -> OutputSet:
    fixed = {DESCRIPTOR, CROISSANT, README, CODEBOOK, CITATION, ZENODO, page_path("index")}
    fixed |= {path for name in schema.tables for path in table_paths(name)}
    fixed |= {json_schema_path(k) for k in KINDS}
    return OutputSet(frozenset(fixed), re.compile(schema.fields["source_id"].pattern))


def _libc_trim():
    try:
        return getattr(ctypes.CDLL(None), "malloc_trim", None)  # the C library this interpreter runs on
    except (OSError, TypeError):  # no such loading (Windows)
        return None


_TRIM = _libc_trim()  # glibc's; None elsewhere


def _give_back() -> None:
    """Hand the memory freed so far back to the system: glibc keeps freed pages for reuse, which
    the next stage's large buffers do not fit (120 MB at 10,000 articles after validating)."""
    if _TRIM is not None:
        _TRIM(0)


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


@contextmanager
def _collecting():
    """Let the cycle collector run inside a `_without_cycle_collection` block: what is alive now is
    frozen first, so collections walk only the objects made since."""
    enabled = gc.isenabled()
    gc.freeze()
    gc.enable()
    try:
        yield
    finally:
        if not enabled:
            gc.disable()


class Stages:
    """Seconds and peak memory (MB) at the end of each build stage, and the files read to hash them."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.peak_mb: dict[str, float] = {}
        self._clock = time.perf_counter()
        self._read = hashes_read()

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
        reads, size = (now - then for now, then in zip(hashes_read(), self._read))
        return (f"timings: {json.dumps(seconds)}\npeak_rss_mb: {json.dumps(self.peak_mb)}\n"
                f"hashed: {json.dumps({'reads': reads, 'bytes': size})}")


def build(root: Path, schema: Schema | None = None, stages: Stages | None = None,
          cache: Cache | None = None) -> tuple[dict, Iterator[tuple[str, bytes]]]:
    """Validate everything under `root` (taking from `cache` what it holds for the same inputs);
    return the frames and the outputs, rendered as they are consumed, or raise BuildError."""
    schema = schema or load_schema()
    stages = stages or Stages()
    frames, texts, _ = _validated(root, schema, stages, cache)
    return frames, stages.timed("render", render(schema, frames, root, texts))


def _validated(root: Path, schema: Schema, stages: Stages, cache: Cache | None,
               framed: Callable[[dict, dict[str, str]], None] | None = None) -> tuple[dict, dict[str, str], list]:
    """The validated frames, the article texts and `Resolved.extents`, or BuildError; `framed` is
    called with the frames and texts once they are made, before they are validated."""
    with _without_cycle_collection():
        resolved, problems = resolve(root, schema, cache)
        stages.lap("resolve")
        frames = build_frames(schema, resolved)
        _give_back()
        stages.lap("tables")
        texts = {k: a.text for k, a in resolved.articles.items()}
        if framed:
            framed(frames, texts)
        problems.extend(validate_tables(schema, frames, resolved.origins))
        hashes = {k: a.sha256 for k, a in resolved.articles.items()}
        problems.extend(validate_package(schema, frames, texts, hashes, resolved.origins, resolved.was_skipped,
                                            resolved.loose_refs))
        stages.lap("validate")
        problems.check()
    return frames, texts, resolved.extents


def _inputs_key(root: Path, schema: Schema) -> tuple[str, str]:
    """Everything a check reads: (the annotation and article files, the schemas and the code; that
    and the published files its notes compare with)."""
    sources = combined(code_digest(), schema.digest, tree_digest(root, "annotations"), tree_digest(root, "articles"))
    published = [_file_digest(root / rel) for rel in (DESCRIPTOR, *(f"data/{t}.csv" for t in NOTE_TABLES))]
    return sources, combined(sources, *published)


def _file_digest(path: Path) -> str:
    return file_sha256(path) if path.is_file() and not path.is_symlink() else str(os.path.lexists(path))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    at = _subcommand_at(argv)
    if at is not None:
        forget_hashes()  # (only a check takes the hashes of files an earlier run read: resident.py)
        return _subcommand(argv[at], argv[:at] + argv[at + 1:])
    parser = argparse.ArgumentParser(prog="build.py", description=__doc__,
                                     epilog="subcommands: `build.py new TEXT [--published DATE]` scaffolds an article; "
                                            "`build.py show ID` shows any row in context; `build.py diff [REF]` compares the built "
                                            "tables with a git ref; `build.py serve` keeps the libraries imported for "
                                            "later runs")
    parser.add_argument("--check", action="store_true",
                        help="validate everything and compare the published outputs with what the inputs produce; "
                             "write nothing")
    parser.add_argument("--root", type=Path, default=PROJECT,
                        help="folder holding articles/, annotations/ and the outputs (default: the project)")
    parser.add_argument("--timings", action="store_true",
                        help="print the seconds and peak memory of each stage, and the files read to hash them, as "
                             "JSON on stderr")
    parser.add_argument("--strict", action="store_true",
                        help="with --check: fail on completeness notes too (a quotation no quote covers, a registry "
                             "alias in an article none of whose rows refers to it)")
    parser.add_argument("--no-cache", action="store_true",
                        help="neither read nor write the cache in .cache/noncoop (also: NONCOOP_CACHE=off)")
    parser.add_argument("--wait", type=float, metavar="SECONDS",
                        help="wait at most this long for another build of the same root (default: as long as it takes)")
    args = parser.parse_args(argv)
    if not args.check:
        forget_hashes()  # a build publishes what it hashed itself
    root = args.root.resolve()
    if not (root / "annotations").is_dir():
        parser.error(f"{root} has no annotations/ folder")
    try:
        return _run(root, args)
    except KeyboardInterrupt:
        return _stop(root, args.check, "interrupted (Ctrl-C)", 130)
    except (OSError, Refused, LockTimeout) as exc:
        return _stop(root, args.check, describe(exc, root), 1)


SUBCOMMANDS = ("new", "show", "diff", "serve")


def _subcommand_at(argv: list[str]) -> int | None:
    """Where a subcommand stands in `argv` (first, or after `--root DIR`), or None."""
    i = 0
    while i < len(argv) and argv[i].startswith("--root"):
        i += 1 if "=" in argv[i] else 2
    return i if i < len(argv) and argv[i] in SUBCOMMANDS else None


def _subcommand(command: str, argv: list[str]) -> int:
    """`new TEXT [--published DATE]` and `show ID`: the contributor's workbench (scaffold.py, show.py);
    `diff [REF]`: the maintainer's data diff (diff.py)."""
    if command == "diff":
        from . import diff
        return diff.main(argv)
    if command == "serve":
        return _serve(argv)
    parser = argparse.ArgumentParser(prog=f"build.py {command}")
    parser.add_argument("--root", type=Path, default=PROJECT, help="the project folder (default: this project)")
    if command == "new":
        parser.description = ("Copy TEXT unchanged to articles/<source_id>.txt and write annotations/<source_id>.yaml: "
                              "the source block and stubs (quotes, registry actors and places, new names, time "
                              "expressions) that the check refuses until an annotator completes or deletes them.")
        parser.add_argument("text", type=Path, help="the article's text file (UTF-8), copied unchanged")
        parser.add_argument("--published", metavar="YYYY-MM-DD[..YYYY-MM-DD]",
                            help="the publication date or interval (time expressions are resolved against it)")
    else:
        parser.description = "Print an event, quote, actor, place or source: its row, span in context, links and referrers."
        parser.add_argument("id", help="an event, quote, actor, place or source ID")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    try:
        if command == "new":
            for path in new_article(root, args.text, args.published):
                print(_relative(path, root))
            return 0
        text, found = show(root, args.id)
        print(text, file=sys.stdout if found else sys.stderr)
        return 0 if found else 1
    except ValueError as exc:
        _say(str(exc))
        return 2
    except OSError as exc:
        _say(describe(exc, root))
        return 1


def _serve(argv: list[str]) -> int:
    """`serve [--idle MINUTES]`: the resident process that later runs of build.py hand their work to (resident.py)."""
    parser = argparse.ArgumentParser(prog="build.py serve", description=resident.__doc__.split("\n\n")[0])
    parser.add_argument("--idle", type=float, default=60, metavar="MINUTES",
                        help="stop after this long without a run (default: 60)")
    args = parser.parse_args(argv)
    # what runs import when they first need it, here once: the viewer's templates, the workers
    # (cores.py), Arrow's joins (the notes, the delta check), the registries' ISO codes; 30 ms of
    # an edited check at 1,000 articles, alternated with a process without them
    import jinja2, multiprocessing.pool, pyarrow.acero, pyarrow.pandas_compat, pycountry  # noqa: F401, E401
    gc.freeze()  # what the imports made stays shared with each run's process: no collection copies it
    return resident.serve(str(PROJECT), main, _code_read_again, args.idle * 60, _say,
                          hashes=(new_hashes, learn_hashes))


def _code_read_again() -> str:
    """`code_digest` from the files as they are now (it is kept for the rest of the process)."""
    code_digest.cache_clear()
    return code_digest()


def _say(text: str) -> None:
    print(f"build.py: {text}", file=sys.stderr, flush=True)


def _run(root: Path, args: argparse.Namespace) -> int:
    schema = load_schema()
    allowed = output_set(schema)
    cache = Cache(root, enabled=not args.no_cache)
    with build_lock(root, shared=args.check, wait=args.wait, say=_say), ExitStack() as held:
        published = os.path.lexists(root / DESCRIPTOR)
        ahead = held.enter_context(closing(_PagesAhead(root, schema, cache))) if args.check and published else None
        if not args.check:
            note = recover(root, allowed)
            if note:
                _say(note)
        # Arrow's default allocator (mimalloc) keeps what pandas frees for reuse: several times the
        # frames' size at 1,000 articles. The system allocator hands it back.
        pa.set_memory_pool(pa.system_memory_pool())
        stages = Stages()
        sources, key = _inputs_key(root, schema) if cache else (None, None)
        verdict = cache.get("check", key) if key else None
        stages.lap("cache")
        built = None
        with _without_cycle_collection():
            if not isinstance(verdict, Verdict):
                base = None
                verdict = _delta_verdict(root, schema, cache, stages) if args.check else None
                if verdict is None:
                    verdict, built, base = _verdict(root, schema, stages, cache, notes=args.check, ahead=ahead)
                now = _inputs_key(root, schema) if key else None
                if key and args.check and key == now[1]:  # nothing changed while it ran
                    cache.put("check", key, verdict)
                    cache.prune("check", KEPT_STATES)
                if base and sources == now[0]:
                    cache.put(delta.KIND, delta.SLOT, base)
                base = None  # (not kept while the outputs are rendered)
                stages.lap("baseline")  # a full check's fingerprint, notes and baseline; keeping the verdict
            if verdict.problems:
                print(BuildError(verdict.problems).report(), file=sys.stderr)
                if os.environ.get("GITHUB_ACTIONS") == "true":  # each problem on its line of the pull request
                    print(github_annotations(verdict.problems), flush=True)
                return 1
            pause = _pause_hook()
            pause("validated")
            stage = "compare" if args.check else "publish"
            if args.check:
                differ, how = _differences(root, schema, verdict, built, cache, stages, ahead and ahead.pages) \
                    if published else ([], "")
            else:
                written = _publish(root, schema, verdict, built, allowed, cache, stages, pause)
                now, after = _inputs_key(root, schema) if cache else (None, None)
                if now == sources and after != key:  # the inputs did not change while it ran
                    # a check now finds the same, and no notes: the published tables hold every row
                    cache.put("check", after, Verdict([], verdict.counts, [], [], verdict.fingerprint))
        stages.lap(stage)  # rendering and comparing or writing, less the rendering
        stages.seconds[stage] -= stages.seconds.get("render", 0.0)
    if args.timings:
        print(stages.report(), file=sys.stderr)
    counts = ", ".join(f"{name} {n}" for name, n in verdict.counts.items())
    if not args.check:
        print(f"built {len(written)} changed file(s): {counts}")
        return 0
    for note in verdict.notes if published else []:
        print(note)
    hints = verdict.hints
    if differ:
        print("\n".join(hints + [_stale_report(root, differ, how)]), file=sys.stderr)
        return 1
    if hints and args.strict:
        print("\n".join(hints + [f"build.py: {len(hints)} completeness note(s), which --strict makes errors; "
                                 "nothing was written"]), file=sys.stderr)
        return 1
    print(f"check passed: {counts}")
    for hint in hints:
        print(hint)
    if not published:
        print(f"no published outputs to compare under {root} (no {DESCRIPTOR}): `make data` writes them")
    return 0


def _delta_verdict(root: Path, schema: Schema, cache: Cache, stages: Stages) -> Verdict | None:
    """The verdict of a delta check (delta.py), or None when the full check must run."""
    verdict = delta.check(root, schema, cache)
    stages.lap("delta")
    return verdict


def _verdict(root: Path, schema: Schema, stages: Stages, cache: Cache, notes: bool,
             ahead: _PagesAhead | None = None) -> tuple[Verdict, tuple | None, delta.Baseline | None]:
    """Validate the inputs: the verdict (with the check's notes if `notes`), and when they are
    valid, the (frames, texts) and (with a cache) the baseline of a later delta check. With
    `ahead`, its pages start as soon as the tables are made."""
    made = {}

    def framed(frames: dict, texts: dict[str, str]) -> None:
        try:
            hashes = {name: row_hashes(df) for name, df in frames.items()}
            made.update(hashes=hashes, fingerprint=fingerprint(schema, frames, texts, hashes))
            ahead.start(frames, texts, made["fingerprint"])
        except Exception:  # noqa: BLE001 - tables not yet validated (a duplicate key...): rendered after, if valid
            made.clear()
    try:
        frames, texts, extents = _validated(root, schema, stages, cache, framed if ahead else None)
    except BuildError as exc:
        return Verdict(exc.problems), None, None
    hashes = made.get("hashes") or {name: row_hashes(df) for name, df in frames.items()}
    verdict = Verdict([], {name: len(df) for name, df in frames.items()},
                      fingerprint=made.get("fingerprint") or fingerprint(schema, frames, texts, hashes))
    hints = {}
    if notes:
        verdict.notes = reference_notes(root, frames) if os.path.lexists(root / DESCRIPTOR) else []
        hints = notes_by_article(root, frames)
        verdict.hints = [hint for some in hints.values() for hint in some]
        _give_back()  # (the published tables' columns read for the notes: 170 MB kept at 10,000 articles)
    base = delta.baseline(schema, frames, hashes, texts, extents, delta.context(root, schema), hints) if cache else None
    return verdict, (frames, texts), base


class _PagesAhead:
    """A check's viewer pages, rendered and judged in workers that start when the tables are made,
    before they are validated (`_verdict`): the other cores render while this one validates, notes
    and hashes. They start only when no record proves the outputs: the check will render them all."""

    def __init__(self, root: Path, schema: Schema, cache: Cache):
        self.root, self.schema, self.cache, self.pages = root, schema, cache, None

    def start(self, frames: dict, texts: dict[str, str], fp: Fingerprint) -> None:
        readme = dict(_readme(self.root, self.schema, {name: len(df) for name, df in frames.items()}))
        if known_differences(self.cache, self.root, fp, readme) is None:
            with _collecting():
                self.pages = render_viewer(self.schema, frames, texts, partial(_judged, self.root))

    def close(self) -> None:
        if self.pages is not None:
            self.pages.close()


def _outputs(root: Path, schema: Schema, verdict: Verdict, built: tuple | None, cache: Cache, stages: Stages,
             judge: Callable[[str, bytes], Any] | None = None, pages: Pages | None = None) -> Iterator[tuple[str, Any]]:
    """Every output, rendered (validating again first when the verdict came from the cache)."""
    frames, texts = built or _validated(root, schema, stages, cache)[:2]
    return stages.timed("render", render(schema, frames, root, texts, judge, pages))


def _readme(root: Path, schema: Schema, counts: dict[str, int]) -> list[tuple[str, bytes]]:
    """README.md with its generated table overview (README.md is both an input and an output)."""
    readme = root / README
    if not readme.is_file():
        return []
    return [(README, readme_with_tables(readme.read_text(encoding="utf-8"), schema, counts).encode("utf-8"))]


def _differences(root: Path, schema: Schema, verdict: Verdict, built: tuple | None, cache: Cache,
                 stages: Stages, pages: Pages | None = None) -> tuple[list[str], str]:
    """The published files that differ from what the inputs produce, and how that is known:
    from a record of a build of the same tables (record.py), or by rendering every output (the
    viewer's `pages`, when they were started already: `_PagesAhead` found no record then)."""
    if pages is None:
        known = known_differences(cache, root, verdict.fingerprint, dict(_readme(root, schema, verdict.counts)))
        if known is not None:
            return known
    digests, differ = {}, []
    judge = partial(_judged, root)
    for rel, output in _outputs(root, schema, verdict, built, cache, stages, judge, pages):
        same, digests[rel] = output if isinstance(output, tuple) else judge(rel, output)
        if not same:
            differ.append(rel)
    if not differ:
        save(cache, root, verdict.fingerprint, digests)
    return differ, "render"


def _judged(root: Path, rel: str, data: bytes) -> tuple[bool, str | None]:
    """Whether an output is published as rendered, and its `_recorded_digest`."""
    return published_as(root, rel, data), _recorded_digest(rel, data)


def _recorded_digest(rel: str, data: bytes) -> str | None:
    """An output's digest for the record (README.md has none: it is also an input)."""
    return None if rel == README else sha256(data)


def _publish(root: Path, schema: Schema, verdict: Verdict, built: tuple | None, allowed: OutputSet, cache: Cache,
             stages: Stages, pause) -> list[str]:
    """Publish what changed; when a record proves every output current, without rendering."""
    if built is None:
        known = known_differences(cache, root, verdict.fingerprint,
                                  dict(_readme(root, schema, verdict.counts)), trust_signatures=False)
        if known is not None and not known[0]:
            return []
    digests = {}

    def recorded(outputs):
        for rel, data in outputs:
            digests[rel] = _recorded_digest(rel, data)
            yield rel, data
    written = publish(root, recorded(_outputs(root, schema, verdict, built, cache, stages)), allowed, pause)
    save(cache, root, verdict.fingerprint, digests)
    return written


def _stale_report(root: Path, differ: list[str], how: str = "render", shown: int = 100) -> str:
    if how == "tables":
        lines = [f"build.py: the published files were built from other data: {len(differ)} table file(s) differ "
                 "from what the inputs produce, and the descriptor and pages made from them:"]
    else:
        lines = [f"build.py: {len(differ)} published file(s) differ from what the inputs produce "
                 "(stale or edited by hand):"]
    lines += [f"  {rel}" for rel in differ[:shown]]
    if len(differ) > shown:
        lines.append(f"  ... and {len(differ) - shown} more")
    if os.path.lexists(root / STAGING / COMMIT):
        lines.append(f"an interrupted publish is pending in {STAGING}/.")
    lines.append("run `make data` to rebuild them from the inputs, and commit the result.")
    return "\n".join(lines)


_ADVICE = {
    errno.EACCES: "permission denied on {path}: the build reads articles/ and annotations/ and writes the published "
                  "files and their folders; give the user running it that access (see `ls -ld {path}`) and run again",
    errno.ENOSPC: "no space left on the device writing {path}: free some space and run again",
    errno.EDQUOT: "disk quota exceeded writing {path}: free some space and run again",
    errno.EROFS: "{path} is on a read-only file system: build in a writable copy",
    errno.ELOOP: "{path} is a symbolic link: the build does not follow it; replace it by the file itself",
    errno.EISDIR: "{path} is a folder where a file is expected: remove or rename it",
    errno.ENOTDIR: "{path}: a file stands where a folder is expected: remove or rename it",
}
_ADVICE[errno.EPERM] = _ADVICE[errno.EACCES]


def describe(exc: BaseException, root: Path) -> str:
    """One line for a fault of the system (or a refused publish): the path, what happened, what to do."""
    if not isinstance(exc, OSError):
        return str(exc)
    paths = [_relative(Path(p), root) for p in (exc.filename, exc.filename2) if p]
    path = " -> ".join(paths) or str(root)
    return _ADVICE.get(exc.errno, "{what}: {path}").format(path=path, what=exc.strerror or exc.__class__.__name__)


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root)) or "."
    except ValueError:
        return str(path)


def _stop(root: Path, check: bool, what: str, code: int) -> int:
    if check:
        state = "nothing was written"
    elif os.path.lexists(root / STAGING / COMMIT):
        state = "the publish had passed its commit point: run `make data` again to complete it"
    else:
        state = "nothing published changed"
    _say(f"{what}; {state}")
    return code


def _pause_hook():
    """Test hook: NONCOOP_PAUSE_AT=<point> makes the build wait there (to be killed or interrupted)
    for NONCOOP_PAUSE_SECONDS (default 60): after validation ("validated") or at a publish step."""
    point = os.environ.get("NONCOOP_PAUSE_AT")
    if not point:
        return lambda at: None
    seconds = float(os.environ.get("NONCOOP_PAUSE_SECONDS", "60"))

    def pause(at: str) -> None:
        if at == point:
            print(f"paused at {at}", flush=True)
            time.sleep(seconds)
    return pause

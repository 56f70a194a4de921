"""Scale benchmark: build a synthetic corpus of N articles and time the check and the build.

    python benchmarks/scale.py --articles 1000 [--json] [--repeat 3] [--keep DIR] [--seed 7] [--cores K]
                               [--skip-frictionless]

The corpus is written in the real annotation format into a temporary directory: per article a
text of about 4,000 characters, about 28 events, 18 quotes, 17 links and the actor and place
references of the real annotations (their code combinations are sampled from the real events,
so every project rule is exercised); the registries grow with N (one actor per 5 articles, one
place per 20, plus a core reused everywhere, with Zipf-like reuse). Then, side by side in one
run, each a command of its own:

- floor: loading the same annotation files with libyaml's CSafeLoader, and nothing else;
- build: `build.py` from the inputs alone, with no cache;
- cold: `build.py --check` with no cache (it renders every output and compares it);
- unchanged: the check again, nothing changed;
- edited: the check after one event summary of one article was edited (it reports stale outputs);
- `frictionless validate datapackage.json` on the same output (once; --skip-frictionless skips it);
- resident cold, unchanged and edited: the three checks again, handed to a `build.py serve` started
  for the run (resident.py), which has imported the libraries already.

Each command but the resident ones runs alone (NONCOOP_RESIDENT=off). `hashed` gives how many
times a check read a file to hash it, and the bytes (a resident check reads only what changed).

Each --repeat times, alternated; the fastest run of each is reported, with every run. With
--json the last line is one JSON object.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from noncoop import load, resident  # noqa: E402

EVENT_KEYS = ["granularity", "event_type", "event_mode", "sharp_method", "acled_event_type", "acled_sub_event_type",
              "violent", "status", "date_start", "date_end", "date_precision", "date_basis", "time_expression",
              "report_date_start", "report_date_end", "report_date_precision", "report_date_basis",
              "report_time_expression", "external_date_start", "external_date_end", "external_date_source",
              "location_precision", "killed", "injured"]


def _q(value) -> str:
    """A YAML scalar (JSON-style double-quoted strings are valid YAML)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value), ensure_ascii=False)


def _templates():
    """Code combinations and per-article shape of the real annotations."""
    t = load()
    events = t["events"]
    combos = []
    for row in events.itertuples(index=False):
        combo = {}
        for key in EVENT_KEYS:
            value = getattr(row, key)
            if value is None or (not isinstance(value, str) and __import__("pandas").isna(value)):
                continue
            if hasattr(value, "date"):
                value = value.date().isoformat()
            elif hasattr(value, "item"):
                value = value.item()
            combo[key] = value
        combo["has_place"] = row.place_id is not None and not __import__("pandas").isna(row.place_id)
        combos.append(combo)
    return combos


def generate(root: Path, n: int, seed: int = 7) -> dict[str, int]:
    """Write articles/ and annotations/ for `n` synthetic articles under `root`."""
    rng = random.Random(seed)
    combos = _templates()
    # every time expression the sampled events carry must occur in each synthetic text
    time_words = sorted({c[key] for c in combos for key in ("time_expression", "report_time_expression") if key in c})
    (root / "articles").mkdir(parents=True)
    (root / "annotations").mkdir()
    n_actors, n_places = 40 + n // 5, 20 + n // 20
    actor_ids = [f"actor-{i:05d}" for i in range(n_actors)]
    place_ids = [f"place-{i:05d}" for i in range(n_places)]
    zipf = [1 / (i + 1) for i in range(n_actors)]
    place_weights = [1 / (i + 1) for i in range(n_places)]
    counts = {"events": 0, "quotes": 0}
    previous_events: list[str] = []
    for a in range(n):
        source_id = f"syn{a:06d}"
        # every actor and place is used at least once (round robin), the rest Zipf-like
        own_actors = set(actor_ids[a::n]) | set(rng.choices(actor_ids, weights=zipf, k=16))
        own_places = set(place_ids[a::n]) | set(rng.choices(place_ids, weights=place_weights, k=6))
        actors, places = sorted(own_actors), sorted(own_places)
        sentences = [f"Report {source_id} mentions {', '.join(f'Name of {x}' for x in actors)} "
                     f"and {', '.join(f'Place of {x}' for x in places)}.",
                     "Time words: " + ", ".join(time_words) + "."]
        events, quotes = [], []
        for i in range(1, 29):
            combo = rng.choice(combos)
            evidence = f"event {i} of {source_id} happened as {rng.choice(actors)} acted"
            sentences.append(f"In paragraph {i}, {evidence} and others watched.")
            event = dict(combo, id=f"e{i:02d}", evidence=evidence, summary=f"Synthetic event {i} of {source_id}.",
                         actors=rng.sample(actors, 1 + (rng.random() < 0.3)),
                         recipients=rng.sample(actors, rng.random() < 0.5))
            if event.pop("has_place"):
                event["place_id"] = rng.choice(places)
            else:
                event.pop("location_precision", None)
            links = []
            if i > 1 and rng.random() < 0.5:
                links.append({"link_type": rng.choice(["causes", "part_of"]), "linked_event_id": f"e{rng.randrange(1, i):02d}"})
            if previous_events and rng.random() < 0.1:
                links.append({"link_type": "same_as", "linked_event_id": rng.choice(previous_events)})
            event["links"] = links
            events.append(event)
        for j in range(1, 19):
            said = f"statement {j} of {source_id} is quoted here"
            sentences.append(f"A speaker said: “{said}.”")
            quote = {"id": f"q{j:02d}", "text": said, "kind": rng.choice(["direct", "partial", "paraphrase"]),
                     "speaker_id": rng.choice(actors), "event_id": f"e{rng.randrange(1, 29):02d}"}
            if quote["kind"] == "paraphrase":
                quote["reporting_verb"] = "said"
            quotes.append(quote)
        text = " ".join(sentences)
        data = text.encode("utf-8")
        (root / "articles" / f"{source_id}.txt").write_bytes(data)
        (root / "annotations" / f"{source_id}.yaml").write_text(
            _article_yaml(hashlib.sha256(data).hexdigest(), events, quotes), encoding="utf-8")
        previous_events = [f"{source_id}-{e['id']}" for e in events]
        counts["events"] += len(events)
        counts["quotes"] += len(quotes)
    _registry(root / "annotations/actors.yaml", "actors", [
        {"actor_id": x, "name": f"Name of {x}", "actor_type": "population", "sector": "CVL", "country": "UKR",
         "side": "civilian", "description": f"Synthetic actor {x}.", "aliases": [f"Name of {x}"]} for x in actor_ids])
    _registry(root / "annotations/places.yaml", "places", [
        {"place_id": x, "name": f"Place of {x}", "feature_kind": "city", "country": "UKR",
         "description": f"Synthetic place {x}.", "aliases": [f"Place of {x}"]} for x in place_ids])
    return {"articles": n, "actors": n_actors, "places": n_places, **counts}


def _article_yaml(sha256: str, events: list[dict], quotes: list[dict]) -> str:
    lines = ["source:", f"  sha256: {sha256}", "  language: en", "  original_language: en",
             "  original_language_basis: inference", "  translation_note: synthetic", "  is_translation: false",
             "  published_start: 2022-07-28", "  published_end: 2022-07-31", "  published_precision: days",
             "  published_basis: inference", "  published_note: synthetic", "events:"]
    for event in events:
        lines.append(f"  - id: {event['id']}")
        for key, value in event.items():
            if key == "id":
                continue
            if key == "links":
                if value:
                    lines.append("    links:")
                    lines += [f"      - {{link_type: {link['link_type']}, linked_event_id: {link['linked_event_id']}}}"
                              for link in value]
            elif isinstance(value, list):
                if value:
                    lines.append(f"    {key}: [{', '.join(value)}]")
            else:
                lines.append(f"    {key}: {_q(value)}")
    lines.append("quotes:")
    for quote in quotes:
        lines.append(f"  - id: {quote['id']}")
        lines += [f"    {key}: {_q(value)}" for key, value in quote.items() if key != "id"]
    return "\n".join(lines) + "\n"


def _registry(path: Path, key: str, items: list[dict]) -> None:
    lines = [f"{key}:"]
    for item in items:
        first = True
        for field, value in item.items():
            prefix = "  - " if first else "    "
            first = False
            lines.append(f"{prefix}{field}: " + (f"[{', '.join(_q(v) for v in value)}]" if isinstance(value, list) else _q(value)))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


ALONE = {**os.environ, "NONCOOP_RESIDENT": "off"}


def _timed(command: list[str], cwd: Path | None = None, cores: int | None = None,
           codes: tuple[int, ...] = (0,), env: dict | None = None) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MB) of the command's process tree, and its stderr (on `cores` cores)."""
    probe = ("import os, resource, subprocess, sys, time; cores = int(sys.argv[1]); "
             "cores and os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:cores]); t = time.perf_counter(); "
             "r = subprocess.run(sys.argv[2:], capture_output=True, text=True); "
             "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, r.returncode); "
             "sys.stderr.write(r.stderr)")
    result = subprocess.run([sys.executable, "-c", probe, str(cores or 0), *command], capture_output=True, text=True,
                            cwd=cwd, env=env or ALONE)
    seconds, rss, code = result.stdout.split()
    if int(code) not in codes:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr[-3000:]}")
    return float(seconds), float(rss), result.stderr


FLOOR = ("import sys, yaml\nfrom pathlib import Path\n"  # each document is dropped as soon as it is loaded
         "for path in sorted(Path(sys.argv[1]).glob('annotations/*.yaml')):\n"
         "    yaml.load(path.read_bytes(), Loader=yaml.CSafeLoader)\n")


def _edit_one(root: Path, n: int) -> tuple[Path, bytes]:
    """Change one event summary of the middle article, as a contributor would; return what to restore."""
    path = root / "annotations" / f"syn{n // 2:06d}.yaml"
    original = path.read_bytes()
    path.write_bytes(original.replace(b'summary: "Synthetic event 1 ', b'summary: "Edited synthetic event 1 ', 1))
    return path, original


@contextmanager
def _resident(folder: Path):
    """A `build.py serve` listening in `folder`; yields the environment that hands runs to it."""
    env = {**os.environ, "NONCOOP_RESIDENT": str(folder / "socket")}
    server = subprocess.Popen([sys.executable, str(ROOT / "build.py"), "serve", "--idle", "60"], env=env,
                              stderr=subprocess.DEVNULL)
    try:
        while not resident.answers(str(folder / "socket")):  # (the file exists before the server listens)
            if server.poll() is not None:
                raise SystemExit("build.py serve stopped")
            time.sleep(0.05)
        yield env
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait()


def _line(stderr: str, prefix: str) -> dict:
    """The JSON a run with --timings printed after `prefix`."""
    return json.loads(next(line for line in stderr.splitlines() if line.startswith(prefix))[len(prefix):])


def run(n: int, seed: int, keep: Path | None, frictionless: bool, repeat: int = 1, cores: int | None = None) -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        root = keep or Path(scratch)
        clock = time.perf_counter()
        shape = generate(root, n, seed)
        generate_s = time.perf_counter() - clock
        build = [sys.executable, str(ROOT / "build.py"), "--root", str(root), "--timings"]
        runs: dict[str, list] = {k: [] for k in ("floor", "build", "cold", "unchanged", "edited", "resident_cold",
                                                 "resident_unchanged", "resident_edited")}
        for _ in range(repeat):  # alternated; the fastest run is the least disturbed by other load
            for output in root.iterdir():  # every build starts from the inputs alone, with no cache
                if output.is_dir() and output.name not in ("articles", "annotations"):
                    shutil.rmtree(output)
                elif output.is_file():
                    output.unlink()
            runs["floor"].append(_timed([sys.executable, "-c", FLOOR, str(root)], cores=cores))
            runs["build"].append(_timed(build, cores=cores))
            shutil.rmtree(root / ".cache")
            runs["cold"].append(_timed(build + ["--check"], cores=cores))  # renders every output and compares
            runs["unchanged"].append(_timed(build + ["--check"], cores=cores))
            path, original = _edit_one(root, n)
            runs["edited"].append(_timed(build + ["--check"], cores=cores, codes=(1,)))  # the outputs are stale now
            path.write_bytes(original)
            with tempfile.TemporaryDirectory() as folder, _resident(Path(folder)) as env:
                shutil.rmtree(root / ".cache")
                runs["resident_cold"].append(_timed(build + ["--check"], cores=cores, env=env))
                runs["resident_unchanged"].append(_timed(build + ["--check"], cores=cores, env=env))
                path, original = _edit_one(root, n)
                runs["resident_edited"].append(_timed(build + ["--check"], cores=cores, codes=(1,), env=env))
                path.write_bytes(original)
        best = {k: min(v) for k, v in runs.items()}
        seconds = {k: round(v[0], 2) for k, v in best.items()}
        stages, stage_rss = (_line(best["build"][2], prefix) for prefix in ("timings: ", "peak_rss_mb: "))
        result = {**shape, "cores": cores or len(os.sched_getaffinity(0)), "generate_s": round(generate_s, 2),
                  **{f"{k}_s": v for k, v in seconds.items()},
                  "cold_per_floor": round(best["cold"][0] / best["floor"][0], 3),
                  "unchanged_per_cold": round(best["unchanged"][0] / best["cold"][0], 3),
                  "edited_per_cold": round(best["edited"][0] / best["cold"][0], 3),
                  "build_per_cold": round(best["build"][0] / best["cold"][0], 3),
                  "resident_cold_per_floor": round(best["resident_cold"][0] / best["floor"][0], 3),
                  "resident_unchanged_per_cold": round(best["resident_unchanged"][0] / best["resident_cold"][0], 3),
                  "resident_edited_per_cold": round(best["resident_edited"][0] / best["resident_cold"][0], 3),
                  "peak_rss_mb": round(max(r[1] for r in runs["build"]), 1),
                  "check_peak_rss_mb": round(max(r[1] for r in runs["cold"]), 1),
                  "stages_s": stages, "stages_peak_rss_mb": stage_rss,
                  "hashed": {k: _line(best[k][2], "hashed: ") for k in ("cold", "edited", "resident_edited")},
                  "runs_s": {k: [round(r[0], 2) for r in v] for k, v in runs.items()}}
        if frictionless:
            cli = str(Path(sys.executable).with_name("frictionless"))
            result["frictionless_s"] = round(_timed([cli, "validate", "datapackage.json"], cwd=root)[0], 2)
            result["check_ratio"] = round(best["cold"][0] / result["frictionless_s"], 4)
            result["build_ratio"] = round(best["build"][0] / result["frictionless_s"], 4)
        return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, required=True)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    parser.add_argument("--keep", type=Path, help="generate into this (new) folder and keep it")
    parser.add_argument("--skip-frictionless", action="store_true", help="do not run the official validator")
    parser.add_argument("--repeat", type=int, default=1,
                        help="time every command this many times and report the fastest")
    parser.add_argument("--cores", type=int, help="run the commands on this many cores (default: all this process has)")
    args = parser.parse_args(argv)
    result = run(args.articles, args.seed, args.keep, not args.skip_frictionless, args.repeat, args.cores)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>20}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

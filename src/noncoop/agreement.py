"""Inter-annotator agreement between two annotation trees of the same articles.

    python -m noncoop.agreement ROOT_A ROOT_B [--json]

Events are matched one-to-one within each article by span overlap (greedy, largest overlap
first): a pair matches when the shared characters cover at least half of the shorter span;
`exact` pairs have identical offsets. Reported: event span precision, recall and F1 (B against
A), Cohen's kappa on the codes of matched pairs, quote recall and precision with the same
matching, and every disagreement, so that each can be adjudicated.
"""
from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

from .resolve import resolve
from .schema import PROJECT, load_schema

CODED = ("event_type", "status", "violent", "event_mode", "sharp_method", "date_precision")


def _spans(root: Path, table: str, fields: tuple[str, ...]) -> list[dict[str, Any]]:
    """Spans of one annotation tree; a tree without articles/ is read against the project's.
    Frozen trees were coded under an earlier schema, so no column is required when reading them."""
    schema = load_schema()
    schema = replace(schema, tables={n: replace(t, required=frozenset()) for n, t in schema.tables.items()})
    with tempfile.TemporaryDirectory() as scratch:
        if not (root / "articles").is_dir():
            shutil.copytree(root / "annotations", Path(scratch) / "annotations")
            shutil.copytree(PROJECT / "articles", Path(scratch) / "articles")
            root = Path(scratch)
        resolved, _ = resolve(root, schema)
    key = schema.tables[table].primary_key[0]
    return [{k: row.get(k) for k in ("source_id", "char_start", "char_end", *fields)} | {"id": row[key]}
            for row in resolved.records(table)]


def match(a: list[dict], b: list[dict]) -> list[tuple[dict, dict]]:
    """One-to-one pairs of spans in the same source sharing >= half of the shorter span."""
    candidates = []
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            if x["source_id"] != y["source_id"]:
                continue
            shared = min(x["char_end"], y["char_end"]) - max(x["char_start"], y["char_start"])
            shorter = min(x["char_end"] - x["char_start"], y["char_end"] - y["char_start"])
            if shared > 0 and shared >= shorter / 2:
                candidates.append((shared, -abs(x["char_start"] - y["char_start"]), i, j))
    pairs, used_a, used_b = [], set(), set()
    for _, _, i, j in sorted(candidates, reverse=True):
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            pairs.append((a[i], b[j]))
    return pairs


def cohen_kappa(labels_a: list, labels_b: list) -> float | None:
    """Cohen's kappa of two label sequences (None when undefined: fewer than 2 items)."""
    n = len(labels_a)
    if n < 2:
        return None
    observed = sum(x == y for x, y in zip(labels_a, labels_b)) / n
    count_a, count_b = Counter(map(str, labels_a)), Counter(map(str, labels_b))
    expected = sum(count_a[k] * count_b[k] for k in count_a) / (n * n)
    return 1.0 if expected == 1 else round((observed - expected) / (1 - expected), 3)


def _prf(n_a: int, n_b: int, matched: int) -> dict[str, float]:
    precision = matched / n_b if n_b else 0.0
    recall = matched / n_a if n_a else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 3), "recall": round(recall, 3), "f1": round(f1, 3)}


def compare(root_a: Path, root_b: Path) -> dict[str, Any]:
    events_a, events_b = _spans(root_a, "events", CODED), _spans(root_b, "events", CODED)
    quotes_a, quotes_b = _spans(root_a, "quotes", ("kind",)), _spans(root_b, "quotes", ("kind",))
    pairs = match(events_a, events_b)
    exact = sum(x["char_start"] == y["char_start"] and x["char_end"] == y["char_end"] for x, y in pairs)
    quote_pairs = match(quotes_a, quotes_b)
    matched_a = {x["id"] for x, _ in pairs}
    matched_b = {y["id"] for _, y in pairs}
    return {
        "events": {"a": len(events_a), "b": len(events_b), "matched": len(pairs), "exact_spans": exact,
                   **_prf(len(events_a), len(events_b), len(pairs)),
                   "exact": _prf(len(events_a), len(events_b), exact)},
        "kappa": {field: cohen_kappa([x[field] for x, _ in pairs], [y[field] for _, y in pairs]) for field in CODED},
        "percent_agreement": {field: round(sum(x[field] == y[field] for x, y in pairs) / len(pairs), 3) if pairs else None
                              for field in CODED},
        "quotes": {"a": len(quotes_a), "b": len(quotes_b), "matched": len(quote_pairs),
                   "recall": _prf(len(quotes_a), len(quotes_b), len(quote_pairs))["recall"],
                   "precision": _prf(len(quotes_a), len(quotes_b), len(quote_pairs))["precision"],
                   "kind_kappa": cohen_kappa([x["kind"] for x, _ in quote_pairs], [y["kind"] for _, y in quote_pairs])},
        "disagreements": {
            "only_in_a": [e["id"] for e in events_a if e["id"] not in matched_a],
            "only_in_b": [e["id"] for e in events_b if e["id"] not in matched_b],
            "coded_differently": [
                {"a": x["id"], "b": y["id"], **{f: [x[f], y[f]] for f in CODED if x[f] != y[f]}}
                for x, y in pairs if any(x[f] != y[f] for f in CODED)
            ],
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m noncoop.agreement", description=__doc__.split("\n\n")[0])
    parser.add_argument("root_a", type=Path)
    parser.add_argument("root_b", type=Path)
    parser.add_argument("--json", action="store_true", help="print the full result as JSON")
    args = parser.parse_args(argv)
    result = compare(args.root_a, args.root_b)
    if args.json:
        print(json.dumps(result, indent=2, default=str))
        return 0
    e, q = result["events"], result["quotes"]
    print(f"events: A {e['a']}, B {e['b']}, matched {e['matched']} (exact spans {e['exact_spans']}); "
          f"overlap F1 {e['f1']}, exact F1 {e['exact']['f1']}")
    print("kappa on matched events: " + ", ".join(f"{k} {v}" for k, v in result["kappa"].items()))
    print(f"quotes: A {q['a']}, B {q['b']}, recall {q['recall']}, precision {q['precision']}, kind kappa {q['kind_kappa']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

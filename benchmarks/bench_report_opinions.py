"""What do opinion words cost a whole report? ``ada-atsc report`` over the same reviews twice in one run: with a
triplet tagger (aspects, polarity, opinion words) and with a unified tagger trained on the same sentences
(aspects, polarity), both as their ONNX int8 exports, ``--workers`` as a user runs it.

The report's extra work with opinions is the tagger's pairing step, the opinion merging per aspect group and the
larger files; the encoder pass is the same size. Runs alternate (without, with; ``--repeats`` rounds) so that a
noisy neighbour hurts both alike; the best time of each is kept. Writes one JSON object.

    flock /tmp/ada-heavy.lock .venv/bin/python benchmarks/bench_report_opinions.py \\
        --triplets runs/triplets/14res_triplets_seed1 --unified runs/triplets/14res_unified_seed1 \\
        --input data/corpora/hotel_reviews_opinrank.jsonl.gz --entity_field hotel \\
        --output docs/results/bench_report_opinions.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_report import REPO, emit, machine, run_report  # noqa: E402  (sibling benchmark: one way to time a report)
from bench_triplets import int8  # noqa: E402  (sibling benchmark: one way to get an int8 export)


def opinion_words(summary_path: Path) -> int:
    """Opinion-word mentions the report's summary lists over all aspect groups."""
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    return sum(int(o.get("count", 0)) for group in summary.get("groups", []) for o in group.get("opinions", []))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triplets", required=True, help="a triplet tagger ('train --task triplets')")
    parser.add_argument("--unified", required=True, help="a unified tagger trained on the same sentences")
    parser.add_argument("--input", required=True, help="the reviews (any format report reads)")
    parser.add_argument("--entity_field", default=None)
    parser.add_argument("--workers", type=int, default=2, help="the report's --workers")
    parser.add_argument("--repeats", type=int, default=1, help="rounds of (without, with); the best of each kept")
    parser.add_argument("--work_dir", default="runs/bench_report_opinions", help="where the int8 exports go")
    parser.add_argument("--output", help="also write the JSON here")
    args = parser.parse_args()

    work = Path(args.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    from ada_atsc.core.errors import AdaError

    try:
        models = {"without": int8(Path(args.unified), work), "with": int8(Path(args.triplets), work)}
    except AdaError as error:  # a wrong model path: one line, not a traceback
        raise SystemExit(f"error: {error}") from None
    runs: dict[str, list[dict]] = {"without": [], "with": []}
    words = 0
    with tempfile.TemporaryDirectory() as scratch:
        for _ in range(args.repeats):
            for name, model in models.items():
                out = Path(scratch) / name
                runs[name].append(run_report(str(model), args.input, args.workers, args.entity_field, out))
                if name == "with":
                    words = opinion_words(out / "summary.json")
                print(json.dumps({name: runs[name][-1]["seconds"]}), file=sys.stderr, flush=True)
    best = {name: min(r["seconds"] for r in found) for name, found in runs.items()}
    result = {
        "benchmark": "report_with_opinions_against_without",
        "input": Path(args.input).name,
        "models": {name: str(model.relative_to(REPO) if model.is_relative_to(REPO) else model)
                   for name, model in models.items()},
        "runs": runs,
        "best_seconds": best,
        "with_over_without": round(best["with"] / best["without"], 3),
        "opinion_mentions_in_summary": words,
        "machine": machine(),
    }
    emit(result, args.output)


if __name__ == "__main__":
    main()

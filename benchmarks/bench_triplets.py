"""Opinion words cost how much speed? A triplet tagger against a unified tagger, the same sentences, one run.

Both models are MiniLM token taggers run as ``absa``, ``report`` and ``serve`` run them: their ONNX int8
exports (made under ``--work_dir`` when not given), through ``AbsaPipeline`` in calls of ``--call_size``
texts. Passes alternate between the two (``--repeats`` each, the best kept) so that a noisy neighbour hurts
both alike. The triplet tagger's extra work is its decoding and pairing after the same encoder pass.
Sentences: the ASTE-V2 14res test set (492), repeated ``--copies`` times. Writes one JSON object.

    flock /tmp/ada-heavy.lock .venv/bin/python benchmarks/bench_triplets.py --triplets DIR --unified DIR \\
        --output docs/results/bench_triplets.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def int8(model: Path, work: Path) -> Path:
    """``model``'s int8 export (itself if it is one already)."""
    from ada_atsc.export import ExportOptions, export_model
    from ada_atsc.runtime.model_dir import is_export

    if is_export(model):
        return model
    target = work / f"{model.name}-int8"
    if not (target / "ada_atsc_export.json").is_file():
        export_model(model, target, ExportOptions(quantize="int8", overwrite=True))
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triplets", type=Path, required=True)
    parser.add_argument("--unified", type=Path, required=True)
    parser.add_argument("--work_dir", type=Path, default=Path("runs/bench_triplets"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument("--call_size", type=int, default=64)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()

    from ada_atsc.absa.pipeline import AbsaPipeline
    from ada_atsc.data.aste import read_aste

    args.work_dir.mkdir(parents=True, exist_ok=True)
    sentences = [s.sentence for s in read_aste(REPO / "data/aste/14res/test_triplets.txt")] * args.copies
    models = {"unified": int8(args.unified, args.work_dir), "triplets": int8(args.triplets, args.work_dir)}
    pipelines = {name: AbsaPipeline(str(path)) for name, path in models.items()}
    for pipeline in pipelines.values():
        pipeline.predict(sentences[:32])  # warm-up
    best: dict[str, float] = {}
    found: dict[str, int] = {}
    for _ in range(args.repeats):
        for name, pipeline in pipelines.items():
            started = time.perf_counter()
            total = 0
            for at in range(0, len(sentences), args.call_size):
                results = pipeline.predict(sentences[at:at + args.call_size])
                total += sum(len(a.get("opinions", ())) for r in results for a in r["aspects"])
            elapsed = time.perf_counter() - started
            best[name] = min(best.get(name, elapsed), elapsed)
            found[name] = total
    result = {
        "what": "sentences/s of a triplet tagger (aspects, polarity, opinion words) against a unified tagger "
                "(aspects, polarity), both MiniLM ONNX int8 through AbsaPipeline, alternating passes, best of "
                f"{args.repeats}",
        "sentences": len(sentences), "call_size": args.call_size,
        "models": {name: str(path) for name, path in models.items()},
        "sentences_per_second": {name: round(len(sentences) / seconds, 1) for name, seconds in best.items()},
        "seconds": {name: round(seconds, 2) for name, seconds in best.items()},
        "triplets_over_unified": round(best["unified"] / best["triplets"], 3),
        "opinions_found": found["triplets"],
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text + "\n")


if __name__ == "__main__":
    main()

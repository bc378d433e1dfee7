"""End-to-end speed of the ABSA pipeline (extractor + classifier) on the SemEval-2014 restaurants test
sentences: sentences/s, batched, fp32, and the share of time in extraction, classification and everything
else (sentence splitting, windows, offsets, batching). Prints one JSON object.

    flock /tmp/ada-heavy.lock .venv/bin/python benchmarks/bench_absa.py --extractor runs/ate --classifier runs/clf

Both models are directories from ``ada-atsc train --task ate`` and ``ada-atsc train``.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extractor", required=True)
    parser.add_argument("--classifier", required=True)
    parser.add_argument("--batch_size", type=int, default=32, help="texts per call of AbsaPipeline.predict")
    parser.add_argument("--repeats", type=int, default=2, help="passes over the test sentences (the first warms up)")
    args = parser.parse_args()

    import torch

    from ada_atsc.absa.pipeline import AbsaPipeline
    from ada_atsc.data.readers import read_sentences

    sentences = [s.sentence for s in read_sentences(REPO / "data/semeval2014/Restaurants_Test_Gold.xml")]
    pipeline = AbsaPipeline(args.extractor, args.classifier, batch_size=args.batch_size)
    passes = []
    for _ in range(args.repeats):
        timings: dict[str, float] = {}
        started = time.perf_counter()
        aspects = 0
        for at in range(0, len(sentences), args.batch_size):
            results = pipeline.predict(sentences[at : at + args.batch_size], timings=timings)
            aspects += sum(len(r.get("aspects", [])) for r in results)
        total = time.perf_counter() - started
        passes.append({"seconds": round(total, 2), "sentences_per_s": round(len(sentences) / total, 1),
                       "aspects_found": aspects,
                       "share": {"extraction": round(timings["extraction"] / total, 3),
                                 "classification": round(timings["classification"] / total, 3),
                                 "everything_else": round(1 - (timings["extraction"] + timings["classification"]) / total, 3)}})
    report = {
        "benchmark": "absa_pipeline",
        "data": "data/semeval2014/Restaurants_Test_Gold.xml (all 800 sentences)",
        "extractor": args.extractor, "classifier": args.classifier, "batch_size": args.batch_size,
        "device": f"cpu ({platform.processor() or platform.machine()})" if not torch.cuda.is_available()
        else torch.cuda.get_device_name(0),
        "torch_threads": torch.get_num_threads(),
        "passes": passes,
        "result": passes[-1],
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

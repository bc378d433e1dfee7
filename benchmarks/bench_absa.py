"""End-to-end speed of the ABSA pipeline (extractor + classifier) on the SemEval-2014 restaurants test
sentences: sentences/s, batched, and the share of time in extraction, classification and everything else (sentence
splitting, windows, offsets, batching), for the PyTorch fp32 models and, in the same run, their ONNX fp32 and
int8 exports. Prints one JSON object.

    flock /tmp/ada-heavy.lock .venv/bin/python benchmarks/bench_absa.py --extractor runs/ate --classifier runs/clf

Both models are directories from ``ada-atsc train --task ate`` and ``ada-atsc train`` (default: the demo's
plain extractor and classifier, so ``make bench`` runs it after ``make demo``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def measure(pipeline, sentences: list[str], batch_size: int, repeats: int) -> list[dict]:
    """Passes over ``sentences`` in calls of ``batch_size`` texts; timings split by stage."""
    passes = []
    for _ in range(repeats):
        timings: dict[str, float] = {}
        started = time.perf_counter()
        aspects = 0
        for at in range(0, len(sentences), batch_size):
            results = pipeline.predict(sentences[at : at + batch_size], timings=timings)
            aspects += sum(len(r.get("aspects", [])) for r in results)
        total = time.perf_counter() - started
        passes.append({"seconds": round(total, 2), "sentences_per_s": round(len(sentences) / total, 1),
                       "aspects_found": aspects,
                       "share": {"extraction": round(timings["extraction"] / total, 3),
                                 "classification": round(timings["classification"] / total, 3),
                                 "everything_else": round(1 - (timings["extraction"] + timings["classification"]) / total, 3)}})
    return passes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extractor", default=str(REPO / "demo_output/extractors/plain"))
    parser.add_argument("--classifier", default=str(REPO / "demo_output/classifiers/plain"))
    parser.add_argument("--batch_size", type=int, default=32, help="texts per call of AbsaPipeline.predict")
    parser.add_argument("--repeats", type=int, default=2, help="passes over the test sentences (the first warms up)")
    parser.add_argument("--no_onnx", action="store_true", help="PyTorch only (no ONNX exports measured)")
    args = parser.parse_args()
    for path in (args.extractor, args.classifier):
        if not Path(path, "config.json").is_file():
            raise SystemExit(f"{path}: no model there (run 'make demo' first, or pass --extractor / --classifier)")

    import torch

    from ada_atsc.absa.pipeline import AbsaPipeline
    from ada_atsc.data.readers import read_sentences

    sentences = [s.sentence for s in read_sentences(REPO / "data/semeval2014/Restaurants_Test_Gold.xml")]
    backends = {"pytorch_fp32": (args.extractor, args.classifier)}
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_onnx:
            from ada_atsc.export import ExportOptions, export_model

            for name, quantize in (("onnx_fp32", None), ("onnx_int8", "int8")):
                models = []
                for role, source in (("extractor", args.extractor), ("classifier", args.classifier)):
                    target = Path(tmp) / f"{name}-{role}"
                    export_model(source, target, ExportOptions(quantize=quantize))
                    models.append(str(target))
                backends[name] = tuple(models)
        results = {}
        for name, (extractor, classifier) in backends.items():
            pipeline = AbsaPipeline(extractor, classifier, batch_size=args.batch_size)
            passes = measure(pipeline, sentences, args.batch_size, args.repeats)
            results[name] = {"passes": passes, "result": passes[-1]}
            del pipeline
    base = results["pytorch_fp32"]["result"]["sentences_per_s"]
    report = {
        "benchmark": "absa_pipeline",
        "data": "data/semeval2014/Restaurants_Test_Gold.xml (all 800 sentences)",
        "extractor": args.extractor, "classifier": args.classifier, "batch_size": args.batch_size,
        "device": f"cpu ({platform.processor() or platform.machine()})" if not torch.cuda.is_available()
        else torch.cuda.get_device_name(0),
        "torch_threads": torch.get_num_threads(),
        "results": results,
        "sentences_per_s": {name: r["result"]["sentences_per_s"] for name, r in results.items()},
        "ratio_vs_pytorch_fp32": {name: round(r["result"]["sentences_per_s"] / base, 2) for name, r in results.items()},
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

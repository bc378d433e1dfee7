"""Inference speed on the CPU: PyTorch fp32 against ONNX Runtime fp32 and int8 exports of the same classifier,
same run, same pairs (SemEval-2014 restaurants test, 1,120 pairs).

For each backend, in its own process (so that memory and threads do not mix): model load time, pairs/s in
batches through ``Predictor`` (length-sorted batches of 64; the second of two passes), p50 / p99 of one
single-pair ``Predictor.predict`` call (200 calls after 20 warm-up calls), peak RSS, and test accuracy /
macro-F1 with the agreement of its labels with PyTorch's. Prints one JSON object; ratios compare numbers of
this run only.

    flock /tmp/ada-heavy.lock .venv/bin/python benchmarks/bench_inference.py --classifier runs/clf

``--classifier`` is a classifier from ``ada-atsc train`` (default: the demo's plain classifier).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
BACKENDS = ("pytorch_fp32", "onnx_fp32", "onnx_int8")


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss it is not inherited from the parent)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def worker(model_dir: str, threads: int) -> dict:
    """Measure one model directory (PyTorch or export) in this process."""
    import torch

    torch.set_num_threads(threads)
    from ada_atsc import Predictor
    from ada_atsc.atsc.metrics import classification_metrics
    from ada_atsc.core.labels import LABEL2ID
    from ada_atsc.data import read_dataset

    pairs = [e for e in read_dataset(REPO / "data/semeval2014/Restaurants_Test_Gold.xml") if e.polarity != "conflict"]
    started = time.perf_counter()
    predictor = Predictor(model_dir, device="cpu", batch_size=64)
    load_s = time.perf_counter() - started
    requests = [(e.sentence, (e.start, e.end)) for e in pairs]
    passes = []
    for _ in range(2):
        started = time.perf_counter()
        labels = [aspects[0] for aspects in predictor.predict([s for s, _ in requests], [[span] for _, span in requests])]
        passes.append(time.perf_counter() - started)
    single = []
    for i in range(220):
        sentence, span = requests[i % len(requests)]
        started = time.perf_counter()
        predictor.predict(sentence, aspects=[span])
        if i >= 20:
            single.append(1000 * (time.perf_counter() - started))
    single.sort()
    gold = [LABEL2ID[e.polarity] for e in pairs]
    predicted = [LABEL2ID[r["label"]] for r in labels]
    metrics = classification_metrics(gold, predicted)
    return {"load_s": round(load_s, 2), "pairs_per_s": round(len(pairs) / passes[-1], 1),
            "single_p50_ms": round(statistics.median(single), 2), "single_p99_ms": round(single[int(0.99 * len(single))], 2),
            "peak_rss_mb": peak_rss_mb(),
            "accuracy": round(100 * metrics["accuracy"], 2), "macro_f1": round(100 * metrics["macro_f1"], 2),
            "labels": predicted}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classifier", default=str(REPO / "demo_output/classifiers/plain"))
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="threads per backend (default: all cores)")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.threads)))
        return

    from ada_atsc.export import ExportOptions, export_model

    if not Path(args.classifier, "config.json").is_file():
        raise SystemExit(f"{args.classifier}: no classifier there (train one, or run 'make demo' first)")
    with tempfile.TemporaryDirectory() as tmp:
        dirs = {"pytorch_fp32": args.classifier}
        export_s = {}
        for name, quantize in (("onnx_fp32", None), ("onnx_int8", "int8")):
            started = time.perf_counter()
            export_model(args.classifier, Path(tmp) / name, ExportOptions(quantize=quantize))
            export_s[name] = round(time.perf_counter() - started, 1)
            dirs[name] = str(Path(tmp) / name)
        results = {}
        for name in BACKENDS:
            out = subprocess.run([sys.executable, __file__, "--worker", dirs[name], "--threads", str(args.threads)],
                                 check=True, capture_output=True, text=True).stdout
            results[name] = json.loads(out.strip().splitlines()[-1])
    reference = results["pytorch_fp32"].pop("labels")
    for name in BACKENDS[1:]:
        labels = results[name].pop("labels")
        results[name]["label_agreement_with_pytorch"] = round(sum(a == b for a, b in zip(labels, reference)) / len(labels), 4)
        results[name]["export_s"] = export_s[name]
    base = results["pytorch_fp32"]
    report = {
        "benchmark": "inference", "classifier": args.classifier, "pairs": "restaurants test, 1120",
        "device": f"cpu ({platform.processor() or platform.machine()}), {os.cpu_count()} cores",
        "threads": args.threads, "results": results,
        "ratios_vs_pytorch_fp32": {name: {"pairs_per_s": round(results[name]["pairs_per_s"] / base["pairs_per_s"], 2),
                                          "single_p50": round(results[name]["single_p50_ms"] / base["single_p50_ms"], 2)}
                                   for name in BACKENDS[1:]},
        "accuracy_delta_points": {name: round(results[name]["accuracy"] - base["accuracy"], 2) for name in BACKENDS[1:]},
        "macro_f1_delta_points": {name: round(results[name]["macro_f1"] - base["macro_f1"], 2) for name in BACKENDS[1:]},
    }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()

"""ATSC speed benchmark: the 2019 recipe (every batch padded to 128, fp32, random order) versus ours
(``train``'s defaults: the aspect-marked input, batches padded to their longest member, grouped by length,
bf16 on a GPU that has it), both through the
same training code on the restaurants training data with the packaged MiniLM, in one run; plus inference
throughput (pairs/s in batches) and the median latency of one ``Predictor.predict`` call.

Prints one JSON object; ratios compare numbers measured in this run only.

    flock /tmp/ada-heavy.lock .venv/bin/python benchmarks/bench_atsc.py --steps 30
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def train_speed(model: str, splits, steps: int, batch: int, baseline: bool, workdir: Path) -> dict:
    import torch

    from ada_atsc.atsc.training import run_training
    from ada_atsc.commands.train import build_parser, paper_defaults, training_options

    argv = ["--model_name_or_path", model, "--output_dir", str(workdir / ("baseline" if baseline else "ours")),
            "--do_train", "--max_steps", str(steps), "--per_gpu_train_batch_size", str(batch),
            "--logging_steps", str(10**6), "--seed", "42", "--disable_tqdm", "--max_seq_length", "128"]
    if baseline:
        argv.append("--pad_to_max_length")
    elif torch.cuda.is_available() and torch.cuda.is_bf16_supported():
        argv.append("--bf16")
    parser = paper_defaults(build_parser()) if baseline else build_parser()  # the 2019 input, or train's default
    results = run_training(training_options(parser.parse_args(argv)), splits=splits)
    return {"samples_per_s": results["train_samples_per_second"], "seconds": results["train_runtime_s"],
            "steps": steps, "batch": batch, "precision": results["precision"],
            "padding": "128 (fixed)" if baseline else "longest in batch, length-grouped"}


def inference_speed(model_dir: Path, examples, repeats: int) -> dict:
    from ada_atsc import Predictor

    predictor = Predictor(model_dir)
    sentences = [e.sentence for e in examples]
    aspects = [[e.aspect] for e in examples]
    predictor.predict(sentences[:64], aspects[:64])  # warm-up
    start = time.perf_counter()
    predictor.predict(sentences, aspects)
    batched = len(sentences) / (time.perf_counter() - start)
    latencies = []
    for i in range(repeats):
        start = time.perf_counter()
        predictor.predict(sentences[i], aspects=aspects[i])
        latencies.append(time.perf_counter() - start)
    return {"pairs_per_s_batched": round(batched, 1), "batch_size": predictor.batch_size,
            "single_predict_median_ms": round(1000 * statistics.median(latencies), 2), "single_calls": repeats,
            "pairs": len(sentences)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30, help="training steps per configuration")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--latency_calls", type=int, default=30)
    parser.add_argument("--model", default=None, help="default: the packaged MiniLM")
    args = parser.parse_args()

    import torch

    from ada_atsc.atsc.datasets import Splits, drop_conflict
    from ada_atsc.data.readers import read_dataset
    from ada_atsc.runtime.models import packaged_minilm_path

    model = args.model or packaged_minilm_path()
    train_file = REPO / "data/semeval2014/Restaurants_Train_v2.xml"
    test_file = REPO / "data/semeval2014/Restaurants_Test_Gold.xml"
    train = drop_conflict(read_dataset(train_file), train_file)
    test = drop_conflict(read_dataset(test_file), test_file)
    splits = Splits(train=train, sources={"train": str(train_file)})
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        baseline = train_speed(model, splits, args.steps, args.batch, True, work)
        ours = train_speed(model, splits, args.steps, args.batch, False, work)
        inference = inference_speed(work / "ours", test, args.latency_calls)
    report = {
        "benchmark": "atsc",
        "data": {"train": str(train_file.relative_to(REPO)), "train_pairs": len(train), "test_pairs": len(test)},
        "model": "packaged MiniLM (all-MiniLM-L6-v2)" if args.model is None else args.model,
        "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else f"cpu ({platform.processor() or platform.machine()})",
        "torch_threads": torch.get_num_threads(),
        "train": {"baseline_2019": baseline, "ours": ours,
                  "speedup": round(ours["samples_per_s"] / baseline["samples_per_s"], 2)},
        "inference": inference,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

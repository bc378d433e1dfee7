"""Where an int8 classifier export spends its time, and whether other fusions of the same graph run faster.

1. ONNX Runtime's profiler on the shipped int8 export (``--export``): each operator type's share of the kernel
   time over the restaurants test pairs (batches of 64, the batches ``Predictor`` makes).
2. The PyTorch classifier (``--classifier``) traced once, then optimised with one fusion left out or changed at a
   time and quantised as ``export`` does; each variant's batched pairs/s on those same batches (session time
   only, best of ``--rounds`` alternating rounds) and how often its labels agree with the first variant's.

Prints one JSON object. Ratios compare numbers of this run only.

    flock /tmp/ada-heavy.lock .venv/bin/python benchmarks/bench_int8_variants.py \\
        --classifier demo_output/classifiers/plain --export work/clf-int8
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
FUSION_VARIANTS = {"shipped": {}, "no_skip_layer_norm": {"enable_skip_layer_norm": False},
                   "no_bias_gelu": {"enable_bias_gelu": False}, "tanh_gelu": {"enable_gelu_approximation": True},
                   "no_attention_fusion": {"enable_attention": False}}


def test_batches(export: str) -> list[dict]:
    """The numpy feeds ``Predictor`` gives the session for the restaurants test pairs, in its order."""
    from ada_atsc import Predictor
    from ada_atsc.data import read_dataset

    pairs = [e for e in read_dataset(REPO / "data/semeval2014/Restaurants_Test_Gold.xml") if e.polarity != "conflict"]
    predictor = Predictor(export, device="cpu", batch_size=64)
    feeds: list[dict] = []
    run = predictor.model.session.run
    predictor.model.session.run = lambda names, feed: feeds.append(feed) or run(names, feed)
    predictor.predict([e.sentence for e in pairs], [[(e.start, e.end)] for e in pairs])
    return feeds


def session(path: Path, threads: int, profile: bool = False):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # as OnnxModel
    if profile:
        options.enable_profiling = True
        options.profile_file_prefix = str(Path(tempfile.gettempdir()) / "ada_int8_profile")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def operator_shares(export: Path, feeds: list[dict], threads: int) -> dict:
    """Each operator type's share (%) of the kernel time of one pass, after a warm-up pass."""
    from machine_peak import operator_shares as shares

    return shares(export / "model.onnx", feeds, threads)


def build_variants(classifier: str, work: Path) -> dict[str, Path]:
    from onnxruntime.transformers.fusion_options import FusionOptions
    from onnxruntime.transformers.optimizer import optimize_model

    from ada_atsc.export.exporter import load_for_export, quantise, trace_to_onnx

    _, model, _, sample = load_for_export(Path(classifier))
    raw = work / "raw.onnx"
    trace_to_onnx(model, sample, raw, 17, per_token=False)
    built = {}
    for name, changes in FUSION_VARIANTS.items():
        fusion = FusionOptions("bert")
        for key, value in changes.items():
            setattr(fusion, key, value)
        optimised = optimize_model(str(raw), model_type="bert", num_heads=model.config.num_attention_heads,
                                   hidden_size=model.config.hidden_size, optimization_options=fusion)
        optimised.save_model_to_file(str(work / f"{name}.fp32.onnx"))
        quantise(work / f"{name}.fp32.onnx", work / f"{name}.onnx")
        built[name] = work / f"{name}.onnx"
    return built


def main() -> None:
    import numpy as np

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classifier", default=str(REPO / "demo_output/classifiers/plain"))
    parser.add_argument("--export", required=True, help="the int8 export of --classifier ('ada-atsc export')")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()

    feeds = test_batches(args.export)
    pairs = sum(len(feed["input_ids"]) for feed in feeds)
    shares = operator_shares(Path(args.export), feeds, args.threads)
    with tempfile.TemporaryDirectory() as work:
        sessions = {name: session(path, args.threads) for name, path in build_variants(args.classifier, Path(work)).items()}
        seconds: dict[str, list[float]] = {name: [] for name in sessions}
        labels: dict[str, np.ndarray] = {}
        for _ in range(args.rounds):
            for name, sess in sessions.items():
                started = time.perf_counter()
                logits = [sess.run(["logits"], feed)[0] for feed in feeds]
                seconds[name].append(time.perf_counter() - started)
                labels[name] = np.concatenate(logits).argmax(-1)
    first = next(iter(labels.values()))
    variants = {name: {"pairs_per_s": round(pairs / min(times), 1),
                       "labels_as_shipped": round(float(np.mean(labels[name] == first)), 4)}
                for name, times in seconds.items()}
    print(json.dumps({"benchmark": "int8_variants", "pairs": pairs, "threads": args.threads,
                      "operator_time_share_percent": shares, "variants": variants}, indent=2))


if __name__ == "__main__":
    main()

"""Static against dynamic int8 for a token tagger (an extractor or a unified tagger), in one run.

Dynamic int8 (what ``export --quantize int8`` ships) quantises the activations of every matmul per batch, at
run time; static int8 fixes their scales once, from calibration text (here: review sentences of the
SemEval-2014 restaurants training file, never the test), and runs ONNX Runtime's QDQ graph. Measured on the
800 restaurants test sentences (length-sorted batches of 32, 2 threads, the three graphs alternating
``--repeats`` times): sentences/s and the share of words whose tag equals the fp32 graph's. Writes one JSON
object.

    flock /tmp/ada-heavy.lock .venv/bin/python benchmarks/bench_static_int8.py --model runs/unified/... \\
        --output docs/results/bench_static_int8.json
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))


def main() -> None:
    from bench_output import emit

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a token tagger (train --task ate or --task unified)")
    parser.add_argument("--calibration_sentences", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--output")
    args = parser.parse_args()

    import onnxruntime as ort
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process
    from transformers import AutoTokenizer

    from ada_atsc.data.readers import read_sentences
    from ada_atsc.export import ExportOptions, export_model

    tokenizer = AutoTokenizer.from_pretrained(args.model)
    calibration = [s.sentence for s in read_sentences(REPO / "data/semeval2014/Restaurants_Train_v2.xml")]
    calibration = calibration[: args.calibration_sentences]
    test = [s.sentence for s in read_sentences(REPO / "data/semeval2014/Restaurants_Test_Gold.xml")]
    keys = ("input_ids", "attention_mask", "token_type_ids")

    def batches(sentences: list[str], size: int) -> list[dict]:
        enc = tokenizer(sentences)
        lengths = [len(ids) for ids in enc["input_ids"]]
        order = sorted(range(len(sentences)), key=lambda i: lengths[i])
        out = []
        for at in range(0, len(order), size):
            rows = order[at : at + size]
            longest = max(lengths[i] for i in rows)
            out.append({k: np.array([enc[k][i] + [0] * (longest - lengths[i]) for i in rows], dtype=np.int64)
                        for k in keys if k in enc})
        return out

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.items = iter(batches(calibration, 16))

        def get_next(self):
            return next(self.items, None)

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        export_model(args.model, tmp / "fp32", ExportOptions(optimize=False))
        export_model(args.model, tmp / "dynamic", ExportOptions(quantize="int8"))
        quant_pre_process(str(tmp / "fp32/model.onnx"), str(tmp / "pre.onnx"), skip_symbolic_shape=True)
        started = time.perf_counter()
        quantize_static(str(tmp / "pre.onnx"), str(tmp / "static.onnx"), Reader(), quant_format=QuantFormat.QDQ,
                        per_channel=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        calibrate_method=CalibrationMethod.MinMax, op_types_to_quantize=["MatMul", "Gemm"])
        calibrate_s = time.perf_counter() - started
        options = ort.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = args.threads, 1
        sessions = {name: ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
                    for name, path in (("fp32", tmp / "fp32/model.onnx"), ("dynamic_int8", tmp / "dynamic/model.onnx"),
                                       ("static_int8", tmp / "static.onnx"))}
        feeds = batches(test, 32)
        rates: dict[str, list[float]] = {name: [] for name in sessions}
        tags = {}
        for _ in range(args.repeats):
            for name, session in sessions.items():
                started = time.perf_counter()
                logits = [session.run(None, feed)[0] for feed in feeds]
                rates[name].append(round(len(test) / (time.perf_counter() - started), 1))
                tags[name] = np.concatenate([(lg.argmax(-1) * f["attention_mask"]).ravel() for lg, f in zip(logits, feeds)])
    words = np.concatenate([f["attention_mask"].ravel() for f in feeds]).astype(bool)
    report = {"benchmark": "static_vs_dynamic_int8", "model": args.model, "threads": args.threads,
              "calibration": f"{len(calibration)} SemEval-2014 restaurants training sentences",
              "calibration_seconds": round(calibrate_s, 1), "sentences": len(test),
              "sentences_per_s": rates, "best": {name: max(r) for name, r in rates.items()},
              "tokens_tagged_as_fp32": {name: round(float((tags[name][words] == tags["fp32"][words]).mean()), 4)
                                        for name in ("dynamic_int8", "static_int8")}}
    emit(report, args.output)


if __name__ == "__main__":
    main()

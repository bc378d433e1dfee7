"""What this machine can do, measured in the run that uses it: the matmul peak in fp32 and in int8, and the
FLOPs a BERT encoder spends on the batches it is given.

A throughput means little without the ceiling beside it: ``fraction_of_peak = useful FLOP/s / peak FLOP/s``.
Both peaks are measured here, in ONNX Runtime (the backend the fast paths use) and in PyTorch, on matrices
shaped like an encoder's work (tokens x hidden x feed-forward), keeping the best of a few shapes and repeats.
int8 is ONNX Runtime's ``MatMulInteger`` (uint8 activations x int8 weights, int32 accumulation): the kernel
dynamic and static int8 exports run.

FLOPs of an encoder pass (multiply-add = 2 FLOP), per layer over a batch of ``B`` sequences of ``L`` tokens with
hidden size ``d`` and feed-forward size ``f``: projections ``8·B·L·d²``, feed-forward ``4·B·L·d·f``,
attention ``4·B·L²·d``. all-MiniLM-L6-v2 (d 384, f 1536, 6 layers): about 21 MFLOP per token.
"""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

SHAPES = ((1024, 384, 1536), (2048, 384, 384), (1024, 1024, 1024))
"""(M, K, N) of the timed matmuls: a batch's tokens x hidden x feed-forward, the projections, a square."""


def _best_rate(run, flop: float, seconds: float = 1.0) -> float:
    """Best FLOP/s of ``run()`` over repeats for about ``seconds`` (after a warm-up call)."""
    run()
    best, spent = 0.0, 0.0
    while spent < seconds:
        started = time.perf_counter()
        run()
        took = time.perf_counter() - started
        spent += took
        best = max(best, flop / took)
    return best


def _ort_matmul_session(m: int, k: int, n: int, int8: bool, threads: int):
    import onnxruntime
    from onnx import TensorProto, helper

    rng = np.random.default_rng(0)
    if int8:
        weight = helper.make_tensor("W", TensorProto.INT8, (k, n), rng.integers(-127, 127, (k, n), dtype=np.int8)
                                    .tobytes(), raw=True)
        node = helper.make_node("MatMulInteger", ["A", "W"], ["Y"])
        inputs = [helper.make_tensor_value_info("A", TensorProto.UINT8, (m, k))]
        outputs = [helper.make_tensor_value_info("Y", TensorProto.INT32, (m, n))]
    else:
        weight = helper.make_tensor("W", TensorProto.FLOAT, (k, n), rng.standard_normal((k, n), dtype=np.float32)
                                    .tobytes(), raw=True)
        node = helper.make_node("MatMul", ["A", "W"], ["Y"])
        inputs = [helper.make_tensor_value_info("A", TensorProto.FLOAT, (m, k))]
        outputs = [helper.make_tensor_value_info("Y", TensorProto.FLOAT, (m, n))]
    graph = helper.make_graph([node], "peak", inputs, outputs, initializer=[weight])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    a = (rng.integers(0, 255, (m, k), dtype=np.uint8) if int8 else rng.standard_normal((m, k), dtype=np.float32))
    return lambda: session.run(None, {"A": a})


def measure_peaks(threads: int, seconds: float = 1.0) -> dict:
    """``{"fp32_gflops": ..., "int8_gops": ..., "detail": {...}}``: the best rate of each kind over
    :data:`SHAPES`, fp32 the better of ONNX Runtime and PyTorch."""
    import torch

    torch.set_num_threads(threads)
    detail = {}
    for m, k, n in SHAPES:
        flop = 2.0 * m * k * n
        a, w = torch.randn(m, k), torch.randn(k, n)
        detail[f"{m}x{k}x{n}"] = {
            "torch_fp32_gflops": round(_best_rate(lambda a=a, w=w: torch.matmul(a, w), flop, seconds) / 1e9, 1),
            "ort_fp32_gflops": round(_best_rate(_ort_matmul_session(m, k, n, False, threads), flop, seconds) / 1e9, 1),
            "ort_int8_gops": round(_best_rate(_ort_matmul_session(m, k, n, True, threads), flop, seconds) / 1e9, 1),
        }
    return {"fp32_gflops": max(max(d["torch_fp32_gflops"], d["ort_fp32_gflops"]) for d in detail.values()),
            "int8_gops": max(d["ort_int8_gops"] for d in detail.values()), "threads": threads, "detail": detail}


def encoder_flops(config, batch: int, length: int) -> float:
    """FLOPs of one encoder pass over ``batch`` sequences of ``length`` tokens (formula above)."""
    d, f, layers = config.hidden_size, config.intermediate_size, config.num_hidden_layers
    return float(layers * batch * (8 * length * d * d + 4 * length * d * f + 4 * length * length * d))


class FlopCounter:
    """Wraps a model (PyTorch or ONNX) and adds up the FLOPs of what it is given: ``executed`` over the padded
    batch (what the machine computes) and ``useful`` over the real tokens (what the attention mask keeps)."""

    def __init__(self, model):
        self._model = model
        self.reset()

    def reset(self, keep_feeds: bool = False) -> None:
        self.feeds: list[dict] | None = [] if keep_feeds else None
        self.executed = 0.0
        self.useful = 0.0
        self.passes = 0
        self.seconds = 0.0

    def __getattr__(self, name):
        return getattr(self._model, name)

    def __call__(self, **batch):
        ids = batch["input_ids"]
        size, length = ids.shape[0], ids.shape[1]
        self.executed += encoder_flops(self._model.config, size, length)
        mask = batch.get("attention_mask")
        lengths = np.asarray(mask.sum(axis=1) if mask is not None else [length] * size).reshape(-1)
        self.useful += sum(encoder_flops(self._model.config, 1, int(n)) for n in lengths)
        self.passes += size
        if self.feeds is not None:
            self.feeds.append(dict(batch))
        started = time.perf_counter()
        out = self._model(**batch)
        self.seconds += time.perf_counter() - started
        return out


def counted(flops: list[FlopCounter]) -> SimpleNamespace:
    return SimpleNamespace(executed=sum(c.executed for c in flops), useful=sum(c.useful for c in flops),
                           sequences=sum(c.passes for c in flops), seconds=sum(c.seconds for c in flops))


def operator_shares(onnx_file: str | Path, feeds: list[dict], threads: int) -> dict[str, float]:
    """Each operator type's share (%) of ONNX Runtime's kernel time over ``feeds`` (its own profiler, after a
    warm-up pass): where an export's time goes."""
    import collections
    import json
    import tempfile

    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # as the project's OnnxModel
    options.enable_profiling = True
    options.profile_file_prefix = str(Path(tempfile.gettempdir()) / "ada_operator_profile")
    session = ort.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
    names = {i.name for i in session.get_inputs()}
    for _ in range(2):
        for feed in feeds:
            session.run(None, {k: v for k, v in feed.items() if k in names})
    trace = Path(session.end_profiling())
    micros: collections.Counter = collections.Counter()
    for event in json.loads(trace.read_text()):
        if event.get("cat") == "Node" and event["name"].endswith("_kernel_time"):
            micros[event["args"]["op_name"]] += event["dur"]
    trace.unlink()
    total = sum(micros.values()) or 1
    return {op: round(100 * t / total, 1) for op, t in micros.most_common()}

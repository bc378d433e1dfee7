"""Raw sentences in, aspects with their sentiment out: the wave-2 pipeline against the unified tagger, on the same
sentences in one run, with the work each does and how much of this machine it uses.

Configurations, alternating pass by pass so that a noisy neighbour hurts all alike:

* ``wave2``: the wave-2 pipeline exactly as it ran: a MiniLM extractor and a per-aspect classifier (one
  extraction pass per sentence, one classifier pass per aspect found), both ONNX int8, calls of 32 texts,
  batches capped in rows alone (the baseline);
* ``baseline@N``: the same models with this wave's batching (length-sorted, capped in padded tokens too:
  ``runtime.batching.TOKENS_PER_ROW``), calls of N texts;
* ``unified@N``: one MiniLM model that tags each aspect with its polarity (``train --task unified``: one pass
  per sentence), ONNX int8 the same way, calls of N texts.

On the SemEval-2014 restaurants test sentences (800): sentences/s (the best of ``--repeats`` passes), joint F1
(exact span and polarity), the FLOPs per sentence each executed (padded batches) and needed (real tokens), the
share of the time spent inside the encoder calls, the fraction of this machine's int8 matmul peak measured in
the same run (``machine_peak.py``), and the unified export's operator profile (ONNX Runtime's profiler).
Writes one JSON object.

    flock /tmp/ada-heavy.lock .venv/bin/python benchmarks/bench_absa.py --output docs/results/bench_absa.json \\
        [--extractor DIR --classifier DIR --unified DIR]

Without models it trains what it needs at small budgets first (``--train_steps`` for each pipeline model, their
sum for the unified tagger: the same training budget per system; last step, no dev selection; under
``--work_dir``): lower scores than the 3-seed study's models (``scripts/unified_table.py``), but comparable.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

TEST_XML = REPO / "data/semeval2014/Restaurants_Test_Gold.xml"
TRAIN_XML = REPO / "data/semeval2014/Restaurants_Train_v2.xml"


def train_missing(work: Path, steps: int) -> dict[str, str]:
    """The three models at a small budget (same encoder, data, steps and seed for each), made once."""
    from ada_atsc.cli import main as cli
    from ada_atsc.runtime.models import packaged_minilm_path

    data = work / "data"
    if not (data / "test.sentences.jsonl").is_file():
        for xml, extra in ((TRAIN_XML, ["--istrain"]), (TEST_XML, [])):
            if cli(["prepare-semeval", "--files", str(xml), "--output_dir", str(data), *extra]) != 0:
                raise SystemExit("prepare-semeval failed")
    def recipe(budget: int) -> list[str]:
        return ["--model", str(packaged_minilm_path()), "--data_dir", str(data), "--do_train", "--max_steps",
                str(budget), "--warmup_steps", str(budget // 10), "--learning_rate", "5e-5",
                "--per_device_train_batch_size", "32", "--seed", "1", "--disable_tqdm"]

    models = {}
    # the same training budget for each system: the pipeline's two models get `steps` each, the unified tagger
    # (one model doing both jobs) their sum
    for role, task, budget in (("extractor", "ate", steps), ("classifier", "atsc", steps),
                               ("unified", "unified", 2 * steps)):
        out = work / f"{role}-{budget}"
        if not (out / "config.json").is_file():
            print(f"training the {role} ({budget} steps)", file=sys.stderr)
            if cli(["train", "--task", task, *recipe(budget), "--output_dir", str(out)]) != 0:
                raise SystemExit(f"training the {role} failed")
        models[role] = str(out)
    return models


def export_int8(source: str, target: Path) -> str:
    from ada_atsc.export import ExportOptions, export_model

    if not (target / "model.onnx").is_file():
        export_model(source, target, ExportOptions(quantize="int8", overwrite=True))
    return str(target)


def one_pass(pipeline, sentences: list[str], batch_size: int) -> tuple[float, list[list[dict]]]:
    started = time.perf_counter()
    found = []
    for at in range(0, len(sentences), batch_size):
        found += [r.get("aspects", []) for r in pipeline.predict(sentences[at : at + batch_size])]
    return time.perf_counter() - started, found


def main() -> None:
    from bench_output import emit

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extractor", help="the baseline's extractor (train --task ate); default: trained here")
    parser.add_argument("--classifier", help="the baseline's classifier (train); default: trained here")
    parser.add_argument("--unified", help="the unified tagger (train --task unified); default: trained here")
    parser.add_argument("--work_dir", default=str(REPO / "runs/bench_absa"), help="models trained and exported here")
    parser.add_argument("--train_steps", type=int, default=400, help="budget of each model trained here")
    parser.add_argument("--batch_size", type=int, default=32, help="sequences per encoder call")
    parser.add_argument("--call_sizes", type=int, nargs="+", default=[32, 256],
                        help="texts per call of AbsaPipeline.predict (the first is the baseline's, as in wave 2); "
                             "a call's sentences are length-sorted before batching, so larger calls pad less")
    parser.add_argument("--repeats", type=int, default=3, help="timed passes of each system (after a warm-up)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="CPU threads of each backend")
    parser.add_argument("--output", help="write the JSON here as well as to stdout")
    args = parser.parse_args()
    os.environ["OMP_NUM_THREADS"] = str(args.threads)

    import torch
    from machine_peak import FlopCounter, counted, measure_peaks, operator_shares

    from ada_atsc.absa.pipeline import AbsaPipeline
    from ada_atsc.absa.scores import joint_scores
    from ada_atsc.ate.training import load_sentence_file

    torch.set_num_threads(args.threads)
    work = Path(args.work_dir)
    given = {"extractor": args.extractor, "classifier": args.classifier, "unified": args.unified}
    models = {**(train_missing(work, args.train_steps) if not all(given.values()) else {}),
              **{k: v for k, v in given.items() if v}}
    exports = {role: export_int8(path, work / f"{role}-int8-{hashlib.sha256(str(Path(path).resolve()).encode()).hexdigest()[:12]}")
               for role, path in models.items()}
    gold = load_sentence_file(TEST_XML)
    sentences = [s.sentence for s in gold]

    systems = {"baseline": AbsaPipeline(exports["extractor"], exports["classifier"], batch_size=args.batch_size),
               "unified": AbsaPipeline(exports["unified"], batch_size=args.batch_size)}
    counters = {}
    for name, pipeline in systems.items():
        parts = [p for p in (pipeline.extractor, pipeline.classifier, pipeline.unified) if p is not None]
        counters[name] = [FlopCounter(part.model) for part in parts]
        for part, counter in zip(parts, counters[name]):
            part.model = counter

    from ada_atsc.runtime import batching

    budget = batching.TOKENS_PER_ROW
    # (label, system, texts per call, token budget on): the first is the wave-2 pipeline exactly as it ran
    configs = [("wave2", "baseline", args.call_sizes[0], False)]
    configs += [(f"{name}@{size}", name, size, True) for name in systems for size in args.call_sizes]
    seconds: dict[str, list] = {c[0]: [] for c in configs}
    encoder_seconds: dict[str, list] = {c[0]: [] for c in configs}
    flops_of, found = {}, {}
    for repeat in range(args.repeats + 1):  # the first pass warms up; the configurations alternate
        for label, name, size, budgeted in configs:
            batching.TOKENS_PER_ROW = budget if budgeted else 10**9  # off: batches capped in rows alone
            for counter in counters[name]:
                counter.reset()
            took, found[label] = one_pass(systems[name], sentences, size)
            flops_of[label] = counted(counters[name])  # every pass of a configuration runs the same batches
            if repeat:
                seconds[label].append(took)
                encoder_seconds[label].append(flops_of[label].seconds)
    batching.TOKENS_PER_ROW = budget

    for counter in counters["unified"]:  # one more pass, to replay its batches under ONNX Runtime's profiler
        counter.reset(keep_feeds=True)
    one_pass(systems["unified"], sentences, max(args.call_sizes))
    profile = operator_shares(Path(exports["unified"]) / "model.onnx", counters["unified"][0].feeds, args.threads)
    peaks = measure_peaks(args.threads)
    results = {}
    for label, name, size, budgeted in configs:
        best = min(seconds[label])
        scores = joint_scores(gold, found[label])
        flops = flops_of[label]
        at = seconds[label].index(best)
        per_sentence = flops.useful / len(sentences)
        results[label] = {
            "system": name, "texts_per_call": size, "token_budget": budgeted,
            "sentences_per_s": round(len(sentences) / best, 1),
            "seconds": [round(t, 2) for t in seconds[label]],
            "joint_f1": round(100 * scores["joint"]["f1"], 2), "extraction_f1": round(100 * scores["ate"]["f1"], 2),
            "aspects_found": sum(len(a) for a in found[label]),
            "share_in_encoder_calls": round(encoder_seconds[label][at] / best, 3),
            "encoder_sequences": flops.sequences,
            "gflop_per_sentence_useful": round(per_sentence / 1e9, 3),
            "gflop_per_sentence_executed": round(flops.executed / len(sentences) / 1e9, 3),
            "useful_gflops": round(per_sentence * len(sentences) / best / 1e9, 1),
            "fraction_of_int8_peak": round(flops.useful / best / (peaks["int8_gops"] * 1e9), 3),
            "fraction_of_int8_peak_executed": round(flops.executed / best / (peaks["int8_gops"] * 1e9), 3),
        }
    baseline = results["wave2"]
    new_label = max((c[0] for c in configs if c[1] == "unified"), key=lambda c: results[c]["sentences_per_s"])
    new = results[new_label]
    report = {
        "benchmark": "absa_pipeline_vs_unified",
        "data": f"{TEST_XML.relative_to(REPO)} (all {len(sentences)} sentences)",
        "models": models, "exports": "ONNX int8 (dynamic, per channel) for both systems",
        "batch_size": args.batch_size, "threads": args.threads,
        "device": f"cpu ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)",
        "machine_peak": peaks,
        "results": results,
        "unified_int8_operator_shares_percent": profile,
        "baseline": "wave2", "new_default": new_label,
        "baseline_sentences_per_s": baseline["sentences_per_s"],
        "sentences_per_s": new["sentences_per_s"],
        "speedup": round(new["sentences_per_s"] / baseline["sentences_per_s"], 2),
        "baseline_joint_f1": baseline["joint_f1"],
        "joint_f1": new["joint_f1"],
        "fraction_of_int8_peak": new["fraction_of_int8_peak"],
        "baseline_fraction_of_int8_peak": baseline["fraction_of_int8_peak"],
    }
    emit(report, args.output)


if __name__ == "__main__":
    main()

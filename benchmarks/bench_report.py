"""The report against its model, in one run: ``ada-atsc report`` over many reviews with a tagger bundle, against
the bundle's tagger alone over the same sentences.

1. **The tagger alone.** Every review is split into sentences as the report splits them (not timed), and the
   sentences go through the model the bundle runs (its int8 export when it has one) in calls of
   ``--call_size``, in each setting of ``--alone``: ``1xN`` one process with all N threads, ``Kx1`` K processes of
   one thread each, every process taking an equal share of the sentences. The fastest setting is the baseline.
2. **The report**: ``ada-atsc report --model BUNDLE --workers W`` as a user runs it, wall clock from start to
   exit (reading, splitting, the model, grouping, counting, the three files), peak RSS of the command and its
   workers sampled every 0.5 s.

Writes one JSON object: both times, their ratio (the report's overhead over its model), sentences/s, RSS.

    flock /tmp/ada-heavy.lock .venv/bin/python benchmarks/bench_report.py --bundle runs/hotels_tagger \\
        --input data/corpora/hotel_reviews_opinrank.jsonl.gz --entity_field hotel --workers 2 \\
        --output docs/results/bench_report.json
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def input_sentences(path: str, limit: int | None) -> tuple[int, list[str]]:
    """(reviews, their sentences) of a review file, split as the report splits them."""
    from ada_atsc.core.sentences import sentence_offsets
    from ada_atsc.core.textio import iter_texts

    reviews, sentences = 0, []
    for record in iter_texts(path):
        text = getattr(record, "text", None)
        if not isinstance(text, str) or not text.strip():
            continue
        reviews += 1
        sentences.extend(text[a:b] for a, b in sentence_offsets(text))
        if limit and reviews >= limit:
            break
    return reviews, sentences


def _tag_share(model: str, sentences: list[str], threads: int, call_size: int, batch_size: int, queue) -> None:
    """One process of the tagger-alone measurement: threads pinned, model loaded, its share tagged, timed."""
    os.environ["OMP_NUM_THREADS"] = str(threads)
    import torch

    torch.set_num_threads(threads)
    from ada_atsc.absa.unified import UnifiedTagger

    tagger = UnifiedTagger(model, batch_size=batch_size)
    tagger.tag(sentences[:32])  # warm-up
    started = time.perf_counter()
    aspects = 0
    for at in range(0, len(sentences), call_size):
        aspects += sum(len(found) for found in tagger.tag(sentences[at : at + call_size]))
    queue.put((time.perf_counter() - started, aspects))


def tagger_alone(model: str, sentences: list[str], processes: int, threads: int, call_size: int,
                 batch_size: int) -> dict:
    """Wall clock of ``processes`` processes of ``threads`` threads tagging equal shares of ``sentences``
    (the slowest process's time: they start together once loaded)."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    share = -(-len(sentences) // processes)
    workers = [context.Process(target=_tag_share, args=(model, sentences[k * share : (k + 1) * share], threads,
                                                        call_size, batch_size, queue))
               for k in range(processes)]
    for worker in workers:
        worker.start()
    results = [queue.get() for _ in workers]
    for worker in workers:
        worker.join()
    seconds = max(r[0] for r in results)
    return {"setting": f"{processes}x{threads}", "seconds": round(seconds, 1),
            "sentences_per_s": round(len(sentences) / seconds, 1), "aspects": sum(r[1] for r in results)}


def run_report(bundle: str, source: str, workers: int, entity_field: str | None, out: Path) -> dict:
    """``ada-atsc report`` as a user runs it; wall clock and the process tree's peak RSS."""
    import psutil

    argv = [sys.executable, "-m", "ada_atsc", "report", "--input", source, "--model", bundle, "--output_dir",
            str(out), "--overwrite_output_dir", "--workers", str(workers), "--no_progress",
            *(["--entity_field", entity_field] if entity_field else [])]
    started = time.perf_counter()
    process = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    root = psutil.Process(process.pid)
    peak = 0
    while process.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.5)
    stdout, stderr = process.communicate()
    seconds = time.perf_counter() - started
    if process.returncode:
        raise SystemExit(f"report failed ({process.returncode}): {stderr.decode(errors='replace')[-600:]}")
    return {"seconds": round(seconds, 1), "peak_rss_mb": round(peak / 2**20),
            "printed": json.loads(stdout.decode().strip().splitlines()[-1]), "workers": workers}


def machine() -> dict:
    """What the figures were measured on."""
    return {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()}


def emit(result: dict, output: str | None) -> None:
    """Print ``result`` as JSON and, with ``output``, write it there (a temporary name, then a rename)."""
    text = json.dumps(result, indent=2)
    print(text)
    if output:
        target = Path(output)
        partial = target.with_name(target.name + ".partial")
        partial.write_text(text + "\n", encoding="utf-8")
        partial.replace(target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", required=True, help="a tagger bundle ('ada-atsc adapt')")
    parser.add_argument("--input", required=True, help="the reviews (any format report reads)")
    parser.add_argument("--entity_field", default=None)
    parser.add_argument("--workers", type=int, default=2, help="the report's --workers")
    parser.add_argument("--alone", nargs="+", default=["1x2", "2x1"],
                        help="tagger-alone settings, PROCESSESxTHREADS (the fastest is the baseline)")
    parser.add_argument("--call_size", type=int, default=256, help="sentences per tagger call (bench_absa's best)")
    parser.add_argument("--batch_size", type=int, default=32, help="sequences per encoder call")
    parser.add_argument("--limit", type=int, default=None, help="only the first N reviews (a quick check)")
    parser.add_argument("--output", help="also write the JSON here")
    args = parser.parse_args()

    from ada_atsc.runtime.model_dir import bundle_kind, bundle_parts

    if bundle_kind(args.bundle) != "tagger":
        raise SystemExit(f"{args.bundle}: not a tagger bundle")
    model = bundle_parts(args.bundle)[0]
    source = args.input
    with tempfile.TemporaryDirectory() as scratch:
        if args.limit:  # the first N reviews as their own file, so that the report reads the same ones
            from ada_atsc.core.textio import iter_texts

            source = str(Path(scratch) / "reviews.jsonl")
            with open(source, "w", encoding="utf-8") as handle:
                for n, record in enumerate(iter_texts(args.input)):
                    if n >= args.limit:
                        break
                    handle.write(json.dumps({"id": record.id, "text": record.text, **(record.fields or {})}) + "\n")
        reviews, sentences = input_sentences(source, None)
        alone = []
        for setting in args.alone:
            processes, threads = (int(x) for x in setting.split("x"))
            alone.append(tagger_alone(model, sentences, processes, threads, args.call_size, args.batch_size))
            print(json.dumps(alone[-1]), file=sys.stderr, flush=True)
        report = run_report(args.bundle, source, args.workers, args.entity_field, Path(scratch) / "report")
    best = min(alone, key=lambda r: r["seconds"])
    result = {
        "benchmark": "report_against_its_model", "bundle": Path(args.bundle).name, "model": Path(model).name,
        "input": Path(args.input).name, "reviews": reviews, "sentences": len(sentences),
        "tagger_alone": alone, "tagger_alone_best": best, "report": report,
        "report_over_tagger_alone": round(report["seconds"] / best["seconds"], 3),
        "report_sentences_per_s": round(len(sentences) / report["seconds"], 1),
        "machine": machine(),
    }
    emit(result, args.output)


if __name__ == "__main__":
    main()

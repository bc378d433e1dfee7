"""Bulk scoring at scale, with a kill in the middle: ``ada-atsc absa --input`` over N review lines built from the
shipped corpora, killed with SIGKILL after ``--kill_after`` seconds, then continued with ``--resume``.

Prints JSON: wall seconds of both runs (model loading included), sentences/s over the whole job, the peak RSS
summed over the command and its workers (sampled every 0.5 s), how many records the killed run had written,
and whether the final output holds every input line exactly once, in order.

    flock /tmp/ada-heavy.lock .venv/bin/python benchmarks/bench_bulk_resume.py --extractor E --classifier C \\
        --lines 100000 --workers 2 --kill_after 600 --work_dir /tmp/bulk100k
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
CORPORA = [REPO / "data" / "corpora" / "restaurant_reviews_zomato.txt",
           REPO / "data" / "corpora" / "electronics_reviews_amazon.txt"]


def build_input(path: Path, lines: int) -> int:
    """``lines`` non-empty review lines, cycling through the shipped corpora; returns their sentence count."""
    from ada_atsc.core.sentences import sentence_offsets

    reviews = [line.strip() for corpus in CORPORA for line in corpus.read_text(encoding="utf-8").splitlines()
               if line.strip()]
    chosen = list(itertools.islice(itertools.cycle(reviews), lines))
    path.write_text("".join(line + "\n" for line in chosen), encoding="utf-8")
    per_review = {review: len(sentence_offsets(review)) for review in reviews}
    return sum(per_review[line] for line in chosen)


def run(argv: list[str], kill_after: float | None) -> dict:
    """Run the command; SIGKILL its whole process group after ``kill_after`` seconds; peak RSS of the tree."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    root = psutil.Process(proc.pid)
    peak = 0
    killed = False
    while proc.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        if kill_after is not None and time.perf_counter() - start > kill_after:
            os.killpg(proc.pid, signal.SIGKILL)
            killed = True
            proc.wait()
            break
        time.sleep(0.5)
    stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    return {"seconds": round(time.perf_counter() - start, 1), "peak_rss_mb": round(peak / 2**20), "killed": killed,
            "returncode": proc.returncode, "stderr_tail": stderr[-500:] if proc.returncode not in (0, -9) else ""}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extractor", required=True)
    parser.add_argument("--classifier", required=True)
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--kill_after", type=float, default=600.0, help="seconds; 0: no kill")
    parser.add_argument("--work_dir", required=True)
    args = parser.parse_args()

    work = Path(args.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    source, output = work / "reviews.txt", work / "aspects.jsonl"
    for stale in (output, Path(f"{output}.partial")):
        stale.unlink(missing_ok=True)
    sentences = build_input(source, args.lines)
    argv = [sys.executable, "-m", "ada_atsc", "absa", "--extractor", args.extractor, "--classifier", args.classifier,
            "--input", str(source), "--output", str(output), "--workers", str(args.workers),
            "--batch_size", str(args.batch_size), "--no_progress"]
    first = run(argv, args.kill_after or None)
    partial = Path(f"{output}.partial")
    written_before_kill = sum(1 for _ in partial.open("rb")) if partial.exists() else None
    second = run([*argv, "--resume"], None) if first["killed"] else None
    numbers = [json.loads(line)["line"] for line in output.open(encoding="utf-8")] if output.exists() else []
    seconds = first["seconds"] + (second["seconds"] if second else 0.0)
    result = {
        "benchmark": "bulk_absa_resume", "lines": args.lines, "sentences": sentences, "workers": args.workers,
        "extractor": args.extractor, "classifier": args.classifier, "first_run": first,
        "records_written_before_kill": written_before_kill, "resumed_run": second,
        "seconds_total": round(seconds, 1), "sentences_per_s": round(sentences / seconds, 1),
        "peak_rss_mb": max(first["peak_rss_mb"], second["peak_rss_mb"] if second else 0),
        "records": len(numbers), "every_line_once_in_order": numbers == list(range(1, args.lines + 1)),
        "partial_left": partial.exists(),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

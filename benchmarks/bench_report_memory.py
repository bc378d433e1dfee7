"""Memory of ``ada-atsc report`` over a long input: RSS of the command (and its workers) sampled every 0.5 s.

Builds an N-line JSONL input (default 100,000 reviews, cycling the shipped restaurant and electronics corpora,
each line with a date and an entity field), runs the report, and prints JSON: the RSS samples' peak, the
median RSS in each quarter of the run, the growth from the second quarter to the last (flat memory: about 0),
seconds and reviews/s. ``--tiny`` trains tiny random models first (seconds; for memory, not for quality).

    flock /tmp/ada-heavy.lock .venv/bin/python benchmarks/bench_report_memory.py --tiny --lines 100000 \\
        --work_dir /tmp/report100k --output docs/results/report_memory.json
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
CORPORA = [REPO / "data" / "corpora" / "restaurant_reviews_zomato.txt",
           REPO / "data" / "corpora" / "electronics_reviews_amazon.txt"]


def build_input(path: Path, lines: int) -> None:
    reviews = [line.strip() for corpus in CORPORA for line in corpus.read_text(encoding="utf-8").splitlines()
               if line.strip()]
    with path.open("w", encoding="utf-8") as handle:
        for k, text in enumerate(itertools.islice(itertools.cycle(reviews), lines)):
            record = {"id": f"r{k}", "date": f"20{10 + k % 10}-{1 + k % 12:02d}-01", "shop": f"shop {k % 50}",
                      "text": text}
            handle.write(json.dumps(record) + "\n")


def tiny_models(work: Path) -> tuple[str, str]:
    """A tiny random extractor and classifier (6 training steps each), as the test suite builds them."""
    sys.path.insert(0, str(REPO))
    from ada_atsc.cli import main as cli_main
    from tests.conftest import FAST, SEMEVAL, build_tiny_bert

    bert = build_tiny_bert(work / "tiny_bert")
    data = work / "data"
    if not (data / "train.jsonl").exists():
        cli_main(["prepare-semeval", "--files", str(SEMEVAL / "Restaurants_Train_v2.xml"), "--istrain", "--noconfl",
                  "--output_dir", str(data), "--overwrite_output_dir"])
    extractor, classifier = work / "extractor", work / "classifier"
    for task, out in (("ate", extractor), ("atsc", classifier)):
        if not out.exists():
            assert cli_main(["train", "--task", task, "--model", str(bert), "--data_dir", str(data), "--output_dir",
                             str(out), "--do_train", *FAST]) == 0
    return str(extractor), str(classifier)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extractor")
    parser.add_argument("--classifier")
    parser.add_argument("--tiny", action="store_true", help="train tiny random models instead (memory only)")
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--work_dir", required=True)
    parser.add_argument("--output", help="also write the JSON here")
    args = parser.parse_args()
    work = Path(args.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    extractor, classifier = tiny_models(work) if args.tiny else (args.extractor, args.classifier)
    source = work / "reviews.jsonl"
    build_input(source, args.lines)
    out = work / "report"
    argv = [sys.executable, "-m", "ada_atsc", "report", "--input", str(source), "--extractor", extractor,
            "--classifier", classifier, "--entity_field", "shop", "--output_dir", str(out), "--overwrite_output_dir",
            "--workers", str(args.workers), "--no_progress"]
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    root = psutil.Process(proc.pid)
    samples: list[tuple[float, int]] = []
    while proc.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
            samples.append((time.perf_counter() - start, sum(p.memory_info().rss for p in tree if p.is_running())))
        except psutil.Error:
            pass
        time.sleep(0.5)
    stdout, stderr = proc.communicate()
    seconds = time.perf_counter() - start
    mb = [rss / 2**20 for _, rss in samples]
    quarters = [statistics.median(mb[len(mb) * q // 4: max(len(mb) * (q + 1) // 4, len(mb) * q // 4 + 1)])
                for q in range(4)] if mb else []
    result = {"benchmark": "report_memory", "lines": args.lines, "workers": args.workers,
              "models": "tiny random (memory only)" if args.tiny else {"extractor": extractor, "classifier": classifier},
              "returncode": proc.returncode, "seconds": round(seconds, 1),
              "reviews_per_s": round(args.lines / seconds, 1), "peak_rss_mb": round(max(mb)) if mb else None,
              "median_rss_mb_per_quarter": [round(q) for q in quarters],
              "growth_mb_second_to_last_quarter": round(quarters[3] - quarters[1]) if quarters else None,
              "report": stdout.decode(errors="replace").strip()[-400:],
              "stderr_tail": stderr.decode(errors="replace")[-400:] if proc.returncode else ""}
    text = json.dumps(result, indent=2)
    print(text)
    if args.output:
        Path(args.output).write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

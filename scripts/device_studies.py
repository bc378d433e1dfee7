#!/usr/bin/env python
"""Run the robustness and extraction studies as many small jobs at once on one GPU machine, within a deadline.

On a 2-core CPU one MiniLM run takes about 10 minutes, so the studies' ~70 runs take half a day; on one GPU
with 16 cores, several runs share the card. Each job is one invocation of ``robustness_study.py`` or
``extraction_study.py`` for one (domain, variant or encoder, seed), started as soon as the jobs it needs have
finished, in the priority order below (the extraction study and the default recipe first, then the other
robustness variants). No job starts when too little time is left for it; at the deadline the running ones are
stopped (their runs are simply missing from the tables: every output folder appears only when complete).
Then both studies' tables are rebuilt and the results (JSON, Markdown, plots, logs; no model weights) are
packed into one archive.

    python scripts/device_studies.py --output_dir /tmp/studies --model /tmp/minilm --jobs 8 --deadline_s 480 \
        --archive $OUT/studies.tar.gz
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import domain_adaptation_study as adaptation  # noqa: E402
import robustness_study as robustness  # noqa: E402

SCRIPTS = Path(__file__).resolve().parent
DOMAINS = ("restaurants", "laptops")
SEEDS = (1, 2, 3)
# robustness variants after the default one, most informative first: (domain, variant)
MORE_VARIANTS = [("restaurants", "paper"), ("laptops", "paper"), ("restaurants", "markers"), ("laptops", "markers"),
                 ("restaurants", "markers_pooling_mams"), ("restaurants", "markers_mams_contrast"),
                 ("restaurants", "markers_mams_only"), ("restaurants", "markers_mams_1600"),
                 ("laptops", "markers_mams_1600"), ("restaurants", "paper_mams"), ("restaurants", "markers_pooling"),
                 ("restaurants", "markers_contrast")]


@dataclass
class Job:
    name: str
    argv: list[str]
    needs: list[str] = field(default_factory=list)
    process: subprocess.Popen | None = None
    started: float = 0.0
    status: str = "waiting"  # waiting, running, done, failed, skipped


def plan(out: Path, model: str, smoke: bool) -> list[Job]:
    """Every job of both studies, in priority order."""
    robust_dir, extraction_dir = out / "robust", out / "extraction"
    common = ["--model", model, *(["--smoke"] if smoke else [])]

    def extraction(stage: str, domain: str, encoder: str | None = None, seed: int | None = None) -> list[str]:
        return [str(SCRIPTS / "extraction_study.py"), "--output_dir", str(extraction_dir), "--robust_dir",
                str(robust_dir), "--stage", stage, "--domains", domain, *common,
                *(["--encoders", encoder] if encoder else []), *(["--seeds", str(seed)] if seed else [])]

    def robust(domain: str, variant: str, seed: int) -> list[str]:
        return [str(SCRIPTS / "robustness_study.py"), "--output_dir", str(robust_dir), "--domain", domain,
                "--variants", variant, "--seeds", str(seed), *common]

    jobs = [Job(f"adapt/{d}", extraction("adapt", d)) for d in DOMAINS]
    for seed in SEEDS:
        for d in DOMAINS:
            jobs.append(Job(f"ate/{d}/plain/{seed}", extraction("ate", d, "plain", seed)))
            jobs.append(Job(f"robust/{d}/markers_mams/{seed}", robust(d, "markers_mams", seed)))
    for seed in SEEDS:
        for d in DOMAINS:
            jobs.append(Job(f"ate/{d}/adapted-800/{seed}", extraction("ate", d, "adapted-800", seed), [f"adapt/{d}"]))
            jobs.append(Job(f"classifier/{d}/adapted-800/{seed}", extraction("classifier", d, "adapted-800", seed),
                            [f"adapt/{d}"]))
    for seed in SEEDS:
        for d in DOMAINS:
            jobs.append(Job(f"joint/{d}/plain/{seed}", extraction("joint", d, "plain", seed),
                            [f"ate/{d}/plain/{seed}", f"robust/{d}/markers_mams/{seed}"]))
            jobs.append(Job(f"joint/{d}/adapted-800/{seed}", extraction("joint", d, "adapted-800", seed),
                            [f"ate/{d}/adapted-800/{seed}", f"classifier/{d}/adapted-800/{seed}"]))
    for d, variant in MORE_VARIANTS:
        for seed in SEEDS:
            jobs.append(Job(f"robust/{d}/{variant}/{seed}", robust(d, variant, seed)))
    return jobs


def robustness_plan(out: Path, model: str, smoke: bool, pairs: list[str]) -> list[Job]:
    """Only the robustness runs of ``pairs`` (``domain:variant``), every seed."""
    jobs = []
    for seed in SEEDS:
        for pair in pairs:
            domain, variant = pair.split(":")
            jobs.append(Job(f"robust/{domain}/{variant}/{seed}", [
                str(SCRIPTS / "robustness_study.py"), "--output_dir", str(out / "robust"), "--domain", domain,
                "--variants", variant, "--seeds", str(seed), "--model", model, *(["--smoke"] if smoke else [])]))
    return jobs


def prepare_data(out: Path, extraction: bool = True) -> None:
    """Both studies' data folders, made once before the jobs start (jobs would race to make them)."""
    for domain in DOMAINS:
        robustness.prepare(out / "robust", domain)
        if extraction:
            adaptation.prepare_domain(out / "extraction" / "adapt", domain)


def run_jobs(jobs: list[Job], workers: int, deadline: float, min_job_s: float, logs: Path) -> None:
    """Start ready jobs in priority order, at most ``workers`` at once; stop everything at ``deadline``."""
    logs.mkdir(parents=True, exist_ok=True)
    by_name = {job.name: job for job in jobs}
    env = {**os.environ, "OMP_NUM_THREADS": "2", "MKL_NUM_THREADS": "2", "TOKENIZERS_PARALLELISM": "false"}
    start = time.monotonic()
    while True:
        now = time.monotonic()
        for job in jobs:
            if job.status == "running" and job.process.poll() is not None:
                job.status = "done" if job.process.returncode == 0 else "failed"
                print(f"[{now - start:6.0f}s] {job.status:6} {job.name} ({now - job.started:.0f}s)", flush=True)
        finished = [j for j in jobs if j.status in ("done", "failed")]
        if len(finished) >= 3 and not any(j.status == "done" for j in finished):
            print("the first jobs all failed: stopping (see the logs)", flush=True)
            deadline = now
        if now >= deadline:
            for job in jobs:
                if job.status == "running":
                    job.process.terminate()
                    job.process.wait()
                    job.status = "stopped"
                    print(f"[{now - start:6.0f}s] stopped {job.name} at the deadline", flush=True)
            break
        for job in jobs:  # a job whose prerequisite failed cannot run
            if job.status == "waiting" and any(by_name[n].status in ("failed", "skipped") for n in job.needs):
                job.status = "skipped"
        running = sum(j.status == "running" for j in jobs)
        for job in jobs:
            if running >= workers or deadline - now < min_job_s:
                break
            if job.status == "waiting" and all(by_name[n].status == "done" for n in job.needs):
                log = open(logs / (job.name.replace("/", "_") + ".log"), "w")  # noqa: SIM115 (closed with the process)
                job.process = subprocess.Popen([sys.executable, *job.argv], stdout=log, stderr=subprocess.STDOUT, env=env)
                job.started, job.status = now, "running"
                running += 1
                print(f"[{now - start:6.0f}s] start  {job.name}", flush=True)
        if not any(j.status in ("waiting", "running") for j in jobs):
            break
        time.sleep(1.0)


def report(out: Path, model: str) -> None:
    """Rebuild both studies' tables from whatever finished (probes of finished runs are scored here)."""
    subprocess.run([sys.executable, str(SCRIPTS / "robustness_study.py"), "--output_dir", str(out / "robust"),
                    "--report_only"], check=False)
    if (out / "extraction").is_dir():
        subprocess.run([sys.executable, str(SCRIPTS / "extraction_study.py"), "--output_dir", str(out / "extraction"),
                        "--robust_dir", str(out / "robust"), "--stage", "report", "--model", model], check=False)


KEEP = (".json", ".md", ".png", ".log", ".txt")
SKIP = ("predictions", "probe_set", "vocab", "tokenizer", "special_tokens")
SKIP_FOLDERS = {"pregenerated", "data", "corpus"}


def pack(out: Path, archive: Path) -> None:
    """Results only: no weights, no corpora, no prediction files."""
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(out.rglob("*")):
            if path.is_file() and path.suffix in KEEP and not any(part in path.name for part in SKIP) \
                    and not SKIP_FOLDERS.intersection(path.relative_to(out).parts):
                tar.add(path, arcname=str(path.relative_to(out)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output_dir", required=True)
    parser.add_argument("--model", required=True, help="the encoder (a local directory)")
    parser.add_argument("--jobs", type=int, default=8, help="runs at once")
    parser.add_argument("--deadline_s", type=float, default=480, help="stop all jobs this long after the start")
    parser.add_argument("--min_job_s", type=float, default=60, help="start no job with less time than this left")
    parser.add_argument("--archive", default=None, help="pack the results into this .tar.gz")
    parser.add_argument("--smoke", action="store_true", help="4 steps a run (checks the plumbing)")
    parser.add_argument("--robustness_only", nargs="+", default=None, metavar="DOMAIN:VARIANT",
                        help="run only these robustness variants (every seed), e.g. restaurants:markers_mams_1600")
    args = parser.parse_args(argv)
    started = time.monotonic()
    out = Path(args.output_dir)
    prepare_data(out, extraction=not args.robustness_only)
    jobs = (robustness_plan(out, args.model, args.smoke, args.robustness_only) if args.robustness_only
            else plan(out, args.model, args.smoke))
    run_jobs(jobs, args.jobs, started + args.deadline_s, args.min_job_s, out / "logs")
    summary = {job.name: {"status": job.status} for job in jobs}
    (out / "logs" / "jobs.json").write_text(json.dumps(summary, indent=1))
    counts = {s: sum(j.status == s for j in jobs) for s in ("done", "failed", "stopped", "skipped", "waiting")}
    print(f"jobs: {counts}; {time.monotonic() - started:.0f}s", flush=True)
    report(out, args.model)
    if args.archive:
        pack(out, Path(args.archive))
    return 0 if counts["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

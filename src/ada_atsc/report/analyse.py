"""The report's first pass: every review through the pipeline, on the bulk path (workers, resume, progress).

Its output, ``<output_dir>/.work/analysed.jsonl``, holds one record per input review (aspects, categories, the
input's other fields). It is written through :class:`~ada_atsc.bulk.ResumableOutput`, so a killed report
resumes where it stopped (``--resume``) and a finished analysis is not repeated when only the report's
settings change (``--aspect_map``, ``--min_count``).
"""

from __future__ import annotations

from pathlib import Path

from ..bulk.run import StreamJob, StreamResult, run_stream
from ..bulk.stream import stream_records
from ..bulk.workers import AnalyserSpec, default_threads
from ..core.textio import iter_texts
from .options import ReportOptions

WORK_DIR = ".work"
ANALYSED = "analysed.jsonl"


def analysed_path(output_dir: str | Path) -> Path:
    return Path(output_dir) / WORK_DIR / ANALYSED


def analyse_reviews(options: ReportOptions) -> StreamResult:
    """Run the pipeline over ``options.input`` into :func:`analysed_path` (resumable)."""
    models = (options.extractor, options.classifier, *([options.categories] if options.categories else []))
    threads = options.threads or default_threads(options.workers)
    spec = AnalyserSpec("analyse", models, options.batch_size, options.max_seq_length, threads,
                        device=options.device)
    job = StreamJob("report", output=str(analysed_path(options.output_dir)), resume=options.resume,
                    workers=options.workers, batch_size=options.batch_size, progress=options.progress,
                    long_run=True, unit="review")

    def stream(items, analyse, batch_size, map_batches):
        return stream_records(items, analyse, batch_size, None, map_batches=map_batches, keep_fields=True)

    return run_stream(job, spec, iter_texts(options.input), stream)

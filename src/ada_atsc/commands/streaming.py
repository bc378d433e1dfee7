"""The file commands' side of :mod:`ada_atsc.bulk`: their flags as a :class:`~ada_atsc.bulk.run.StreamJob`,
the run over ``--text`` or a streamed ``--input``, and the exit status."""

from __future__ import annotations

import argparse
import sys


def stream_job(args: argparse.Namespace, command: str, **settings):
    """The :class:`~ada_atsc.bulk.run.StreamJob` of a file command's flags (``settings`` override)."""
    from ..bulk.run import StreamJob

    values = {"output": args.output, "resume": args.resume, "workers": args.workers, "batch_size": args.batch_size,
              "progress": not args.no_progress, "long_run": bool(args.input), "ray": args.ray}
    return StreamJob(command, **{**values, **settings})


def text_stream_status(args: argparse.Namespace, command: str, result) -> int:
    """Report a text command's error records on standard error; exit 2 when ``--text`` could not be analysed."""
    if result.errors:
        print(f"ada-atsc {command}: {result.errors} of {result.total} record(s) could not be analysed", file=sys.stderr)
    return 2 if args.text and result.errors else 0


def worker_threads(args: argparse.Namespace) -> int:
    """Threads of each worker: a Ray actor takes one CPU; local workers share this machine's cores."""
    from ..bulk import default_threads

    return 1 if args.ray else default_threads(args.workers)


def run_text_stream(args: argparse.Namespace, kind: str, models: tuple[str, ...], *, command: str | None = None,
                    field: str | None = "aspects") -> int:
    """``extract`` and ``absa``: the analyser ``kind`` over ``--text`` or ``--input``; one record per text, its
    result under ``field`` (None: the result's keys, e.g. ``aspects`` and ``categories``)."""
    command = command or kind
    from ..bulk import AnalyserSpec
    from ..bulk.run import run_stream
    from ..bulk.stream import stream_records
    from ..core.textio import TextRecord, iter_texts

    spec = AnalyserSpec(kind, models, args.batch_size, args.max_seq_length, worker_threads(args), device=args.device)
    records = iter([TextRecord(1, args.text)]) if args.text else iter_texts(args.input)

    def stream(items, analyse, batch_size, map_batches):
        return stream_records(items, analyse, batch_size, field, map_batches=map_batches)

    return text_stream_status(args, command, run_stream(stream_job(args, command), spec, records, stream))

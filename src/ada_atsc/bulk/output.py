"""Output that an interrupted run can resume.

:class:`ResumableOutput` writes JSONL to ``<output>.partial``, flushed after every batch; it becomes
``<output>`` (one rename) only when the run completes. ``resume=True`` keeps the complete records of an
earlier partial file (a torn last line is cut off) and :func:`skip_written` skips the input records they came
from, so a killed run continues without repeating or losing a record.

Two shapes of output: one record per input record (``absa``, ``extract``: the records kept are counted), or
several per input record (``predict``: one per aspect; ``grouped=True``). A grouped file may end inside an
input record's group, so the last group is cut too and the input is skipped through the ``line`` of the last
record kept: that input record is analysed again, and its records come out whole.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from itertools import dropwhile, islice
from pathlib import Path

from ..core.errors import AdaError


class ResumableOutput:
    """JSONL output through ``<path>.partial`` (see the module docstring); use as a context manager."""

    @staticmethod
    def partial_of(path: str | Path) -> Path:
        return Path(path).with_name(Path(path).name + ".partial")

    def __init__(self, path: str | Path, *, resume: bool, grouped: bool = False):
        self.path = Path(path)
        self.partial = self.partial_of(path)
        self.grouped = grouped
        self.done = 0  # records kept from an earlier run
        self.last_line: int | None = None  # the input line of the last record kept
        if resume and self.partial.exists():
            self.done = self._keep_complete_records()
        elif self.partial.exists():
            self.partial.unlink()  # an earlier interrupted run's partial output; --resume would keep it
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = None

    def _keep_complete_records(self) -> int:
        """Cut a torn last line (a kill mid-write) and, for grouped output, the last input record's group;
        count the records kept."""
        data = self.partial.read_bytes()
        keep = data[: data.rfind(b"\n") + 1]
        records = []
        for number, line in enumerate(keep.splitlines(), 1):
            try:
                records.append(json.loads(line))
            except ValueError:
                raise AdaError(f"{self.partial}:{number}: not a JSON record; remove the file to start over") from None
        if self.grouped and records:
            last = records[-1].get("line")
            while records and records[-1].get("line") == last:
                records.pop()
            keep = b"".join(line + b"\n" for line in keep.splitlines()[: len(records)])
        if len(keep) != len(data):
            with self.partial.open("r+b") as handle:
                handle.truncate(len(keep))
        self.last_line = records[-1].get("line") if records else None
        return len(records)

    def __enter__(self) -> ResumableOutput:
        self.handle = self.partial.open("a", encoding="utf-8", newline="\n")
        return self

    def write_batch(self, records: list[dict]) -> None:
        self.handle.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
        self.handle.flush()

    def __exit__(self, exc_type, exc, tb) -> None:
        self.handle.close()
        if exc_type is None:
            os.replace(self.partial, self.path)


def skip(records: Iterator, count: int) -> Iterator:
    """``records`` after its first ``count`` items (those a resumed run has written already)."""
    for _ in islice(records, count):
        pass
    return records


def skip_written(items: Iterator, output: ResumableOutput, line_of: Callable[[object], int]) -> Iterator:
    """``items`` after those whose records ``output`` kept: counted for one record per item, through the
    last kept ``line`` for grouped output."""
    if not output.grouped:
        return skip(items, output.done)
    if output.last_line is None:
        return items
    return dropwhile(lambda item: line_of(item) <= output.last_line, items)

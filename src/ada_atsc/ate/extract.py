"""Texts in, one output record per text out, in input order: the streaming core of ``ada-atsc extract`` and
``ada-atsc absa`` (their flags and output are in :mod:`ada_atsc.commands`).

Texts are analysed in batches as the input streams in; a text that cannot be analysed (unreadable, empty,
too long) gets an error record in its place and the rest goes on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import islice

from ..textio import TextRecord

MAX_TEXT_CHARS = 100_000
"""A longer text is an error record (it is not a review; split it first)."""


def usable(record: TextRecord) -> str | None:
    """Why a record cannot be analysed (None if it can)."""
    if record.error:
        return record.error
    if not record.text or not record.text.strip():
        return f"line {record.line}: empty text"
    if len(record.text) > MAX_TEXT_CHARS:
        return f"line {record.line}: text of {len(record.text)} characters (at most {MAX_TEXT_CHARS}; split it)"
    return None


def stream_records(records: Iterator[TextRecord], analyse: Callable[[list[str]], list[list[dict]]],
                   batch_size: int, field: str) -> Iterator[dict]:
    """Output records in input order: ``analyse`` runs on each batch of usable texts; bad ones get errors."""
    while True:
        batch = list(islice(records, batch_size))
        if not batch:
            return
        good = [r for r in batch if usable(r) is None]
        results = iter(analyse([r.text for r in good]) if good else [])
        for record in batch:
            base = {"line": record.line, **({"id": record.id} if record.id is not None else {})}
            problem = usable(record)
            if problem:
                yield {**base, "error": problem}
            else:
                yield {**base, "text": record.text, field: next(results)}

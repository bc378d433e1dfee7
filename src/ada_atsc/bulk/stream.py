"""Input records in, output records out, in input order: the streaming core of every file command
(``absa``, ``extract``, ``predict``; their flags are in :mod:`ada_atsc.commands`).

Records are analysed in batches as the input streams in, by an analyser in this process or by a
:class:`~ada_atsc.bulk.workers.WorkerPool` (``map_batches``). A text that cannot be analysed (unreadable,
empty, too long) gets an error record in its place and the rest goes on.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from itertools import islice

from ..core.textio import TextRecord

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


def record_batches(records: Iterator[TextRecord], batch_size: int) -> Iterator[list[TextRecord]]:
    while batch := list(islice(records, batch_size)):
        yield batch


def stream_records(records: Iterator[TextRecord], analyse: Callable[[list[str]], list] | None,
                   batch_size: int, field: str | None,
                   map_batches: Callable[[Iterator[list[str]]], Iterator[list]] | None = None,
                   keep_fields: bool = False) -> Iterator[dict]:
    """Output records in input order: ``analyse`` runs on each batch of usable texts (or ``map_batches`` maps
    the stream of batches, e.g. :meth:`ada_atsc.bulk.WorkerPool.map_ordered`); bad records get errors.

    Each text's result goes under ``field``, or, with ``field=None``, its keys (a dict) into the record;
    ``keep_fields`` copies the input record's other fields (``date``, ``hotel`` ...) under ``fields``."""
    pending: deque[list[tuple[TextRecord, str | None]]] = deque()  # each record with its problem (or None)

    def usable_texts(batches: Iterator[list[TextRecord]]) -> Iterator[list[str]]:
        for batch in batches:
            checked = [(record, usable(record)) for record in batch]
            pending.append(checked)
            yield [record.text for record, problem in checked if problem is None]

    if map_batches is None:
        def map_batches(text_batches):
            return (analyse(texts) if texts else [] for texts in text_batches)

    for analysed in map_batches(usable_texts(record_batches(records, batch_size))):
        results = iter(analysed)
        for record, problem in pending.popleft():
            base = {"line": record.line, **({"id": record.id} if record.id is not None else {})}
            if keep_fields and record.fields:
                base["fields"] = record.fields
            if problem:
                yield {**base, "error": problem}
            elif field is None:
                yield {**base, "text": record.text, **next(results)}
            else:
                yield {**base, "text": record.text, field: next(results)}


def stream_requests(requests: Iterator[dict], analyse: Callable[[list[dict]], list[list[dict]]] | None,
                    batch_size: int,
                    map_batches: Callable[[Iterator[list[dict]]], Iterator[list[list[dict]]]] | None = None,
                    ) -> Iterator[dict]:
    """The output records of ``predict`` requests in input order: ``analyse`` (or ``map_batches``) turns each
    batch of requests into each request's records (one per aspect, or one error record)."""
    batches = record_batches(requests, batch_size)
    for groups in (map_batches(batches) if map_batches else (analyse(batch) for batch in batches)):
        for group in groups:
            yield from group

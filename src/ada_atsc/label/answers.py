"""The answers of a labelling session: an append-only JSONL file that loses nothing.

Every answer is one line, written, flushed and fsynced before the server says it is saved, so a killed server
or a closed tab loses nothing that was acknowledged. A line cut short by a kill (never acknowledged) is cut off
when the file is opened again, so the next answer starts on a clean line. Reopening continues where it stopped:
the answered sentence ids are read back.

Two tabs on one batch neither lose nor duplicate an answer: a sentence handed to one tab is held for it for a
while (:data:`HOLD_SECONDS`), the other tab gets the next one, and an answer for a sentence that is answered
already is refused unless it says it revises it (an undo), in which case the later line wins when the labels
are read (:func:`~.batch.iter_labelled`).

A record is the project's sentence record plus the answer: ``{"id", "sentence", "aspects": [{"term", "from",
"to", "polarity"}], "answer": "labelled" | "none" | "skip", "seconds", "revises"}``: ``none`` says the sentence
has no aspect (a label), ``skip`` that it was passed over (no label).
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

from ..core.errors import AdaError
from .batch import BatchItem, labelled_from_record

ANSWERS = ("labelled", "none", "skip")
HOLD_SECONDS = 600.0


class AnswerLog:
    """The answers file of one batch, and which sentence each tab is working on."""

    def __init__(self, path: str | Path, items: list[BatchItem]):
        self.path = Path(path)
        self.items = items
        self.by_id = {item.id: item for item in items}
        self.answered: dict[str, str] = {}  # id -> its last answer
        self.held: dict[str, tuple[str, float]] = {}  # id -> (client, until)
        self.seconds: list[float] = []
        self.lock = threading.Lock()
        self._recover()

    def _recover(self) -> None:
        """Read the answers given so far; a last line cut short by a kill is cut off."""
        if not self.path.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.touch()
            return
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            cut = data.rfind(b"\n") + 1
            with self.path.open("r+b") as handle:
                handle.truncate(cut)
                handle.flush()
                os.fsync(handle.fileno())
            data = data[:cut]
        for number, line in enumerate(data.decode("utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                raise AdaError(f"{self.path}, line {number}: not valid JSON (not an answers file?)") from None
            if not isinstance(record, dict) or "id" not in record:
                raise AdaError(f"{self.path}, line {number}: not an answer record")
            self.answered[str(record["id"])] = str(record.get("answer", "labelled"))
            if isinstance(record.get("seconds"), (int, float)):
                self.seconds.append(float(record["seconds"]))

    def progress(self) -> dict:
        done = sum(1 for item in self.items if item.id in self.answered)
        mean = sum(self.seconds) / len(self.seconds) if self.seconds else None
        return {"answered": done, "total": len(self.items), "mean_seconds": None if mean is None else round(mean, 1)}

    def next_for(self, client: str) -> BatchItem | None:
        """The first sentence not answered and not held by another tab; held for ``client`` from now."""
        now = time.monotonic()
        with self.lock:
            for item in self.items:
                if item.id in self.answered:
                    continue
                holder = self.held.get(item.id)
                if holder and holder[0] != client and holder[1] > now:
                    continue
                self.held[item.id] = (client, now + HOLD_SECONDS)
                return item
        return None

    def answer(self, client: str, record: dict) -> dict:
        """Check one answer against its sentence, append it (fsynced), release the sentence; raises ValueError
        with the reason for a bad answer and KeyError for a sentence answered already (not a revision)."""
        item = self.by_id.get(str(record.get("id")))
        if item is None:
            raise ValueError(f"id {record.get('id')!r} is not in this batch")
        kind = record.get("answer", "labelled")
        if kind not in ANSWERS:
            raise ValueError(f"answer {kind!r} is not one of {', '.join(ANSWERS)}")
        aspects = record.get("aspects") or []
        if kind != "labelled" and aspects:
            raise ValueError(f"answer {kind!r} takes no aspects")
        if kind == "labelled" and not aspects:
            kind = "none"
        try:
            sentence = labelled_from_record({"id": item.id, "sentence": item.text, "aspects": aspects}, "answer")
        except AdaError as exc:
            raise ValueError(str(exc)) from None
        seconds = record.get("seconds")
        line = {**sentence.to_record(), "answer": kind,
                "seconds": round(float(seconds), 2) if isinstance(seconds, (int, float)) else None,
                "revises": bool(record.get("revises"))}
        with self.lock:
            if item.id in self.answered and not line["revises"]:
                raise KeyError(item.id)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(line, ensure_ascii=False) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            self.answered[item.id] = kind
            self.held.pop(item.id, None)
            if line["seconds"] is not None:
                self.seconds.append(line["seconds"])
        return line

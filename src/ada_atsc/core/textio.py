"""Texts to analyse, streamed from a file: ``.txt`` (one text a line), JSONL (a ``text`` field) or CSV (a
``text`` column). Each record comes with its line number; a record that cannot be used (undecodable, not
JSON, no text, empty) comes as an error so the caller can write an error record in its place and go on."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import AdaError

SUFFIXES = (".txt", ".jsonl", ".json", ".csv")


@dataclass(frozen=True)
class TextRecord:
    """One input text (or the reason it cannot be read), with where it came from."""

    line: int
    text: str | None
    id: str | None = None
    error: str | None = None


def check_text_file(path: str | Path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise AdaError(f"{path}: file not found")
    if path.suffix.lower() not in SUFFIXES:
        raise AdaError(f"{path}: expected a .txt (a text a line), .jsonl ('text' field) or .csv ('text' column) file")
    return path


def iter_texts(path: str | Path) -> Iterator[TextRecord]:
    """Stream the texts of ``path`` in order (blank lines of a .txt or .jsonl file are skipped)."""
    path = check_text_file(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        yield from _iter_csv(path)
        return
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, 1):
            try:
                line = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError as exc:
                yield TextRecord(number, None, error=f"{path}:{number}: not valid UTF-8 (byte 0x{raw[exc.start]:02x})")
                continue
            if not line.strip():
                continue
            if suffix == ".txt":
                yield TextRecord(number, line)
                continue
            try:
                record = json.loads(line)
            except ValueError as exc:
                yield TextRecord(number, None, error=f"{path}:{number}: not valid JSON ({exc})")
                continue
            text = record.get("text") if isinstance(record, dict) else None
            ident = str(record["id"]) if isinstance(record, dict) and record.get("id") is not None else None
            if not isinstance(text, str):
                yield TextRecord(number, None, ident, error=f"{path}:{number}: no 'text' string")
            else:
                yield TextRecord(number, text, ident)


def _iter_csv(path: Path) -> Iterator[TextRecord]:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames or "text" not in reader.fieldnames:
                raise AdaError(f"{path}: a CSV needs a 'text' column")
            for row in reader:
                text = row.get("text")
                ident = row.get("id") or None
                if text is None or not text.strip():
                    yield TextRecord(reader.line_num, None, ident, error=f"{path}:{reader.line_num}: empty 'text'")
                else:
                    yield TextRecord(reader.line_num, text, ident)
    except UnicodeDecodeError as exc:
        raise AdaError(f"{path}: not valid UTF-8 (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})") from None
    except csv.Error as exc:
        raise AdaError(f"{path}: malformed CSV: {exc}") from None

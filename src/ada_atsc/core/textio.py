"""Texts to analyse, streamed from a file: ``.txt`` (one text a line), JSONL (a ``text`` field) or CSV (a
``text`` column), each possibly gzip-compressed (``reviews.jsonl.gz``). Each record comes with its line number
and the record's other fields (``date``, ``hotel`` ...: what a report groups by); a record that cannot be used
(undecodable, not JSON, no text, empty) comes as an error so the caller can write an error record in its place
and go on."""

from __future__ import annotations

import csv
import gzip
import io
import json
import zlib
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
    fields: dict | None = None
    """The record's other fields (JSONL keys, CSV columns) besides ``text`` and ``id``; None for .txt."""


def check_text_file(path: str | Path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise AdaError(f"{path}: file not found")
    if text_suffix(path) not in SUFFIXES:
        raise AdaError(f"{path}: expected a .txt (a text a line), .jsonl ('text' field) or .csv ('text' column) "
                       "file, possibly .gz")
    return path


def text_suffix(path: Path) -> str:
    """The format suffix of ``path``, looking through a ``.gz``: ``reviews.jsonl.gz`` → ``.jsonl``."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


def _open_binary(path: Path):
    return gzip.open(path, "rb") if path.suffix.lower() == ".gz" else path.open("rb")


def iter_texts(path: str | Path) -> Iterator[TextRecord]:
    """Stream the texts of ``path`` in order (blank lines of a .txt or .jsonl file are skipped)."""
    path = check_text_file(path)
    try:
        yield from _iter_texts(path)
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise AdaError(f"{path}: not a readable gzip file ({exc})") from None


def _iter_texts(path: Path) -> Iterator[TextRecord]:
    suffix = text_suffix(path)
    if suffix == ".csv":
        yield from _iter_csv(path)
        return
    with _open_binary(path) as handle:
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
                yield TextRecord(number, text, ident, fields=_other_fields(record))


def _iter_csv(path: Path) -> Iterator[TextRecord]:
    try:
        with _open_binary(path) as raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames or "text" not in reader.fieldnames:
                raise AdaError(f"{path}: a CSV needs a 'text' column")
            for row in reader:
                text = row.get("text")
                ident = row.get("id") or None
                if text is None or not text.strip():
                    yield TextRecord(reader.line_num, None, ident, error=f"{path}:{reader.line_num}: empty 'text'")
                else:
                    yield TextRecord(reader.line_num, text, ident, fields=_other_fields(row))
    except UnicodeDecodeError as exc:
        raise AdaError(f"{path}: not valid UTF-8 (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})") from None
    except csv.Error as exc:
        raise AdaError(f"{path}: malformed CSV: {exc}") from None


def _other_fields(record: dict) -> dict:
    return {k: v for k, v in record.items() if k not in ("text", "id") and k is not None}

"""Write :class:`AspectExample` records: the project's JSONL (the format every later step reads), CSV, and
SemEval-2014 XML (for tools that only read the original layout). All writes are atomic."""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

from ..core.fileio import atomic_open, write_jsonl
from .records import AspectExample

CSV_COLUMNS = ("id", "sentence", "aspect", "from", "to", "polarity")


def write_dataset(path: str | Path, examples: Iterable[AspectExample], fmt: str | None = None) -> int:
    """Write ``examples`` as JSONL, CSV or SemEval-2014 XML (by ``fmt`` or the suffix); returns the count."""
    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt in ("jsonl", "json"):
        return write_jsonl(path, (example.to_record() for example in examples))
    if fmt == "csv":
        return _write_csv(path, examples)
    if fmt == "xml":
        return _write_semeval2014_xml(path, examples)
    raise ValueError(f"unknown output format '{fmt}'")


def _write_csv(path: Path, examples: Iterable[AspectExample]) -> int:
    count = 0
    with atomic_open(path) as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for example in examples:
            record = example.to_record()
            record["polarity"] = record["polarity"] or ""
            writer.writerow(record)
            count += 1
    return count


def _write_semeval2014_xml(path: Path, examples: Iterable[AspectExample]) -> int:
    """Group records by sentence id (the part of ``id`` before ``#``) into SemEval-2014 ``<sentence>`` elements."""
    root = ET.Element("sentences")
    by_sentence: dict[str, ET.Element] = {}
    count = 0
    for example in examples:
        sentence = by_sentence.get(example.sentence_id)
        if sentence is None:
            sentence = ET.SubElement(root, "sentence", id=example.sentence_id)
            ET.SubElement(sentence, "text").text = example.sentence
            ET.SubElement(sentence, "aspectTerms")
            by_sentence[example.sentence_id] = sentence
        attributes = {"term": example.aspect, "from": str(example.start), "to": str(example.end)}
        if example.polarity is not None:
            attributes["polarity"] = example.polarity
        ET.SubElement(sentence.find("aspectTerms"), "aspectTerm", attributes)
        count += 1
    ET.indent(root)
    with atomic_open(path, "wb", encoding=None) as handle:
        ET.ElementTree(root).write(handle, encoding="utf-8", xml_declaration=True)
    return count

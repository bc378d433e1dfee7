"""Read aspect-sentiment data in every format the field uses, exactly, into :class:`AspectExample` records.

Formats (chosen by extension, and for XML by the root element):

* SemEval-2014 Task 4 XML: ``<sentences><sentence id><text><aspectTerms><aspectTerm term polarity from to>``.
  MAMS uses the same layout (its sentences carry no id; the position is used). The 2019 BERT-ADA "transformed"
  XML has one aspectTerm per sentence with ``from="0" to="0"``: the span is then found in the text.
* SemEval-2015/2016 XML: ``<Reviews><Review><sentences><sentence id><text><Opinions><Opinion target category
  polarity from to>``. ``target="NULL"`` (an implicit aspect) is skipped; one target listed under several
  categories is one example, and differing polarities for it become ``conflict``.
* The project's JSONL (see :mod:`ada_atsc.data.records`) and CSV with the same column names (``from``/``to``
  and ``id`` optional in CSV: the span is then the first occurrence of the aspect).

Every problem is an :class:`AdaError` naming the file and the line (or record) and what is wrong.
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from xml.parsers import expat

from ..core.errors import AdaError, located
from .records import POLARITIES, AspectExample, AspectSpan, SentenceRecord

_ZERO_OFFSETS = ("0", "0")


def read_dataset(path: str | Path, fmt: str | None = None) -> list[AspectExample]:
    """Read every (sentence, aspect) example of ``path``; ``fmt`` is ``xml``, ``jsonl`` or ``csv`` (default: by suffix)."""
    path, fmt = _checked_format(path, fmt)
    if fmt == "aste":  # aspect sentiment triplets: each aspect with its polarity is a pair
        from .aste import read_aste

        return [pair for record in read_aste(path) for pair in record.pairs()]
    readers = {"xml": read_xml, "jsonl": read_jsonl, "json": read_jsonl, "csv": read_csv}
    return readers[fmt](path)


def read_sentences(path: str | Path, fmt: str | None = None) -> list[SentenceRecord]:
    """Read every sentence of ``path`` with all its aspect terms, sentences without any included where the
    format has them (XML, sentence-level JSONL); a pair file's pairs are grouped back into sentences."""
    path, fmt = _checked_format(path, fmt)
    if fmt == "aste":
        from .aste import read_aste

        return read_aste(path)
    if fmt == "xml":
        return read_xml_sentences(path)
    if fmt in ("jsonl", "json"):
        return read_jsonl_sentences(path)
    return sentences_from_pairs(read_csv(path))


def _checked_format(path: str | Path, fmt: str | None) -> tuple[Path, str]:
    path = Path(path)
    if path.is_dir():
        raise AdaError(f"{path}: is a directory, expected a data file (.xml, .jsonl or .csv)")
    fmt = (fmt or _format_from_suffix(path)).lower()
    if fmt not in ("xml", "jsonl", "json", "csv", "aste"):
        raise AdaError(f"{path}: unknown data format '{fmt}' (expected .xml, .jsonl or .csv)")
    return path, fmt


def sentences_from_pairs(examples: list[AspectExample]) -> list[SentenceRecord]:
    """Group pairs into sentences (by sentence id and text, first-seen order); aspects keep their order."""
    grouped: dict[tuple[str, str], list[AspectSpan]] = {}
    for ex in examples:
        grouped.setdefault((ex.sentence_id, ex.sentence), []).append(AspectSpan(ex.aspect, ex.start, ex.end, ex.polarity))
    return [SentenceRecord(sid, text, tuple(spans)) for (sid, text), spans in grouped.items()]


def file_format(path: str | Path) -> str:
    """The data format a file's name says (``xml``, ``jsonl``, ``csv``, ``aste`` for ASTE-V2's
    ``*_triplets.txt``)."""
    return _format_from_suffix(Path(path))


def _format_from_suffix(path: Path) -> str:
    if path.name.lower().endswith("_triplets.txt"):  # ASTE-Data-V2's file names
        return "aste"
    suffix = path.suffix.lower().lstrip(".")
    return {"ndjson": "jsonl", "tsv": "csv"}.get(suffix, suffix)


def _read_bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise AdaError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise AdaError(f"{path}: is a directory, expected a data file") from None
    except OSError as exc:
        raise AdaError(f"{path}: cannot read: {exc.strerror}") from None
    if not data.strip():
        raise AdaError(f"{path}: file is empty")
    return data


def _read_text(path: Path) -> str:
    data = _read_bytes(path)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise located(path, line, f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})") from None


# --------------------------------------------------------------------------------------------- XML

def _parse_xml(path: Path) -> tuple[ET.Element, dict[int, int]]:
    """Parse with expat directly so that every element's source line is known for error messages."""
    data = _read_bytes(path)
    parser = expat.ParserCreate()
    parser.buffer_text = True
    builder = ET.TreeBuilder()
    lines: dict[int, int] = {}

    def start(tag: str, attrs: dict[str, str]) -> None:
        lines[id(builder.start(tag, attrs))] = parser.CurrentLineNumber

    parser.StartElementHandler = start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.data
    try:
        parser.Parse(data, True)
        root = builder.close()
    except expat.ExpatError as exc:
        hint = " (invalid bytes: is the file UTF-8 as declared?)" if exc.code == expat.errors.codes[expat.errors.XML_ERROR_INVALID_TOKEN] else ""
        raise located(path, exc.lineno, f"malformed XML: {expat.errors.messages[exc.code]}{hint}") from None
    except AssertionError:  # TreeBuilder.close() on a document without a root element
        raise located(path, None, "malformed XML: no root element") from None
    return root, lines


def read_xml(path: str | Path) -> list[AspectExample]:
    """Read SemEval-2014 / MAMS / BERT-ADA transformed XML, or SemEval-2015/2016 XML (by the root element)."""
    return [pair for sentence in read_xml_sentences(path) for pair in sentence.pairs()]


def read_xml_sentences(path: str | Path) -> list[SentenceRecord]:
    """Every ``<sentence>`` of an XML file, with its aspect terms (or 2015/16 opinion targets)."""
    path = Path(path)
    root, lines = _parse_xml(path)
    if root.tag == "sentences":
        return _read_semeval2014(path, root, lines)
    if root.tag == "Reviews":
        return _read_semeval2015(path, root, lines)
    raise located(path, lines.get(id(root)), f"unknown XML layout: root element <{root.tag}>, expected <sentences> or <Reviews>")


def _attr(path: Path, lines: dict[int, int], element: ET.Element, name: str) -> str:
    value = element.get(name)
    if value is None:
        raise located(path, lines.get(id(element)), f"<{element.tag}> is missing the attribute '{name}'")
    return value


def _sentence_text(path: Path, lines: dict[int, int], sentence: ET.Element) -> str:
    text = sentence.find("text")
    if text is None:
        raise located(path, lines.get(id(sentence)), "<sentence> has no <text>")
    return text.text or ""


def _polarity(path: Path, line: int | None, value: str) -> str:
    if value not in POLARITIES:
        raise located(path, line, f"unknown polarity '{value}' (expected one of {', '.join(POLARITIES)})")
    return value


def _span(path: Path, line: int | None, text: str, term: str, start_s: str, end_s: str) -> tuple[int, int]:
    """Check the offsets against the term; ``from=to=0`` (the 2019 transformed XML) means 'find the term'."""
    if not term.strip():
        raise located(path, line, "empty aspect term")
    if (start_s, end_s) == _ZERO_OFFSETS:
        start = text.find(term)
        if start < 0:
            raise located(path, line, f"aspect '{term}' does not occur in the sentence")
        return start, start + len(term)
    try:
        start, end = int(start_s), int(end_s)
    except ValueError:
        raise located(path, line, f"offsets from='{start_s}' to='{end_s}' are not integers") from None
    if not 0 <= start < end <= len(text):
        raise located(path, line, f"offsets {start}-{end} lie outside the sentence (length {len(text)})")
    if text[start:end] != term:
        raise located(path, line, f"offsets {start}-{end} give '{text[start:end]}', not the term '{term}'")
    return start, end


def _read_semeval2014(path: Path, root: ET.Element, lines: dict[int, int]) -> list[SentenceRecord]:
    sentences: list[SentenceRecord] = []
    for position, sentence in enumerate(root.iter("sentence")):
        sentence_id = sentence.get("id", str(position))  # MAMS sentences have no id
        text = _sentence_text(path, lines, sentence)
        terms = sentence.find("aspectTerms")
        spans: list[AspectSpan] = []
        for term_el in [] if terms is None else terms.findall("aspectTerm"):
            line = lines.get(id(term_el))
            term = _attr(path, lines, term_el, "term")
            polarity = term_el.get("polarity")  # absent in unlabeled (phase A) test files
            polarity = None if polarity is None else _polarity(path, line, polarity)
            start, end = _span(path, line, text, term, _attr(path, lines, term_el, "from"), _attr(path, lines, term_el, "to"))
            spans.append(AspectSpan(term, start, end, polarity))
        sentences.append(SentenceRecord(sentence_id, text, tuple(spans)))
    return sentences


def _read_semeval2015(path: Path, root: ET.Element, lines: dict[int, int]) -> list[SentenceRecord]:
    sentences: list[SentenceRecord] = []
    for sentence in root.iter("sentence"):
        sentence_id = _attr(path, lines, sentence, "id")
        text = _sentence_text(path, lines, sentence)
        opinions = sentence.find("Opinions")
        merged: dict[tuple[str, int, int], str] = {}  # (target, from, to) -> polarity, in first-seen order
        for opinion in [] if opinions is None else opinions.findall("Opinion"):
            line = lines.get(id(opinion))
            target = _attr(path, lines, opinion, "target")
            polarity = _polarity(path, line, _attr(path, lines, opinion, "polarity"))
            if target == "NULL":  # implicit aspect: no target term to classify
                continue
            start, end = _span(path, line, text, target, _attr(path, lines, opinion, "from"), _attr(path, lines, opinion, "to"))
            key = (target, start, end)
            merged[key] = polarity if merged.get(key, polarity) == polarity else "conflict"
        spans = tuple(AspectSpan(target, start, end, polarity) for (target, start, end), polarity in merged.items())
        sentences.append(SentenceRecord(sentence_id, text, spans))
    return sentences


# ----------------------------------------------------------------------------------- JSONL and CSV

def _example_from_mapping(path: Path, line: int, record: dict, index: int) -> AspectExample:
    """Validate one JSONL/CSV record; ``from``/``to`` and ``id`` may be missing (then found/assigned)."""
    for key in ("sentence", "aspect"):
        if not isinstance(record.get(key), str):
            raise located(path, line, f"record has no string field '{key}'")
    sentence, aspect = record["sentence"], record["aspect"]
    polarity = record.get("polarity")
    if polarity in ("", None):
        polarity = None
    elif not isinstance(polarity, str):
        raise located(path, line, f"polarity must be a string, got {polarity!r}")
    else:
        polarity = _polarity(path, line, polarity.strip().lower())
    start_v, end_v = record.get("from"), record.get("to")
    if start_v in (None, "") and end_v in (None, ""):
        start_s, end_s = _ZERO_OFFSETS
    else:
        start_s, end_s = str(start_v), str(end_v)
    start, end = _span(path, line, sentence, aspect, start_s, end_s)
    example_id = record.get("id")
    example_id = str(index) if example_id in (None, "") else str(example_id)
    return AspectExample(example_id, sentence, aspect, start, end, polarity)


def parse_json_object_line(path: str | Path, line_no: int, line: str) -> dict:
    """One line of a JSON-lines file, which must be an object; else an error naming the file and line."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise located(path, line_no, f"not valid JSON: {exc.msg}") from None
    if not isinstance(record, dict):
        raise located(path, line_no, "expected a JSON object per line")
    return record


def read_jsonl(path: str | Path) -> list[AspectExample]:
    """Read the project's JSONL format (one object per line; blank lines are skipped): pair records, or
    sentence records (``aspects``: a list), whose aspects become pairs ``<id>#<k>``."""
    return [pair for item in _jsonl_items(Path(path))
            for pair in (item.pairs() if isinstance(item, SentenceRecord) else [item])]


def read_jsonl_sentences(path: str | Path) -> list[SentenceRecord]:
    """Sentence records of a JSONL file; pair records are grouped into sentences."""
    items = _jsonl_items(Path(path))
    if all(isinstance(item, SentenceRecord) for item in items):
        return items
    if any(isinstance(item, SentenceRecord) for item in items):
        raise AdaError(f"{path}: mixes sentence records ('aspects') and pair records ('aspect'); use one kind")
    return sentences_from_pairs(items)


def _opinions(path: Path, line: int, sentence: str, opinions: object, k: int) -> tuple:
    """The ``opinions`` of aspect ``k`` (objects with ``term``, ``from``, ``to``), offsets checked."""
    from .records import OpinionSpan

    if opinions is None:
        return ()
    if not isinstance(opinions, list) or not all(isinstance(o, dict) for o in opinions):
        raise located(path, line, f"aspects[{k}].opinions must be a list of objects with 'term', 'from', 'to'")
    spans = []
    for j, opinion in enumerate(opinions):
        start, end, term = opinion.get("from"), opinion.get("to"), opinion.get("term")
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(sentence)
                and sentence[start:end] == term):
            raise located(path, line, f"aspects[{k}].opinions[{j}]: span {start}:{end} is not {term!r} in the "
                                      "sentence")
        spans.append(OpinionSpan(term, start, end))
    return tuple(spans)


def _jsonl_items(path: Path) -> list:
    items: list = []
    for line_no, line in enumerate(_read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        record = parse_json_object_line(path, line_no, line)
        if "aspects" in record and "aspect" not in record:
            items.append(_sentence_from_mapping(path, line_no, record, len(items)))
        else:
            items.append(_example_from_mapping(path, line_no, record, len(items)))
    return items


def _sentence_from_mapping(path: Path, line: int, record: dict, index: int) -> SentenceRecord:
    """A sentence record: ``sentence`` and ``aspects`` (objects with ``term``, ``from``/``to``, ``polarity``)."""
    if not isinstance(record.get("sentence"), str):
        raise located(path, line, "record has no string field 'sentence'")
    aspects = record["aspects"]
    if not isinstance(aspects, list) or not all(isinstance(a, dict) for a in aspects):
        raise located(path, line, "'aspects' must be a list of objects with 'term', 'from', 'to', 'polarity'")
    spans = []
    for k, aspect in enumerate(aspects):
        if not isinstance(aspect.get("term"), str):
            raise located(path, line, f"aspects[{k}] has no string field 'term'")
        pair = _example_from_mapping(path, line, {"sentence": record["sentence"], "aspect": aspect.get("term"),
                                                  "from": aspect.get("from"), "to": aspect.get("to"),
                                                  "polarity": aspect.get("polarity")}, 0)
        spans.append(AspectSpan(pair.aspect, pair.start, pair.end, pair.polarity,
                                _opinions(path, line, record["sentence"], aspect.get("opinions"), k)))
    sentence_id = record.get("id")
    sentence_id = str(index) if sentence_id in (None, "") else str(sentence_id)
    return SentenceRecord(sentence_id, record["sentence"], tuple(spans))


def read_csv(path: str | Path) -> list[AspectExample]:
    """Read CSV with a header naming at least ``sentence`` and ``aspect`` (and usually ``polarity``)."""
    path = Path(path)
    text = _read_text(path)
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
        header = reader.fieldnames or []
        missing = [column for column in ("sentence", "aspect") if column not in header]
        if missing:
            raise located(path, 1, f"CSV header lacks the column(s) {', '.join(missing)} (found: {', '.join(header)})")
        examples = []
        for record in reader:
            if None in record:
                raise located(path, reader.line_num, "row has more fields than the header")
            examples.append(_example_from_mapping(path, reader.line_num, record, len(examples)))
    except csv.Error as exc:
        raise located(path, None, f"malformed CSV: {exc}") from None
    return examples

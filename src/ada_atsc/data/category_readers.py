"""Read aspect-category data into :class:`~ada_atsc.data.records.CategorySentence` records.

Formats (by extension, and for XML by the root element):

* SemEval-2014 restaurants and MAMS-ACSA XML: ``<sentence><text><aspectCategories><aspectCategory category
  polarity>`` (MAMS sentences carry no id: the position is used);
* SemEval-2015/2016 XML: the ``category`` of each ``<Opinion>`` (``FOOD#QUALITY``); a category listed more
  than once in a sentence with differing polarities becomes ``conflict``, as for terms;
* the project's JSONL: ``{"id", "sentence", "categories": [{"category", "polarity"}]}`` per line.

Sentences without any category are kept (for a category classifier they say "none of them"), except in
SemEval-2014 files, where every sentence is annotated with at least one category and a missing
``<aspectCategories>`` means the file has no category annotation at all (the laptop files): such a file is
an error, so that nobody trains a category model on laptops by accident.
"""

from __future__ import annotations

from pathlib import Path

from ..core.errors import AdaError, located
from .readers import (
    _attr,
    _checked_format,
    _parse_xml,
    _polarity,
    _read_text,
    _sentence_text,
    parse_json_object_line,
)
from .records import CategoryOpinion, CategorySentence


def read_category_sentences(path: str | Path) -> list[CategorySentence]:
    """Every sentence of ``path`` with its categories; one clear error if the file holds no category at all."""
    path, fmt = _checked_format(path, None)
    if fmt == "csv":
        raise AdaError(f"{path}: category data are read from XML or JSONL ('categories' per sentence), not CSV")
    sentences = _read_xml(path) if fmt == "xml" else _read_jsonl(path)
    if not any(s.categories for s in sentences):
        raise AdaError(f"{path}: no aspect categories in this file (expected <aspectCategory> elements, "
                       "<Opinion category=...>, or JSONL records with 'categories')")
    return sentences


def _merge(opinions: list[CategoryOpinion]) -> tuple[CategoryOpinion, ...]:
    """One opinion per category, first-seen order; differing polarities of one category become ``conflict``."""
    merged: dict[str, str | None] = {}
    for opinion in opinions:
        previous = merged.get(opinion.category, opinion.polarity)
        merged[opinion.category] = opinion.polarity if previous == opinion.polarity else "conflict"
    return tuple(CategoryOpinion(category, polarity) for category, polarity in merged.items())


def _read_xml(path: Path) -> list[CategorySentence]:
    root, lines = _parse_xml(path)
    if root.tag not in ("sentences", "Reviews"):
        raise located(path, lines.get(id(root)), f"unknown XML layout: root element <{root.tag}>")
    sentences = []
    for position, sentence in enumerate(root.iter("sentence")):
        sentence_id = sentence.get("id", str(position))
        text = _sentence_text(path, lines, sentence)
        opinions = []
        elements = sentence.iter("aspectCategory") if root.tag == "sentences" else sentence.iter("Opinion")
        for element in elements:
            line = lines.get(id(element))
            category = _attr(path, lines, element, "category").strip()
            if not category:
                raise located(path, line, "empty category")
            polarity = element.get("polarity")
            opinions.append(CategoryOpinion(category, None if polarity is None else _polarity(path, line, polarity)))
        sentences.append(CategorySentence(sentence_id, text, _merge(opinions)))
    return sentences


def _read_jsonl(path: Path) -> list[CategorySentence]:
    sentences = []
    for line_no, line in enumerate(_read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        record = parse_json_object_line(path, line_no, line)
        if not isinstance(record.get("sentence"), str):
            raise located(path, line_no, "record has no string field 'sentence'")
        items = record.get("categories")
        if not isinstance(items, list) or not all(isinstance(c, dict) for c in items):
            raise located(path, line_no, "'categories' must be a list of objects with 'category' and 'polarity'")
        opinions = []
        for k, item in enumerate(items):
            category = item.get("category")
            if not isinstance(category, str) or not category.strip():
                raise located(path, line_no, f"categories[{k}] has no non-empty string field 'category'")
            polarity = item.get("polarity")
            if polarity not in (None, ""):
                if not isinstance(polarity, str):
                    raise located(path, line_no, f"categories[{k}]: polarity must be a string, got {polarity!r}")
                polarity = _polarity(path, line_no, polarity.strip().lower())
            opinions.append(CategoryOpinion(category.strip(), polarity or None))
        sentence_id = record.get("id")
        sentence_id = str(len(sentences)) if sentence_id in (None, "") else str(sentence_id)
        sentences.append(CategorySentence(sentence_id, record["sentence"], _merge(opinions)))
    return sentences

"""A labelling batch in the formats of three annotation tools, and their exported annotations read back.

People often label in a tool they already run (Label Studio, Prodigy, doccano) rather than ``label serve``.
:func:`export_batch` writes a batch (:mod:`ada_atsc.label.batch`) as that tool's import file, with the model's
guesses as pre-annotations, so the annotator corrects rather than starts from nothing; :func:`import_annotations`
reads the tool's export after people annotated and returns the project's sentence records, which
:func:`write_labels` writes as the labels file every training command reads.

What each tool gets (offsets are Python character offsets, ``end`` exclusive, ``text[start:end] == term``):

* ``label-studio``: a JSON array of tasks (Label Studio imports an array), each
  ``{"data": {"text", "ada_id"}, "predictions": [{"model_version": "ada-atsc", "score", "result": [...]}]}``
  with a ``labels`` region per guess; the labelling config goes beside it as ``<stem>.label_config.xml``.
* ``prodigy``: JSONL, ``{"text", "meta": {"ada_id", "uncertainty"}, "spans": [{"start", "end", "label"}]}``
  with the labels in upper case (``POSITIVE``), as Prodigy labels conventionally are.
* ``doccano``: JSONL, ``{"text", "label": [[start, end, "positive"], ...], "ada_id"}`` (sequence labelling).

What is read back: Label Studio's JSON export (the last annotation of a task that was not cancelled; a task
nobody annotated is skipped, an annotation with no region means "no aspect"; the ``JSON_MIN`` export is read
too), Prodigy's ``db-out`` JSONL (``answer`` ``accept`` only; ``reject`` and ``ignore`` are skipped), doccano's
JSONL (``label`` as ``[start, end, label]`` lists, or ``entities`` as ``{"start_offset", "end_offset", "label"}``
objects). Every span is checked against its text, and anything wrong is one :class:`AdaError` line naming the
file, the record and the problem, because a silently shifted span would train the model on the wrong words.
When a sentence appears more than once in an export, the last answer wins (as in the labels file).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..core.errors import AdaError
from ..core.fileio import atomic_open, write_jsonl
from ..core.labels import ATSC_LABELS
from ..data.records import AspectSpan, SentenceRecord
from .batch import BatchItem, sentence_id

FORMATS = ("label-studio", "prodigy", "doccano")
"""The annotation tools a batch can be exported to and annotations imported from."""

MODEL_VERSION = "ada-atsc"
"""The ``model_version`` of the Label Studio pre-annotations (Label Studio shows it beside each prediction)."""

_FROM_NAME, _TO_NAME = "label", "text"
"""The names of the ``<Labels>`` and ``<Text>`` tags of the Label Studio config; regions refer to them."""

_COLOURS = {"positive": "#2ca02c", "negative": "#d62728", "neutral": "#7f7f7f"}


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise AdaError(f"unknown annotation format {fmt!r}: choose one of {', '.join(FORMATS)}")


def _region_id(item_id: str, start: int, end: int) -> str:
    """A short region id that is the same each time the batch is exported (Label Studio wants one per region)."""
    return hashlib.sha1(f"{item_id}:{start}:{end}".encode()).hexdigest()[:10]


def _confidence(uncertainty: float) -> float:
    """Label Studio's prediction score (higher: surer), so its task list can be sorted by the model's doubt."""
    return round(min(1.0, max(0.0, 1.0 - float(uncertainty))), 6)


def label_studio_config() -> str:
    """The Label Studio labelling config for the exported tasks: one polarity label per highlighted span."""
    labels = "\n".join(f'    <Label value="{label}" background="{_COLOURS.get(label, "#1f77b4")}"/>'
                       for label in ATSC_LABELS)
    return (f'<View>\n  <Labels name="{_FROM_NAME}" toName="{_TO_NAME}">\n{labels}\n  </Labels>\n'
            f'  <Text name="{_TO_NAME}" value="$text"/>\n</View>\n')


def _label_studio_task(item: BatchItem) -> dict:
    result = [{"id": _region_id(item.id, g.start, g.end), "from_name": _FROM_NAME, "to_name": _TO_NAME,
               "type": "labels",
               "value": {"start": g.start, "end": g.end, "text": g.term, "labels": [g.label]},
               "score": round(float(g.score), 6)}
              for g in item.predictions]
    return {"data": {"text": item.text, "ada_id": item.id},
            "predictions": [{"model_version": MODEL_VERSION, "score": _confidence(item.uncertainty),
                             "result": result}]}


def _prodigy_task(item: BatchItem) -> dict:
    return {"text": item.text, "meta": {"ada_id": item.id, "uncertainty": round(float(item.uncertainty), 6)},
            "spans": [{"start": g.start, "end": g.end, "label": g.label.upper()} for g in item.predictions]}


def _doccano_task(item: BatchItem) -> dict:
    return {"text": item.text, "label": [[g.start, g.end, g.label] for g in item.predictions],
            "ada_id": item.id}


def export_batch(items: list[BatchItem], fmt: str, output: Path) -> dict:
    """Write ``items`` as the import file of the annotation tool ``fmt``; returns what was written.

    Every record is built before anything is written and each file is written under a temporary name and
    renamed, so a failure never leaves a file the tool would import half of. Label Studio also gets its
    labelling config (``<stem>.label_config.xml`` beside ``output``), since its regions only load into a
    project whose ``<Labels>``/``<Text>`` names match them.
    """
    _check_format(fmt)
    output = Path(output)
    summary: dict = {"format": fmt, "tasks": len(items), "predictions": sum(len(i.predictions) for i in items),
                     "path": str(output)}
    if fmt == "label-studio":
        content = json.dumps([_label_studio_task(item) for item in items], ensure_ascii=False, indent=2) + "\n"
        config = output.with_name(f"{output.stem}.label_config.xml")
        with atomic_open(output) as handle:
            handle.write(content)
        with atomic_open(config) as handle:
            handle.write(label_studio_config())
        summary["config"] = str(config)
    else:
        build = _prodigy_task if fmt == "prodigy" else _doccano_task
        write_jsonl(output, [build(item) for item in items])
    return summary


# --- reading the tools' exports back ------------------------------------------------------------------------


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _polarity(label: object, where: str) -> str:
    if isinstance(label, str) and label.strip().lower() in ATSC_LABELS:
        return label.strip().lower()
    raise AdaError(f"{where}: label {label!r} is not one of {', '.join(ATSC_LABELS)} (any case)")


def _aspect(text: str, start: object, end: object, label: object, term: object, where: str) -> AspectSpan:
    """One checked aspect: integer offsets inside the text, the span's text (when the tool gives it) equal to
    the text at those offsets, and a polarity the classifier knows."""
    if not _is_int(start) or not _is_int(end):
        raise AdaError(f"{where}: start and end must be integers, got {start!r} and {end!r}")
    if not 0 <= start < end <= len(text):
        raise AdaError(f"{where}: span {start}:{end} is outside the text ({len(text)} characters)")
    if term is not None and text[start:end] != term:
        raise AdaError(f"{where}: span {start}:{end} is {text[start:end]!r} in the text, not {term!r}")
    return AspectSpan(text[start:end], start, end, _polarity(label, where))


def _text(value: object, where: str, key: str = "text") -> str:
    if not isinstance(value, str) or not value.strip():
        raise AdaError(f"{where}: {key!r} must be a non-empty string")
    return value


def _ada_id(value: object, text: str, where: str) -> str:
    if value is None:
        return sentence_id(text)
    if not isinstance(value, str) or not value:
        raise AdaError(f"{where}: 'ada_id' must be a non-empty string, got {value!r}")
    return value


def _record(record_id: str, text: str, aspects: list[AspectSpan]) -> SentenceRecord:
    return SentenceRecord(record_id, text, tuple(sorted(aspects, key=lambda a: (a.start, a.end))))


def _jsonl(path: Path) -> list[tuple[str, object]]:
    """``(where, record)`` for each non-blank line; a line that is not JSON names its line number."""
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}, line {number}"
        try:
            records.append((where, json.loads(line)))
        except ValueError as exc:
            raise AdaError(f"{where}: not valid JSON ({exc.msg})") from None
    return records


def _ls_region(region: object, text: str, where: str) -> AspectSpan | None:
    """The aspect of one Label Studio result entry, or None for an entry that is not a span label (a choice, a
    relation): only ``labels`` regions carry aspects."""
    if not isinstance(region, dict):
        raise AdaError(f"{where}: expected a JSON object")
    if region.get("type") != "labels":
        return None
    value = region.get("value")
    if not isinstance(value, dict):
        raise AdaError(f"{where}: 'value' must be a JSON object")
    return _ls_value(value, text, where)


def _ls_value(value: dict, text: str, where: str) -> AspectSpan:
    labels = value.get("labels")
    if not isinstance(labels, list) or len(labels) != 1:
        raise AdaError(f"{where}: 'labels' must list exactly one polarity, got {labels!r}")
    return _aspect(text, value.get("start"), value.get("end"), labels[0], value.get("text"), where)


def _label_studio_task_record(task: dict, where: str) -> SentenceRecord | None:
    """A full-export task: its last annotation that was not cancelled, or None when nobody annotated it."""
    data = task.get("data")
    if not isinstance(data, dict):
        raise AdaError(f"{where}: 'data' must be a JSON object")
    text = _text(data.get("text"), where, "data.text")
    annotations = task.get("annotations") or []
    if not isinstance(annotations, list):
        raise AdaError(f"{where}: 'annotations' must be a list")
    for annotation in annotations:
        if not isinstance(annotation, dict):
            raise AdaError(f"{where}: each annotation must be a JSON object")
    done = [(k, a) for k, a in enumerate(annotations, 1) if not a.get("was_cancelled")]
    if not done:
        return None
    number, annotation = done[-1]
    result = annotation.get("result") or []
    if not isinstance(result, list):
        raise AdaError(f"{where}, annotation {number}: 'result' must be a list")
    aspects = [a for k, region in enumerate(result, 1)
               if (a := _ls_region(region, text, f"{where}, annotation {number}, result {k}")) is not None]
    return _record(_ada_id(data.get("ada_id"), text, where), text, aspects)


def _label_studio_min_record(task: dict, where: str) -> SentenceRecord:
    """A ``JSON_MIN`` task (one per annotated task, data keys flattened, each control's regions under its
    name): the regions are the values that look like ``{"start", "end", "labels"}``; none means no aspect."""
    text = _text(task.get("text"), where)
    aspects = []
    for key, value in task.items():
        regions = [value] if isinstance(value, dict) else value if isinstance(value, list) else []
        if not regions or not all(isinstance(r, dict) and "labels" in r and "start" in r for r in regions):
            continue
        aspects += [_ls_value(r, text, f"{where}, {key} {k}") for k, r in enumerate(regions, 1)]
    return _record(_ada_id(task.get("ada_id"), text, where), text, aspects)


def _read_label_studio(path: Path) -> list[SentenceRecord | None]:
    try:
        tasks = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise AdaError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(tasks, list):
        raise AdaError(f"{path}: expected a JSON array of tasks (Label Studio's JSON export)")
    out: list[SentenceRecord | None] = []
    for index, task in enumerate(tasks):  # numbered from 1, as lines are
        where = f"{path}, task {index + 1}"
        if isinstance(task, dict) and _is_int(task.get("id")):
            where += f" (Label Studio id {task['id']})"
        if not isinstance(task, dict):
            raise AdaError(f"{where}: expected a JSON object")
        if "data" in task or "annotations" in task:
            out.append(_label_studio_task_record(task, where))
        elif "text" in task:
            out.append(_label_studio_min_record(task, where))
        else:
            raise AdaError(f"{where}: not a Label Studio task (no 'data' and no 'text')")
    return out


def _read_prodigy(path: Path) -> list[SentenceRecord | None]:
    out: list[SentenceRecord | None] = []
    for where, record in _jsonl(path):
        if not isinstance(record, dict):
            raise AdaError(f"{where}: expected a JSON object")
        answer = record.get("answer")
        if answer not in ("accept", "reject", "ignore"):
            raise AdaError(f"{where}: 'answer' is {answer!r}, not accept, reject or ignore "
                           "(is this Prodigy's db-out export?)")
        text = _text(record.get("text"), where)
        meta = record.get("meta") if isinstance(record.get("meta"), dict) else {}
        record_id = _ada_id(meta.get("ada_id"), text, where)
        if answer != "accept":
            out.append(None)
            continue
        spans = record.get("spans") or []
        if not isinstance(spans, list):
            raise AdaError(f"{where}: 'spans' must be a list")
        aspects = []
        for k, span in enumerate(spans, 1):
            spot = f"{where}, span {k}"
            if not isinstance(span, dict):
                raise AdaError(f"{spot}: expected a JSON object")
            aspects.append(_aspect(text, span.get("start"), span.get("end"), span.get("label"),
                                   span.get("text"), spot))
        out.append(_record(record_id, text, aspects))
    return out


def _read_doccano(path: Path) -> list[SentenceRecord | None]:
    out: list[SentenceRecord | None] = []
    for where, record in _jsonl(path):
        if not isinstance(record, dict):
            raise AdaError(f"{where}: expected a JSON object")
        text = _text(record.get("text"), where)
        aspects = []
        if "entities" in record:
            entities = record["entities"]
            if not isinstance(entities, list):
                raise AdaError(f"{where}: 'entities' must be a list")
            for k, entity in enumerate(entities, 1):
                spot = f"{where}, entity {k}"
                if not isinstance(entity, dict):
                    raise AdaError(f"{spot}: expected an object with start_offset, end_offset and label")
                aspects.append(_aspect(text, entity.get("start_offset"), entity.get("end_offset"),
                                       entity.get("label"), None, spot))
        else:
            key = "label" if "label" in record else "labels"
            spans = record.get(key)
            if not isinstance(spans, list):
                raise AdaError(f"{where}: expected 'label' as a list of [start, end, label] "
                               "or 'entities' as a list of objects")
            for k, span in enumerate(spans, 1):
                spot = f"{where}, {key} {k}"
                if not isinstance(span, list) or len(span) != 3:
                    raise AdaError(f"{spot}: expected [start, end, label], got {span!r}")
                aspects.append(_aspect(text, span[0], span[1], span[2], None, spot))
        out.append(_record(_ada_id(record.get("ada_id"), text, where), text, aspects))
    return out


_READERS = {"label-studio": _read_label_studio, "prodigy": _read_prodigy, "doccano": _read_doccano}


def import_annotations(path: Path, fmt: str) -> list[SentenceRecord]:
    """The labelled sentences of an annotation tool's export, in file order, each sentence once.

    Records nobody answered (a Label Studio task without a kept annotation, a Prodigy reject or ignore) are
    left out, so they stay unlabelled rather than being read as "no aspect". The whole file is checked
    before anything is returned: a malformed record is one :class:`AdaError` line naming the file and record.
    """
    _check_format(fmt)
    path = Path(path)
    if not path.is_file():
        raise AdaError(f"{path}: annotation export not found")
    latest: dict[str, SentenceRecord] = {}
    for record in _READERS[fmt](path):
        if record is not None:
            latest.pop(record.id, None)
            latest[record.id] = record
    return list(latest.values())


def write_labels(records: list[SentenceRecord], output: Path) -> int:
    """Write labelled sentences as the project's sentence JSONL; returns how many.

    Every record is converted before the file is opened, and the file is renamed into place only when
    complete, so a failure leaves no output (or the previous one) rather than a labels file cut short.
    """
    lines = [record.to_record() for record in records]
    return write_jsonl(Path(output), lines)

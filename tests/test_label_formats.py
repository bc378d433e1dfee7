"""Exporting a labelling batch to Label Studio, Prodigy and doccano, and reading their exports back."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ada_atsc.core.errors import AdaError
from ada_atsc.core.labels import ATSC_LABELS
from ada_atsc.label.batch import BatchItem, Guess, sentence_id
from ada_atsc.label.formats import FORMATS, export_batch, import_annotations, write_labels

TEXTS = ["The room was tiny but spotless.", "Great pizza, rude waiter.", "We came back on Monday."]


def _guess(text: str, term: str, label: str, score: float) -> Guess:
    start = text.index(term)
    return Guess(term, start, start + len(term), label, score, {label: score})


def _batch() -> list[BatchItem]:
    a, b, c = TEXTS
    return [BatchItem(sentence_id(a), a, (_guess(a, "room", "negative", 0.91),), 0.42, {"review": "r1"}),
            BatchItem(sentence_id(b), b, (_guess(b, "pizza", "positive", 0.8),
                                          _guess(b, "waiter", "negative", 0.7)), 1.3),
            BatchItem(sentence_id(c), c, (), 0.1)]


def _spans(records) -> dict:
    return {r.id: [(a.term, a.start, a.end, a.polarity) for a in r.aspects] for r in records}


def _expected(items: list[BatchItem]) -> dict:
    return {i.id: [(g.term, g.start, g.end, g.label) for g in i.predictions] for i in items}


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _write_jsonl(path: Path, records: list) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _one_line_error(path: Path, fmt: str) -> str:
    with pytest.raises(AdaError) as info:
        import_annotations(path, fmt)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    return message


# --- Label Studio --------------------------------------------------------------------------------------------


def _ls_annotated(tasks: list[dict]) -> list[dict]:
    """What Label Studio's JSON export gives when the annotator submitted each pre-annotation unchanged."""
    out = []
    for number, task in enumerate(tasks, 1):
        result = [{k: v for k, v in region.items() if k != "score"} | {"origin": "prediction"}
                  for region in task["predictions"][0]["result"]]
        out.append({"id": number, "data": task["data"], "predictions": task["predictions"],
                    "annotations": [{"id": 100 + number, "completed_by": 1, "result": result,
                                     "was_cancelled": False, "ground_truth": False}]})
    return out


def test_label_studio_export_shape_and_config(tmp_path):
    items = _batch()
    summary = export_batch(items, "label-studio", tmp_path / "batch.json")
    tasks = json.loads((tmp_path / "batch.json").read_text(encoding="utf-8"))
    assert isinstance(tasks, list) and len(tasks) == 3
    assert summary["tasks"] == 3 and summary["predictions"] == 3
    first = tasks[0]
    assert first["data"] == {"text": TEXTS[0], "ada_id": items[0].id}
    prediction = first["predictions"][0]
    assert prediction["model_version"] == "ada-atsc"
    assert prediction["score"] == pytest.approx(0.58)
    region = prediction["result"][0]
    assert region["from_name"] == "label" and region["to_name"] == "text" and region["type"] == "labels"
    assert region["value"] == {"start": 4, "end": 8, "text": "room", "labels": ["negative"]}
    assert region["score"] == pytest.approx(0.91)
    assert tasks[1]["predictions"][0]["score"] == 0.0  # uncertainty 1.3 clipped
    ids = [r["id"] for r in tasks[1]["predictions"][0]["result"]]
    assert len(set(ids)) == 2
    export_batch(items, "label-studio", tmp_path / "again.json")  # region ids are stable across exports
    again = json.loads((tmp_path / "again.json").read_text(encoding="utf-8"))
    assert [r["id"] for r in again[1]["predictions"][0]["result"]] == ids

    config = Path(summary["config"])
    assert config == tmp_path / "batch.label_config.xml"
    root = ET.fromstring(config.read_text(encoding="utf-8"))
    assert root.tag == "View"
    labels = root.find("Labels")
    assert labels.get("name") == "label" and labels.get("toName") == "text"
    assert tuple(label.get("value") for label in labels.findall("Label")) == ATSC_LABELS
    text = root.find("Text")
    assert text.get("name") == "text" and text.get("value") == "$text"


def test_label_studio_round_trip(tmp_path):
    items = _batch()
    export_batch(items, "label-studio", tmp_path / "batch.json")
    tasks = json.loads((tmp_path / "batch.json").read_text(encoding="utf-8"))
    exported = tmp_path / "export.json"
    exported.write_text(json.dumps(_ls_annotated(tasks)), encoding="utf-8")
    records = import_annotations(exported, "label-studio")
    assert [r.id for r in records] == [i.id for i in items]
    assert [r.sentence for r in records] == TEXTS
    assert _spans(records) == _expected(items)
    assert records[2].aspects == ()


def test_label_studio_reads_the_annotation_not_the_prediction(tmp_path):
    items = _batch()
    export_batch(items, "label-studio", tmp_path / "batch.json")
    annotated = _ls_annotated(json.loads((tmp_path / "batch.json").read_text(encoding="utf-8")))
    annotated[0]["annotations"][0]["result"][0]["value"]["labels"] = ["Neutral"]
    exported = tmp_path / "export.json"
    exported.write_text(json.dumps(annotated), encoding="utf-8")
    records = import_annotations(exported, "label-studio")
    assert records[0].aspects[0].polarity == "neutral"


def test_label_studio_cancelled_empty_and_unannotated(tmp_path):
    a, b, c = TEXTS
    region = {"id": "x", "from_name": "label", "to_name": "text", "type": "labels",
              "value": {"start": 4, "end": 8, "text": "room", "labels": ["positive"]}}
    wrong = {"id": "y", "from_name": "label", "to_name": "text", "type": "labels",
             "value": {"start": 13, "end": 17, "text": "tiny", "labels": ["negative"]}}
    tasks = [
        # the last annotation was cancelled: the one before it counts (not the first)
        {"id": 1, "data": {"text": a}, "annotations": [
            {"result": [], "was_cancelled": False},
            {"result": [region], "was_cancelled": False},
            {"result": [wrong], "was_cancelled": True}]},
        # submitted with nothing highlighted: a label meaning "no aspect"
        {"id": 2, "data": {"text": b, "ada_id": "s-custom"}, "annotations": [{"result": [], "was_cancelled": False}]},
        # only a cancelled annotation, and no annotation at all: not labelled yet
        {"id": 3, "data": {"text": c}, "annotations": [{"result": [], "was_cancelled": True}]},
        {"id": 4, "data": {"text": "Nobody looked at this one."}, "annotations": []},
    ]
    exported = tmp_path / "export.json"
    exported.write_text(json.dumps(tasks), encoding="utf-8")
    records = import_annotations(exported, "label-studio")
    assert [r.id for r in records] == [sentence_id(a), "s-custom"]
    assert _spans(records) == {sentence_id(a): [("room", 4, 8, "positive")], "s-custom": []}


def test_label_studio_json_min(tmp_path):
    a, b = TEXTS[:2]
    tasks = [{"id": 1, "text": a, "ada_id": sentence_id(a), "annotator": "me@example.com",
              "label": [{"start": 4, "end": 8, "text": "room", "labels": ["negative"]}]},
             {"id": 2, "text": b}]
    exported = tmp_path / "min.json"
    exported.write_text(json.dumps(tasks), encoding="utf-8")
    records = import_annotations(exported, "label-studio")
    assert _spans(records) == {sentence_id(a): [("room", 4, 8, "negative")], sentence_id(b): []}


# --- Prodigy -------------------------------------------------------------------------------------------------


def test_prodigy_round_trip_and_reject_skipped(tmp_path):
    items = _batch()
    summary = export_batch(items, "prodigy", tmp_path / "batch.jsonl")
    assert summary["tasks"] == 3
    tasks = _lines(tmp_path / "batch.jsonl")
    assert tasks[0] == {"text": TEXTS[0], "meta": {"ada_id": items[0].id, "uncertainty": 0.42},
                        "spans": [{"start": 4, "end": 8, "label": "NEGATIVE"}]}
    assert all("_input_hash" not in t and "_task_hash" not in t for t in tasks)
    answers = ["accept", "accept", "accept"]
    annotated = [t | {"_input_hash": 1, "_task_hash": 2, "_view_id": "ner_manual", "answer": answer}
                 for t, answer in zip(tasks, answers)]
    exported = _write_jsonl(tmp_path / "db-out.jsonl", annotated)
    records = import_annotations(exported, "prodigy")
    assert _spans(records) == _expected(items)

    annotated[1]["answer"] = "reject"
    annotated[2]["answer"] = "ignore"
    annotated[0]["spans"][0]["label"] = "Positive"  # labels are read in any case
    records = import_annotations(_write_jsonl(tmp_path / "db-out.jsonl", annotated), "prodigy")
    assert _spans(records) == {items[0].id: [("room", 4, 8, "positive")]}


def test_prodigy_needs_an_answer(tmp_path):
    export_batch(_batch(), "prodigy", tmp_path / "batch.jsonl")
    message = _one_line_error(tmp_path / "batch.jsonl", "prodigy")  # the task file itself, not db-out
    assert "line 1" in message and "answer" in message


# --- doccano -------------------------------------------------------------------------------------------------


def test_doccano_round_trip_both_shapes(tmp_path):
    items = _batch()
    export_batch(items, "doccano", tmp_path / "batch.jsonl")
    tasks = _lines(tmp_path / "batch.jsonl")
    assert tasks[1] == {"text": TEXTS[1], "label": [[6, 11, "positive"], [18, 24, "negative"]],
                        "ada_id": items[1].id}
    # the older export: "label" as [start, end, label] lists, extra keys kept
    old = [{"id": n, "text": t["text"], "label": t["label"], "ada_id": t["ada_id"], "Comments": []}
           for n, t in enumerate(tasks, 1)]
    records = import_annotations(_write_jsonl(tmp_path / "old.jsonl", old), "doccano")
    assert _spans(records) == _expected(items)
    # the newer export: "entities" as objects (and no ada_id: the id is the sentence's)
    new = [{"id": n, "text": t["text"],
            "entities": [{"id": 10 * n + k, "label": s[2].upper(), "start_offset": s[0], "end_offset": s[1]}
                         for k, s in enumerate(t["label"])], "relations": []}
           for n, t in enumerate(tasks, 1)]
    records = import_annotations(_write_jsonl(tmp_path / "new.jsonl", new), "doccano")
    assert _spans(records) == _expected(items)


# --- malformed input -----------------------------------------------------------------------------------------


def test_bad_json_line_names_the_line(tmp_path):
    path = tmp_path / "export.jsonl"
    path.write_text('{"text": "Nice view.", "label": []}\n\n{"text": "oops", "label": [\n', encoding="utf-8")
    for fmt in ("prodigy", "doccano"):
        message = _one_line_error(path, fmt)
        assert "line 3" in message and "not valid JSON" in message
    broken = tmp_path / "export.json"
    broken.write_text('[{"data": {"text": "x"}', encoding="utf-8")
    assert "not valid JSON" in _one_line_error(broken, "label-studio")


def test_span_text_mismatch(tmp_path):
    text = TEXTS[0]
    tasks = [{"id": 7, "data": {"text": "Fine."}, "annotations": [{"result": []}]},
             {"id": 9, "data": {"text": text}, "annotations": [{"result": [
                 {"type": "labels", "value": {"start": 5, "end": 9, "text": "room", "labels": ["positive"]}}]}]}]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(tasks), encoding="utf-8")
    message = _one_line_error(path, "label-studio")
    assert "task 2" in message and "Label Studio id 9" in message and "'oom '" in message

    spans = [{"text": text, "answer": "accept", "spans": [{"start": 4, "end": 8, "text": "bed", "label": "POSITIVE"}]}]
    message = _one_line_error(_write_jsonl(tmp_path / "p.jsonl", spans), "prodigy")
    assert "line 1, span 1" in message and "'bed'" in message


def test_offsets_out_of_range_or_not_integers(tmp_path):
    text = TEXTS[0]
    cases = [[0, len(text) + 1, "positive"], [-1, 3, "positive"], [5, 5, "positive"], ["4", 8, "positive"],
             [4.0, 8, "positive"], [True, 8, "positive"]]
    for span in cases:
        path = _write_jsonl(tmp_path / "d.jsonl", [{"text": "Fine.", "label": []}, {"text": text, "label": [span]}])
        message = _one_line_error(path, "doccano")
        assert "line 2, label 1" in message
    entity = {"start_offset": 4, "end_offset": 99, "label": "positive"}
    path = _write_jsonl(tmp_path / "e.jsonl", [{"text": text, "entities": [entity]}])
    message = _one_line_error(path, "doccano")
    assert "line 1, entity 1" in message and "outside the text" in message


def test_unknown_label(tmp_path):
    text = TEXTS[0]
    path = _write_jsonl(tmp_path / "d.jsonl", [{"text": text, "label": [[4, 8, "conflict"]]}])
    message = _one_line_error(path, "doccano")
    assert "line 1" in message and "'conflict'" in message
    path = _write_jsonl(tmp_path / "p.jsonl", [{"text": text, "answer": "accept",
                                                 "spans": [{"start": 4, "end": 8, "label": "ASPECT"}]}])
    assert "'ASPECT'" in _one_line_error(path, "prodigy")
    tasks = [{"id": 1, "data": {"text": text}, "annotations": [{"result": [
        {"type": "labels", "value": {"start": 4, "end": 8, "text": "room", "labels": ["positive", "negative"]}}]}]}]
    (tmp_path / "ls.json").write_text(json.dumps(tasks), encoding="utf-8")
    assert "task 1" in _one_line_error(tmp_path / "ls.json", "label-studio")


def test_unknown_format(tmp_path):
    path = _write_jsonl(tmp_path / "d.jsonl", [{"text": "Fine.", "label": []}])
    for call in (lambda: import_annotations(path, "brat"), lambda: export_batch(_batch(), "brat", tmp_path / "x")):
        with pytest.raises(AdaError) as info:
            call()
        assert "'brat'" in str(info.value) and all(fmt in str(info.value) for fmt in FORMATS)
    assert not (tmp_path / "x").exists()


def test_failed_import_writes_nothing(tmp_path):
    text = TEXTS[0]
    good = {"text": text, "label": [[4, 8, "negative"]]}
    path = _write_jsonl(tmp_path / "d.jsonl", [good, good | {"label": [[4, 9, "negative"]]}, {"text": "x"}])
    output = tmp_path / "out" / "labels.jsonl"
    with pytest.raises(AdaError):
        write_labels(import_annotations(path, "doccano"), output)
    assert not output.exists()

    # an existing labels file is left as it was, and no temporary file is left beside it
    count = write_labels(import_annotations(_write_jsonl(tmp_path / "ok.jsonl", [good]), "doccano"), output)
    assert count == 1
    before = output.read_bytes()
    with pytest.raises(AdaError):
        write_labels(import_annotations(path, "doccano"), output)
    assert output.read_bytes() == before
    assert [p.name for p in output.parent.iterdir()] == ["labels.jsonl"]


def test_write_labels_is_the_sentence_jsonl(tmp_path):
    items = _batch()
    records = [item.guessed_labels() for item in items]
    output = tmp_path / "labels.jsonl"
    assert write_labels(records, output) == 3
    lines = _lines(output)
    assert lines == [r.to_record() for r in records]
    assert lines[0]["aspects"] == [{"term": "room", "from": 4, "to": 8, "polarity": "negative"}]
    with pytest.raises(AttributeError):
        write_labels(records + ["not a record"], tmp_path / "bad.jsonl")
    assert not (tmp_path / "bad.jsonl").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["labels.jsonl"]

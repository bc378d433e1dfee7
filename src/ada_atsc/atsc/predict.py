"""Classify aspects in new text: the :class:`Predictor` API, and the request files of ``ada-atsc predict``.

An aspect is a term (its first occurrence in the sentence, case-sensitive, else case-insensitive) or a
character span ``(start, end)``. A bad aspect (not in the sentence, empty, span outside the sentence) gives an
``error`` entry for that aspect only; the rest of the batch is still classified.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import AdaError

Aspect = str | tuple[int, int] | list | dict


def locate_aspect(sentence: str, aspect: Aspect) -> tuple[str, int, int]:
    """(term, start, end) of ``aspect`` in ``sentence``; AdaError when it is not there."""
    if isinstance(aspect, dict):
        if "from" in aspect and "to" in aspect:
            aspect = (aspect["from"], aspect["to"])
        elif "aspect" in aspect:
            aspect = aspect["aspect"]
        else:
            raise AdaError(f"aspect {aspect!r}: give 'aspect' or 'from'/'to'")
    if isinstance(aspect, (tuple, list)):
        if len(aspect) != 2:
            raise AdaError(f"aspect span {aspect!r}: expected (start, end)")
        try:
            start, end = int(aspect[0]), int(aspect[1])
        except (TypeError, ValueError) as exc:
            raise AdaError(f"aspect span {aspect!r}: offsets must be integers") from exc
        if not (0 <= start < end <= len(sentence)):
            raise AdaError(f"aspect span {start}:{end} is outside the sentence (length {len(sentence)})")
        if not sentence[start:end].strip():
            raise AdaError(f"aspect span {start}:{end} is blank")
        return sentence[start:end], start, end
    if not isinstance(aspect, str):
        raise AdaError(f"aspect {aspect!r}: expected a term or a (start, end) span")
    if not aspect.strip():
        raise AdaError("empty aspect")
    from .features import find_term

    start = find_term(sentence, aspect)
    if start < 0:
        raise AdaError(f"aspect {aspect!r} is not in the sentence")
    return sentence[start : start + len(aspect)], start, start + len(aspect)


class Predictor:
    """A trained ATSC classifier, loaded once, classifying (sentence, aspect) pairs in batches.

    >>> Predictor("model_dir").predict("The food was great but the service was slow.", aspects=["food", "service"])
    [{'aspect': 'food', 'from': 4, 'to': 8, 'label': 'positive', 'probabilities': {...}}, ...]
    """

    def __init__(self, model_dir: str | Path, *, device: str | None = None, batch_size: int = 64,
                 max_seq_length: int = 128, label_mix: bool = True):
        from .inference import load_classifier

        self.model, self.tokenizer, self.device = load_classifier(str(model_dir), device=device, label_mix=label_mix)
        self.batch_size = batch_size
        self.max_seq_length = max_seq_length
        self.labels = [self.model.config.id2label[i] for i in range(self.model.config.num_labels)]

    def predict(self, texts: str | Sequence[str], aspects: Sequence[Aspect] | Sequence[Sequence[Aspect]]) -> list:
        """Label every aspect of every sentence.

        ``texts`` is one sentence (``aspects`` a list of terms/spans; returns a list of dicts) or a list of
        sentences (``aspects`` one list per sentence; returns a list of lists). Each dict has ``aspect``,
        ``from``, ``to``, ``label`` and ``probabilities``, or ``error`` when the aspect is not usable.
        """
        single = isinstance(texts, str)
        if single:
            texts, aspects = [texts], [aspects]
        if isinstance(aspects, (str, dict)) or len(aspects) != len(texts):
            raise AdaError(f"give one list of aspects per sentence ({len(texts)} sentence(s))")
        results: list[list[dict]] = []
        pending: list[tuple[dict, str, int, int]] = []
        for text, wanted in zip(texts, aspects):
            if isinstance(wanted, (str, dict)) or (isinstance(wanted, tuple) and len(wanted) == 2
                                                   and all(isinstance(x, int) for x in wanted)):
                wanted = [wanted]  # a single aspect for this sentence
            row = []
            for aspect in wanted:
                try:
                    term, start, end = locate_aspect(text, aspect)
                except AdaError as exc:
                    row.append({"aspect": aspect if isinstance(aspect, str) else None, "error": str(exc)})
                    continue
                entry: dict[str, Any] = {"aspect": term, "from": start, "to": end}
                row.append(entry)
                pending.append((entry, text, start, end))
            results.append(row)
        self.classify_spans(pending)
        return results[0] if single else results

    def span_probabilities(self, spans: Sequence[tuple[str, int, int]]) -> np.ndarray:
        """Class probabilities (rows over :attr:`labels`) of (sentence, start, end) spans, in order."""
        from .inference import predict_proba

        return predict_proba(self.model, self.tokenizer, [s[0] for s in spans], [s[0][s[1]:s[2]] for s in spans],
                             spans=[(s[1], s[2]) for s in spans], max_seq_length=self.max_seq_length,
                             batch_size=self.batch_size, device=self.device)

    def classify_spans(self, pending: list[tuple[dict, str, int, int]]) -> None:
        """Fill ``label`` and ``probabilities`` into each ``entry`` of (entry, sentence, start, end): the span
        itself is classified (markers go around it, not around the term's first occurrence)."""
        if not pending:
            return
        probs = self.span_probabilities([p[1:] for p in pending])
        for (entry, *_), row in zip(pending, probs):
            entry["label"] = self.labels[int(row.argmax())]
            entry["probabilities"] = {label: round(float(p), 6) for label, p in zip(self.labels, row)}


def read_requests(path: Path) -> Iterator[dict]:
    """Stream the records of a JSONL or CSV file: ``sentence`` plus ``aspect`` and/or ``from``/``to`` (or
    ``aspects``: a list). A malformed line comes as an error record so that one bad line does not stop the
    rest; the file is never read whole."""
    if not path.is_file():
        raise AdaError(f"{path}: file not found")
    try:
        yield from _iter_requests(path)
    except UnicodeDecodeError as exc:
        raise AdaError(f"{path}: not valid UTF-8 (byte 0x{exc.object[exc.start]:02x})") from None
    except csv.Error as exc:
        raise AdaError(f"{path}: malformed CSV: {exc}") from None


def _iter_requests(path: Path) -> Iterator[dict]:
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames or "sentence" not in reader.fieldnames:
                raise AdaError(f"{path}: a CSV needs a 'sentence' column")
            for number, row in enumerate(reader, 2):
                request = {"line": number, **{k: v for k, v in row.items() if v not in (None, "")}}
                for key in ("from", "to"):
                    if key in request:
                        try:
                            request[key] = int(request[key])
                        except ValueError:
                            request["error"] = f"{path}:{number}: '{key}' is not an integer"
                yield request
        return
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                if not isinstance(record, dict):
                    raise ValueError("not a JSON object")
            except ValueError as exc:
                yield {"line": number, "error": f"{path}:{number}: not valid JSON ({exc})"}
                continue
            yield {"line": number, **record}


def _aspects_of(request: dict) -> list[Aspect]:
    if "aspects" in request:
        aspects = request["aspects"]
        if isinstance(aspects, (str, dict)):
            return [aspects]  # one aspect given without a list
        if not isinstance(aspects, list):
            raise AdaError(f"'aspects' must be a list of terms or [start, end] spans, got {aspects!r}")
        return [tuple(a) if isinstance(a, list) else a for a in aspects]
    if "from" in request and "to" in request:
        return [(request["from"], request["to"])]
    if "aspect" in request:
        return [request["aspect"]]
    raise AdaError("no 'aspect', 'aspects' or 'from'/'to'")


def predict_request_groups(predictor: Predictor, requests: list[dict]) -> list[list[dict]]:
    """Each request's output records, one per (sentence, aspect), in input order; a request that cannot be
    classified gets one record with an ``error`` field. The pairs of all requests are classified together
    (length-sorted batches)."""
    slots: list[list[dict]] = []
    texts, aspects, owners = [], [], []
    for req in requests:
        base = {k: req[k] for k in ("id", "line") if k in req}
        sentence = req.get("sentence")
        if "error" in req:
            slots.append([{**base, "error": req["error"]}])
        elif not isinstance(sentence, str) or not sentence.strip():
            slots.append([{**base, "error": f"line {req.get('line')}: no 'sentence' string"}])
        else:
            try:
                wanted = _aspects_of(req)
            except AdaError as exc:
                slots.append([{**base, "sentence": sentence, "error": f"line {req.get('line')}: {exc}"}])
                continue
            texts.append(sentence)
            aspects.append(wanted)
            owners.append((len(slots), base))
            slots.append([])
    results = predictor.predict(texts, aspects) if texts else []
    for (slot, base), sentence, row in zip(owners, texts, results):
        slots[slot] = [{**base, "sentence": sentence, **entry} for entry in row]
    return slots


def predict_requests(predictor: Predictor, requests: list[dict]) -> list[dict]:
    """One output record per (sentence, aspect), in input order; errors are records with an ``error`` field."""
    return [record for group in predict_request_groups(predictor, requests) for record in group]

"""Raw reviews in, every aspect with its sentiment out: an extractor and a classifier composed.

Each text is split into sentences (BlingFire, offsets kept); the extractor finds the aspect spans of each
sentence (overlapping windows cover a sentence longer than its positions); each span is classified in its
sentence by the ATSC classifier, which applies its own saved input format (aspect markers). A sentence too
long for the classifier is cut to a window of characters around the aspect, so the aspect is never the part
that truncation removes. Offsets are into the original text: ``text[from:to] == term``.

With a category model (``categories_dir``: ``train --task acsa``), each text also gets ``categories``: for
every sentence, the categories it speaks about with their labels, implicit opinions included ("It was way
overpriced." names no term but is price negative); ``from``/``to`` are the sentence's offsets in the text.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..core.errors import AdaError

CLASSIFIER_CONTEXT_CHARS = 400
"""A sentence longer than this is classified in a window of this many characters around the aspect."""


def context_window(sentence: str, start: int, end: int, max_chars: int = CLASSIFIER_CONTEXT_CHARS) -> tuple[int, int]:
    """(window start, window end) of at most ``max_chars`` characters around ``[start, end)``, cut at spaces."""
    if len(sentence) <= max_chars:
        return 0, len(sentence)
    room = max(0, max_chars - (end - start)) // 2
    left, right = max(0, start - room), min(len(sentence), end + room)
    if left > 0:
        space = sentence.find(" ", left, start)
        left = space + 1 if space >= 0 else left
    if right < len(sentence):
        space = sentence.rfind(" ", end, right)
        right = space if space >= 0 else right
    return left, right


def text_problem(text: object) -> str | None:
    """Why ``text`` cannot be analysed, or None."""
    if not isinstance(text, str):
        return f"expected a string, got {type(text).__name__}"
    if not text.strip():
        return "empty text"
    return None


class AbsaPipeline:
    """An aspect extractor and an aspect sentiment classifier, loaded once, run on batches of raw texts.

    >>> AbsaPipeline("extractor_dir", "classifier_dir").predict(["Great pizza. The waiter was rude."])
    [{'aspects': [{'term': 'pizza', 'from': 6, 'to': 11, 'label': 'positive', 'probabilities': {...},
                   'score': 0.99}, {'term': 'waiter', ...}]}]
    >>> AbsaPipeline("bundle_dir")  # an 'ada-atsc adapt' bundle: its tagger (int8 export if there), or its pair
    >>> AbsaPipeline("unified_dir")  # a unified tagger ('train --task unified'): one pass per sentence
    >>> AbsaPipeline("triplets_dir")  # a triplet tagger ('train --task triplets'): each aspect with its
    ...                               # 'opinions' ([{'term', 'from', 'to'}]), one pass per sentence
    """

    def __init__(self, extractor_dir: str | Path, classifier_dir: str | Path | None = None, *,
                 device: str | None = None, batch_size: int = 32, max_seq_length: int = 128,
                 categories_dir: str | Path | None = None):
        from ..ate.extractor import Extractor
        from ..atsc.predict import Predictor
        from ..runtime.model_dir import bundle_parts, is_bundle

        self.extractor = self.classifier = self.unified = None
        if classifier_dir is None and is_bundle(extractor_dir):  # one directory: a bundle, either kind
            extractor_dir, classifier_dir = bundle_parts(extractor_dir)
        self.opinions = False  # a triplet tagger gives each aspect its opinion words
        if classifier_dir is None:  # one model does both jobs (refused with one line if it is no tagger)
            from ..runtime.model_dir import model_kind
            from .unified import UnifiedTagger

            self.opinions = model_kind(extractor_dir) == "triplets"
            if self.opinions:
                from .triplets import TripletTagger

                self.unified = TripletTagger(extractor_dir, device=device, batch_size=batch_size,
                                             max_seq_length=max_seq_length)
            else:
                self.unified = UnifiedTagger(extractor_dir, device=device, batch_size=batch_size,
                                             max_seq_length=max_seq_length)
        else:
            self.extractor = Extractor(extractor_dir, device=device, batch_size=batch_size,
                                       max_seq_length=max_seq_length)
            self.classifier = Predictor(classifier_dir, device=device, batch_size=max(batch_size, 64),
                                        max_seq_length=max_seq_length)
        self.categories = None
        if categories_dir is not None:
            from ..acsa.predict import CategoryClassifier

            self.categories = CategoryClassifier(str(categories_dir), device=device, batch_size=max(batch_size, 64),
                                                 max_seq_length=max_seq_length)

    def predict(self, texts: str | Sequence[str], *, timings: dict | None = None) -> list[dict] | dict:
        """For each text ``{"aspects": [...]}`` (``term``, ``from``, ``to``, ``label``, ``probabilities``,
        ``score``; ``opinions`` with a triplet tagger), or ``{"error": ...}`` for a text that cannot be analysed; the rest of the batch still runs.
        ``timings``, if given, accumulates the seconds spent in ``extraction`` and ``classification``."""
        import time

        from ..ate.extractor import extract_spans
        from ..core.sentences import sentence_offsets

        single = isinstance(texts, str)
        texts = [texts] if single else list(texts)
        results: list[dict] = []
        pieces: list[tuple[int, int, int]] = []  # (text index, sentence start, sentence end)
        for index, text in enumerate(texts):
            problem = text_problem(text)
            results.append({"error": problem} if problem else
                           {"aspects": [], **({"categories": []} if self.categories else {})})
            if not problem:
                pieces.extend((index, a, b) for a, b in sentence_offsets(text))
        clock = time.perf_counter()
        if self.unified is not None:
            from .unified import aspect_record

            tagged = self.unified.tag([texts[i][a:b] for i, a, b in pieces])
            for (index, offset, stop), aspects in zip(pieces, tagged):
                results[index]["aspects"].extend(aspect_record(texts[index][offset:stop], offset, a) for a in aspects)
            tagged_at = time.perf_counter()
            self._add_categories(texts, pieces, results)
            if timings is not None:
                timings["tagging"] = timings.get("tagging", 0.0) + tagged_at - clock
                if self.categories is not None:
                    timings["categories"] = timings.get("categories", 0.0) + time.perf_counter() - tagged_at
            return self._finish(results, single)
        found = extract_spans(self.extractor.model, self.extractor.tokenizer, [texts[i][a:b] for i, a, b in pieces],
                              max_seq_length=self.extractor.max_seq_length, stride=self.extractor.stride,
                              batch_size=self.extractor.batch_size)
        extracted = time.perf_counter()
        pending = []
        for (index, offset, stop), spans in zip(pieces, found):
            sentence = texts[index][offset:stop]
            for start, end, score in spans:
                entry = {"term": sentence[start:end], "from": offset + start, "to": offset + end,
                         "score": round(score, 6)}
                results[index]["aspects"].append(entry)
                left, right = context_window(sentence, start, end)
                pending.append((entry, sentence[left:right], start - left, end - left))
        classifying = time.perf_counter()
        self.classifier.classify_spans(pending)
        classified = time.perf_counter()
        self._add_categories(texts, pieces, results)
        if timings is not None:
            timings["extraction"] = timings.get("extraction", 0.0) + extracted - clock
            timings["classification"] = timings.get("classification", 0.0) + classified - classifying
            if self.categories is not None:
                timings["categories"] = timings.get("categories", 0.0) + time.perf_counter() - classified
        for entry, *_ in pending:  # the documented key order
            entry.update({"label": entry.pop("label"), "probabilities": entry.pop("probabilities"),
                          "score": entry.pop("score")})
        return self._finish(results, single)

    def _add_categories(self, texts: list[str], pieces: list[tuple[int, int, int]], results: list[dict]) -> None:
        """The category model's findings of each sentence, with the sentence's offsets (if one is loaded)."""
        if self.categories is None:
            return
        found_categories = self.categories.categorise([texts[i][a:b] for i, a, b in pieces])
        for (index, offset, stop), categories in zip(pieces, found_categories):
            results[index]["categories"].extend({**c, "from": offset, "to": stop} for c in categories)

    @staticmethod
    def _finish(results: list[dict], single: bool) -> list[dict] | dict:
        if single:
            if "error" in results[0]:
                raise AdaError(f"text: {results[0]['error']}")
            return results[0]
        return results

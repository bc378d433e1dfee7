"""Run a trained aspect extractor on text of any length: the :class:`Extractor` API.

A text is split into sentences (BlingFire, offsets kept), each sentence is encoded in windows of at most
``max_seq_length`` tokens that overlap by ``stride`` tokens (so a sentence longer than the model's positions
is covered whole, never cut silently), and each word takes its tag from the window where it sits farthest
from an edge. Spans come back as offsets into the original text, with a score (the mean probability of the
predicted tags of the span's words).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..core.errors import AdaError
from ..core.sentences import sentence_offsets
from ..runtime.backend import is_onnx, open_model, softmax
from ..runtime.batching import length_sorted_batches
from .features import word_offsets
from .spans import TAGS, decode_spans


def extract_spans(model, tokenizer, texts: Sequence[str], *, max_seq_length: int = 128, stride: int = 32,
                  batch_size: int = 32) -> list[list[tuple[int, int, float]]]:
    """``(start, end, score)`` spans of each text (each text is encoded whole, in overlapping windows)."""
    results = []
    for words in word_probabilities(model, tokenizer, texts, max_seq_length=max_seq_length, stride=stride,
                                    batch_size=batch_size):
        tags = [int(probs.argmax()) for _, probs in words]
        results.append(decode_spans([span for span, _ in words], tags,
                                    [float(probs[tag]) for (_, probs), tag in zip(words, tags)]))
    return results


def word_probabilities(model, tokenizer, texts: Sequence[str], *, max_seq_length: int = 128, stride: int = 32,
                       batch_size: int = 32) -> list[list[tuple[tuple[int, int], np.ndarray]]]:
    """For each text, each word's ``((start, end), tag probabilities)`` in order: the probabilities of its
    first sub-word, taken from the window where the word sits farthest from an edge. Any token-tagging model
    (an extractor, a unified tagger) reads its words through this one function."""
    if not texts:
        return []
    if stride >= max_seq_length - 4:
        raise AdaError(f"stride {stride} must be well below max_seq_length {max_seq_length}")
    enc = tokenizer(list(texts), truncation=True, max_length=max_seq_length, stride=stride,
                    return_overflowing_tokens=True, return_offsets_mapping=True, padding=False,
                    return_attention_mask=True)
    owners = enc["overflow_to_sample_mapping"]
    keys = [k for k in ("input_ids", "token_type_ids", "attention_mask") if k in enc]
    pad = tokenizer.pad_token_id or 0
    # per text: word -> (distance from the window edge, probabilities, span)
    best: list[dict[int, tuple[int, np.ndarray, tuple[int, int]]]] = [{} for _ in texts]

    def padded(rows: list[int]) -> dict[str, np.ndarray]:
        length = max(len(enc["input_ids"][i]) for i in rows)
        return {k: np.asarray([list(enc[k][i]) + [pad if k == "input_ids" else 0] * (length - len(enc[k][i]))
                               for i in rows], dtype=np.int64) for k in keys}

    batches = length_sorted_batches([len(ids) for ids in enc["input_ids"]], batch_size)
    if is_onnx(model):  # numpy in, numpy out: no PyTorch in this process
        for rows in batches:
            for row, window in zip(softmax(model(**padded(rows)).logits), rows):
                _collect(best[owners[window]], enc, window, row)
    else:
        import torch

        device = next(model.parameters()).device
        was_training = model.training
        model.eval()
        with torch.inference_mode():
            for rows in batches:
                batch = {k: torch.from_numpy(v).to(device) for k, v in padded(rows).items()}
                probs = torch.softmax(model(**batch).logits.float(), dim=-1).cpu().numpy()
                for row, window in zip(probs, rows):
                    _collect(best[owners[window]], enc, window, row)
        if was_training:
            model.train()
    return [[(words[w][2], words[w][1]) for w in sorted(words)] for words in best]


def _collect(words: dict, enc, window: int, probs: np.ndarray) -> None:
    """Keep, for each word of this window, its first sub-word's probabilities where the word is farthest from
    an edge."""
    word_ids, spans = word_offsets(enc, window, enc["offset_mapping"][window])
    n = len(word_ids)
    seen = set()
    for position, word in enumerate(word_ids):
        if word is None or word in seen:
            continue
        seen.add(word)
        margin = min(position, n - 1 - position)
        if word not in words or margin > words[word][0]:
            words[word] = (margin, probs[position], spans[word])


def load_extractor(model_dir: str, device: str | None = None):
    """(model, tokenizer, device) of a saved extractor; a clear error for a directory that is not one."""
    return load_token_tagger(model_dir, TAGS, what="an extractor", device=device)


def load_token_tagger(model_dir: str, labels: Sequence[str], *, what: str, device: str | None = None):
    """(model, tokenizer, device) of a saved token-tagging model whose ``id2label`` is ``labels`` (PyTorch or
    an ONNX export); one clear line for a directory that holds another kind of model."""
    from transformers import AutoConfig

    from ..runtime.models import resolve_model_path

    path = resolve_model_path(model_dir)
    try:
        config = AutoConfig.from_pretrained(path)
    except (OSError, ValueError) as exc:
        raise AdaError(f"{path}: cannot read the model config: {str(exc).splitlines()[0]}") from exc
    found = [str(config.id2label[i]) for i in range(len(config.id2label))] if config.id2label else []
    if tuple(found) != tuple(labels):
        kind = ("an ATSC classifier" if {"positive", "negative"} <= {x.lower() for x in found}
                else f"not {what}")
        raise AdaError(f"{path}: {kind} (labels {found}); {what} has the labels {', '.join(labels)}")

    def torch_loader(folder: str):
        from transformers import AutoModelForTokenClassification

        return AutoModelForTokenClassification.from_pretrained(folder)

    return open_model(path, torch_loader, what=what, device=device)


class Extractor:
    """A trained aspect term extractor, loaded once.

    >>> Extractor("extractor_dir").extract(["The food was great. The service was slow!"])
    [[{'term': 'food', 'from': 4, 'to': 8, 'score': 0.98}, {'term': 'service', 'from': 24, 'to': 31, ...}]]
    """

    def __init__(self, model_dir: str | Path, *, device: str | None = None, batch_size: int = 32,
                 max_seq_length: int = 128, stride: int = 32):
        self.model, self.tokenizer, self.device = load_extractor(str(model_dir), device=device)
        limit = getattr(self.model.config, "max_position_embeddings", None)
        self.max_seq_length = min(max_seq_length, limit) if limit else max_seq_length
        self.batch_size = batch_size
        self.stride = stride

    def extract(self, texts: str | Sequence[str]) -> list:
        """Aspect spans of each text (a list of dicts per text; one list for a single string).

        Each text is split into sentences; offsets are into the original text, ``text[from:to] == term``.
        """
        single = isinstance(texts, str)
        texts = [texts] if single else list(texts)
        pieces: list[tuple[int, int, int]] = []  # (text index, sentence start, sentence end)
        for index, text in enumerate(texts):
            if not isinstance(text, str):
                raise AdaError(f"text {index}: expected a string, got {type(text).__name__}")
            pieces.extend((index, a, b) for a, b in sentence_offsets(text))
        spans = extract_spans(self.model, self.tokenizer, [texts[i][a:b] for i, a, b in pieces],
                              max_seq_length=self.max_seq_length, stride=self.stride, batch_size=self.batch_size)
        results: list[list[dict]] = [[] for _ in texts]
        for (index, offset, _), found in zip(pieces, spans):
            for start, end, score in found:
                a, b = offset + start, offset + end
                results[index].append({"term": texts[index][a:b], "from": a, "to": b, "score": round(score, 6)})
        return results[0] if single else results

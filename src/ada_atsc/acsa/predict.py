"""Run a trained aspect-category classifier: probabilities per (sentence, category), and the categories found.

:class:`CategoryClassifier` is what ``predict --model CATEGORY_MODEL``, the pipeline (``absa --categories``),
the server and ``report`` use. A category is *found* in a sentence as the model's schema decides
(:meth:`.schema.CategorySchema.decide`: its probability of being mentioned reaches the threshold tuned on dev);
its label is then the arg-max among the polarities.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..core.errors import AdaError
from ..runtime.batching import PairCollator, length_sorted_batches
from .features import encode_category_pairs
from .schema import CategorySchema


def category_probabilities(model, tokenizer, sentences: Sequence[str], schema: CategorySchema, *,
                           max_seq_length: int = 128, batch_size: int = 64, device: Any = None) -> np.ndarray:
    """Class probabilities, shape ``(sentences, categories, labels)``, in input order."""
    import torch

    shape = (len(sentences), len(schema.categories), len(schema.labels))
    if not sentences:
        return np.zeros(shape, dtype=np.float32)
    features = encode_category_pairs(tokenizer, sentences, schema, max_seq_length)
    out = np.zeros((len(features), len(schema.labels)), dtype=np.float32)
    device = device or next(model.parameters()).device
    was_training = model.training
    model.eval()
    collate = PairCollator(tokenizer.pad_token_id or 0)
    with torch.inference_mode():
        for batch_ids in length_sorted_batches([len(f["input_ids"]) for f in features], batch_size):
            batch = {k: v.to(device) for k, v in collate([features[i] for i in batch_ids]).items()}
            out[batch_ids] = torch.softmax(model(**batch).logits.float(), dim=-1).cpu().numpy()
    if was_training:
        model.train()
    return schema.correct(out).reshape(shape)


def found_categories(rows: np.ndarray, schema: CategorySchema) -> list[dict]:
    """The categories found in one sentence (``rows``: its ``(categories, labels)`` probabilities), each with
    its label and the probabilities of every class."""
    return [{"category": category, "label": schema.labels[int(decision)],
             "probabilities": {label: round(float(p), 6) for label, p in zip(schema.labels, row)}}
            for category, row, decision in zip(schema.categories, rows, schema.decide(rows)) if decision != 0]


class CategoryClassifier:
    """A category model directory, loaded once: ``categorise(sentences)`` → the categories each one mentions."""

    def __init__(self, model_dir: str, *, device: str | None = None, batch_size: int = 64, max_seq_length: int = 128):
        from ..runtime.backend import open_model
        from ..runtime.model_dir import is_export

        if is_export(model_dir):
            raise AdaError(f"{model_dir}: category models run in PyTorch only (no ONNX export yet)")

        def torch_loader(folder: str):
            from transformers import AutoModelForSequenceClassification

            return AutoModelForSequenceClassification.from_pretrained(folder)

        def check(model, tokenizer) -> None:
            CategorySchema.from_config(model.config, model_dir)

        self.model, self.tokenizer, self.device = open_model(str(model_dir), torch_loader, what="a category model",
                                                             device=device, check=check)
        self.schema = CategorySchema.from_config(self.model.config, model_dir)
        self.batch_size, self.max_seq_length = batch_size, max_seq_length
        self.model_dir = str(model_dir)

    def probabilities(self, sentences: Sequence[str]) -> np.ndarray:
        return category_probabilities(self.model, self.tokenizer, list(sentences), self.schema,
                                      max_seq_length=self.max_seq_length, batch_size=self.batch_size,
                                      device=self.device)

    def categorise(self, sentences: Sequence[str]) -> list[list[dict]]:
        """For each sentence, the categories found: ``{"category", "label", "probabilities"}``."""
        return [found_categories(rows, self.schema) for rows in self.probabilities(sentences)]

"""Score a trained aspect extractor on labeled sentences: what ``ada-atsc evaluate`` runs for an extractor
(exact character spans, micro precision, recall and F1)."""

from __future__ import annotations

from pathlib import Path


def evaluate_extractor(model_dir: str | Path, sentences: list, *, max_seq_length: int = 128, batch_size: int = 64,
                       device: str | None = None) -> tuple[dict, list[dict]]:
    """Exact-span precision, recall and F1 of the extractor in ``model_dir`` on labeled sentences."""
    from .extractor import load_extractor
    from .training import score_sentences

    model, tokenizer, _ = load_extractor(str(model_dir), device=device)
    metrics, records = score_sentences(model, tokenizer, sentences, max_seq_length, batch_size)
    metrics["model"] = str(model_dir)
    return metrics, records

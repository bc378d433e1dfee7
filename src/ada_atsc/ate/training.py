"""ATE training: the extraction task for the shared training core (``ada-atsc train --task ate``).

Same command, flags and honest protocol as ATSC (dev every ``--logging_steps``, best-dev checkpoint, test
scored at best dev and at the last step). Data are sentence-level files (``<split>.sentences.jsonl`` from
``prepare-semeval``, or any format :func:`~ada_atsc.data.readers.read_sentences` reads); the model is
``AutoModelForTokenClassification`` with the labels :data:`~ada_atsc.ate.spans.TAGS`. Dev selection uses
exact-span F1 over words; the reported scores are exact character-span precision, recall and F1 (micro).
"""

from __future__ import annotations

import logging
from pathlib import Path

from ..core.errors import AdaError
from ..data.readers import read_sentences
from ..data.records import SentenceRecord, resolve_span_overlaps
from ..runtime.model_dir import TASK_CONFIG_KEY
from ..training.fine_tune import Splits, fine_tune
from ..training.splits import load_named_splits
from .spans import IGNORE_LABEL, TAGS, decode_spans, span_scores

logger = logging.getLogger(__name__)

SENTENCE_FILES = {"train": "train.sentences.jsonl", "train_split": "train_split.sentences.jsonl",
                  "dev": "dev.sentences.jsonl", "test": "test.sentences.jsonl"}


def load_sentence_file(path: str | Path) -> list[SentenceRecord]:
    """Sentences of one file, spans made tag-able (:func:`resolve_span_overlaps`)."""
    path = Path(path)
    if not path.is_file():
        raise AdaError(f"{path}: file not found")
    records = [SentenceRecord(r.id, r.sentence, resolve_span_overlaps(r.aspects)[0]) for r in read_sentences(path)]
    if not records:
        raise AdaError(f"{path}: no sentences")
    return records


def load_sentence_splits(data_dir, train_file, dev_file, test_file, *, use_dev: bool, need_test: bool) -> Splits:
    """The sentence-level splits of a run; training never shares a sentence with dev or a test set."""
    return load_named_splits(data_dir, train_file, dev_file, test_file, file_names=SENTENCE_FILES, load=load_sentence_file,
                             missing_hint="make it with 'ada-atsc prepare-semeval'", use_dev=use_dev, need_test=need_test)


def predictions_records(sentences: list[SentenceRecord], predicted: list[list[tuple[int, int, float]]]) -> list[dict]:
    """One record per sentence: gold and predicted spans (with scores)."""
    records = []
    for record, spans in zip(sentences, predicted):
        gold = {(a.start, a.end) for a in record.aspects}
        records.append({
            "id": record.id, "sentence": record.sentence,
            "gold": [{"term": a.term, "from": a.start, "to": a.end} for a in record.aspects],
            "pred": [{"term": record.sentence[a:b], "from": a, "to": b, "score": round(s, 6)} for a, b, s in spans],
            "correct": gold == {(a, b) for a, b, _ in spans},
        })
    return records


def score_sentences(model, tokenizer, sentences: list[SentenceRecord], max_seq_length: int, batch_size: int):
    """(span scores, prediction records) of an extractor on labeled sentences."""
    from .extractor import extract_spans

    predicted = extract_spans(model, tokenizer, [s.sentence for s in sentences], max_seq_length=max_seq_length,
                              batch_size=batch_size)
    metrics = span_scores([{(a.start, a.end) for a in s.aspects} for s in sentences],
                          [{(a, b) for a, b, _ in spans} for spans in predicted])
    return metrics, predictions_records(sentences, predicted)


class ATETask:
    """Aspect term extraction for :func:`ada_atsc.training.fine_tune.fine_tune`."""

    name = "ate"
    selection_metric = "f1"
    labels: tuple[str, ...] = TAGS
    """The token classes; a task that tags more than aspect boundaries (a unified tagger) changes them and
    keeps the rest of this recipe."""

    def load_splits(self, options, use_dev: bool, need_test: bool) -> Splits:
        return load_sentence_splits(options.data_dir, options.train_file, options.dev_file, options.test_file,
                                    use_dev=use_dev, need_test=need_test)

    def prepare_train(self, splits: Splits, options) -> dict:
        if options.contrast_augmentation:
            raise AdaError("--contrast_augmentation applies to --task atsc only")
        return {"labels": list(self.labels)}

    def build(self, options):
        from transformers import AutoConfig, AutoModelForTokenClassification

        from ..runtime.models import load_tokenizer, resolve_model_path

        model_path = resolve_model_path(options.model_name_or_path, cache_dir=options.cache_dir)
        tokenizer = load_tokenizer(options.tokenizer_name or model_path, do_lower_case=options.do_lower_case)
        try:
            config = AutoConfig.from_pretrained(resolve_model_path(options.config_name) if options.config_name
                                                else model_path, cache_dir=options.cache_dir, num_labels=len(self.labels),
                                                id2label=dict(enumerate(self.labels)),
                                                label2id={t: i for i, t in enumerate(self.labels)})
            setattr(config, TASK_CONFIG_KEY, self.name)
            # a sequence classifier's head (another shape) is replaced, its encoder kept: a tagger can start from
            # a model that has learnt sentiment already
            model = AutoModelForTokenClassification.from_pretrained(model_path, config=config,
                                                                    cache_dir=options.cache_dir,
                                                                    ignore_mismatched_sizes=True)
        except (OSError, ValueError) as exc:
            raise AdaError(f"{model_path}: cannot load a model to fine-tune: {str(exc).splitlines()[0]}") from exc
        return model, tokenizer

    def encode(self, tokenizer, examples: list, options) -> list[dict]:
        from .features import encode_sentences

        return encode_sentences(tokenizer, examples, options.max_seq_length)

    def collator(self, tokenizer, options, pad_to_multiple_of: int | None):
        from .features import TokenCollator

        return TokenCollator(tokenizer.pad_token_id or 0, pad_to_multiple_of=pad_to_multiple_of)

    def compute_metrics(self, eval_pred) -> dict[str, float]:
        """Exact-span scores over words (the positions that carry a label) for dev selection."""
        preds = eval_pred.predictions.argmax(axis=-1)
        gold_sets, pred_sets = [], []
        for labels, predicted in zip(eval_pred.label_ids, preds):
            positions = [i for i, label in enumerate(labels) if label != IGNORE_LABEL]
            words = [(k, k + 1) for k in range(len(positions))]
            gold_sets.append({(a, b) for a, b, _ in decode_spans(words, [int(labels[i]) for i in positions])})
            pred_sets.append({(a, b) for a, b, _ in decode_spans(words, [int(predicted[i]) for i in positions])})
        scores = span_scores(gold_sets, pred_sets)
        return {k: scores[k] for k in ("precision", "recall", "f1")}

    def score(self, model, tokenizer, examples: list, options):
        return score_sentences(model, tokenizer, examples, options.max_seq_length, options.eval_batch_size)

    def results_txt(self, results: dict) -> str:
        from ..training.evaluation import eval_results_txt

        return eval_results_txt(results, {k: k for k in ("precision", "recall", "f1")})

    def summary(self, metrics: dict) -> str:
        return f"span P {metrics['precision']:.4f} R {metrics['recall']:.4f} F1 {metrics['f1']:.4f}"


def run_extraction_training(options, splits: Splits | None = None) -> dict:
    """Train an aspect extractor with dev selection; returns the ``eval_results.json`` content."""
    if not options.do_train:
        raise AdaError("--task ate: pass --do_train (to score a trained extractor use 'ada-atsc evaluate')")
    return fine_tune(ATETask(), options, splits)

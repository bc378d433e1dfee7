"""ATSC training: the classification task for the shared training core (:mod:`ada_atsc.training.fine_tune`).

What is ATSC's here: the pair data (:mod:`.datasets`), the classifier and its input format (aspect markers,
aspect pooling: :mod:`.features`, :mod:`.modeling`), contrast augmentation of the training split
(:mod:`.contrast`), and the scores (accuracy, macro-F1, the multi-polarity subset: :mod:`.scoring`). The
best checkpoint is the one with the best dev macro-F1.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ..core.errors import AdaError
from ..data.records import ATSC_LABELS
from ..training.fine_tune import Splits, fine_tune, resolve_precision  # noqa: F401  (resolve_precision: public here too)
from .features import InputFormat
from .metrics import classification_metrics, flat_scores
from .options import ClassifierTrainingOptions
from .scoring import score_examples

logger = logging.getLogger(__name__)


class ATSCTask:
    """Aspect-target sentiment classification for :func:`ada_atsc.training.fine_tune.fine_tune`."""

    name = "atsc"
    selection_metric = "macro_f1"

    def load_splits(self, options: ClassifierTrainingOptions, use_dev: bool, need_test: bool) -> Splits:
        from .datasets import load_splits

        return load_splits(options.data_dir, options.train_file, options.dev_file, options.test_file,
                           use_dev=use_dev, need_test=need_test)

    def prepare_train(self, splits: Splits, options: ClassifierTrainingOptions) -> dict:
        """Contrast augmentation of the training split (never dev or test); the run's described settings."""
        augment = float(options.contrast_augmentation or 0.0)
        if not 0.0 <= augment <= 1.0:
            raise AdaError(f"--contrast_augmentation {augment}: expected a share between 0 and 1")
        if augment:
            from .contrast import augment_with_contrast

            before = len(splits.train)
            splits.train = augment_with_contrast(splits.train, augment, seed=options.seed)
            logger.info("contrast augmentation: %d training variants added to %d examples (train split only)",
                        len(splits.train) - before, before)
        return {"input_format": options.input_format.to_config(), "contrast_augmentation": augment}

    def build(self, options: ClassifierTrainingOptions):
        return _load_model_and_tokenizer(options, options.input_format)

    def encode(self, tokenizer, examples: list, options: ClassifierTrainingOptions) -> list[dict]:
        from .features import encode_examples

        return encode_examples(tokenizer, examples, options.max_seq_length, options.input_format)

    def collator(self, tokenizer, options: ClassifierTrainingOptions, pad_to_multiple_of: int | None):
        from .features import PairCollator

        return PairCollator(tokenizer.pad_token_id or 0,
                            pad_to=options.max_seq_length if options.pad_to_max_length else None,
                            pad_to_multiple_of=pad_to_multiple_of)

    def compute_metrics(self, eval_pred) -> dict[str, float]:
        preds = eval_pred.predictions.argmax(axis=-1)
        return flat_scores(classification_metrics(eval_pred.label_ids.tolist(), preds.tolist()))

    def score(self, model, tokenizer, examples: list, options: ClassifierTrainingOptions):
        return score_examples(model, tokenizer, examples, options.max_seq_length, options.eval_batch_size)

    def results_txt(self, results: dict) -> str:
        return results_txt(results)

    def summary(self, metrics: dict) -> str:
        text = f"acc {metrics['accuracy']:.4f} macro-F1 {metrics['macro_f1']:.4f}"
        multi = (metrics.get("multi_polarity") or {}).get("accuracy")
        return text if multi is None else f"{text} multi-polarity acc {multi:.4f}"


def run_training(options: ClassifierTrainingOptions, splits: Splits | None = None) -> dict:
    """Train an ATSC classifier (or only score one: ``do_eval`` without ``do_train``); returns the results."""
    if not options.do_train and not options.do_eval:
        raise AdaError("nothing to do: pass --do_train and/or --do_eval")
    if not options.do_train:
        return _evaluate_only(options, splits)
    score = {"max_seq_length": options.max_seq_length, "batch_size": options.eval_batch_size}
    return fine_tune(ATSCTask(), options, splits,
                     score_checkpoints=lambda folder, loaded: _score_checkpoints(folder, loaded, score))


def results_txt(results: dict) -> str:
    """The 2019 ``eval_results.txt`` layout: ``key = value`` lines, best-dev test scores first."""
    from ..training.evaluation import eval_results_txt

    return eval_results_txt(results, {"acc": "accuracy", "f1_macro": "macro_f1"})


def _load_model_and_tokenizer(options: ClassifierTrainingOptions, input_format: InputFormat):
    from transformers import AutoConfig

    from ..core.labels import ID2LABEL, LABEL2ID
    from ..runtime.models import load_tokenizer, resolve_model_path
    from .features import add_marker_tokens
    from .modeling import new_classifier

    model_path = resolve_model_path(options.model_name_or_path, cache_dir=options.cache_dir)
    tokenizer = load_tokenizer(options.tokenizer_name or model_path, do_lower_case=options.do_lower_case)
    label_kwargs = {"num_labels": len(ATSC_LABELS), "id2label": dict(ID2LABEL), "label2id": dict(LABEL2ID)}
    try:
        config = AutoConfig.from_pretrained(resolve_model_path(options.config_name) if options.config_name else model_path,
                                            cache_dir=options.cache_dir, **label_kwargs)
        config.finetuning_task = options.task_name
        model = new_classifier(model_path, config, input_format, cache_dir=options.cache_dir)
    except (OSError, ValueError) as exc:
        raise AdaError(f"{model_path}: cannot load a model to fine-tune: {str(exc).splitlines()[0]}") from exc
    if input_format.aspect_markers and add_marker_tokens(tokenizer):
        encoder = model.encoder if input_format.aspect_pooling else model
        encoder.resize_token_embeddings(len(tokenizer), mean_resizing=True)
    return model, tokenizer


def _score_checkpoints(folder: Path, splits: Splits, score: dict) -> dict:
    """``--eval_all_checkpoints``: every saved checkpoint on dev and test (reported, never used to choose)."""
    from .inference import load_classifier

    scores = {}
    for checkpoint in sorted(folder.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[-1])):
        model, tokenizer, _ = load_classifier(str(checkpoint))
        entry = {}
        for name, examples in (("dev", splits.dev), ("test", splits.test)):
            if examples:
                metrics, _ = score_examples(model, tokenizer, examples, **score)
                entry[name] = flat_scores(metrics)
        scores[checkpoint.name] = entry
    return scores


def _evaluate_only(options: ClassifierTrainingOptions, splits: Splits | None) -> dict:
    """``--do_eval`` without ``--do_train``: score ``--model_name_or_path`` on the test split."""
    from .datasets import find_split, load_labeled
    from .evaluate import evaluate_model

    if splits is not None and splits.test:
        test = splits.test
    else:
        given = [options.test_file] if isinstance(options.test_file, str) else (options.test_file or [])
        path = given[0] if given else (find_split(Path(options.data_dir), "test") if options.data_dir else None)
        if not path:
            raise AdaError("--do_eval needs a test split (test.jsonl/test.xml in --data_dir, or --test_file)")
        test = load_labeled(path)
    results = evaluate_model(options.model_name_or_path, test, max_seq_length=options.max_seq_length,
                             batch_size=options.eval_batch_size)
    return results

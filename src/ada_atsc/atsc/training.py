"""Fine-tune a classifier with dev-based checkpoint selection, then score the test set honestly.

The flow of one run:

1. find the splits (training never sees a dev sentence when the dev split selects the checkpoint);
2. fine-tune with the Hugging Face ``Trainer`` (length-grouped, dynamically padded batches), evaluating the
   dev split every ``--logging_steps`` and at the last step, keeping the weights of the best dev macro-F1;
3. score the test set at the *last* step and at the *best-dev* step, both reported; the test set never
   influences any choice;
4. write the best-dev model as a plain Hugging Face directory (``id2label``/``label2id`` in config.json),
   ``eval_results.json``/``.txt`` and a predictions file per scored split, all in one atomic rename.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
import warnings
from pathlib import Path

from ..data.records import ATSC_LABELS
from ..errors import AdaError
from ..fileio import check_output_dir, staged_output_dir, write_json, write_jsonl
from .datasets import Splits, load_splits
from .features import InputFormat
from .metrics import classification_metrics, flat_scores
from .options import ClassifierTrainingOptions
from .scoring import score_examples

logger = logging.getLogger(__name__)


def resolve_precision(fp16: bool, bf16: bool, use_cuda: bool) -> tuple[bool, bool]:
    """(fp16, bf16) actually used: mixed precision needs a GPU; without one we warn and run fp32."""
    if not (fp16 or bf16):
        return False, False
    if not use_cuda:
        flag = "--fp16" if fp16 else "--bf16"
        warnings.warn(f"{flag} needs a CUDA GPU; none is in use, training in full precision (fp32)", stacklevel=2)
        logger.warning("%s needs a CUDA GPU; none is in use, training in full precision (fp32)", flag)
        return False, False
    import torch

    if bf16 and not torch.cuda.is_bf16_supported():
        logger.warning("this GPU has no bf16; using fp16 instead")
        return True, False
    return (fp16 and not bf16), bf16


def results_txt(results: dict) -> str:
    """The 2019 ``eval_results.txt`` layout: ``key = value`` lines, best-dev test scores first."""
    lines = []
    for split in ("test", "dev"):
        for which in ("best", "last"):
            metrics = results.get(split, {}).get(which)
            if not metrics:
                continue
            prefix = "" if (split, which) == ("test", "best") else f"{split}_{which}_"
            lines.append(f"{prefix}acc = {metrics['accuracy']}")
            lines.append(f"{prefix}f1_macro = {metrics['macro_f1']}")
    lines.append(f"best_step = {results.get('best_step')}")
    lines.append(f"last_step = {results.get('last_step')}")
    return "\n".join(lines) + "\n"


def _load_model_and_tokenizer(options: ClassifierTrainingOptions, input_format: InputFormat):
    from transformers import AutoConfig

    from ..models import load_tokenizer, resolve_model_path
    from .features import ID2LABEL, LABEL2ID, add_marker_tokens
    from .modeling import new_classifier

    model_path = resolve_model_path(options.model_name_or_path)
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


def _training_arguments(options: ClassifierTrainingOptions, scratch: Path, use_dev: bool):
    import torch
    from transformers import TrainingArguments

    use_cuda = torch.cuda.is_available() and not options.no_cuda
    fp16, bf16 = resolve_precision(options.fp16, options.bf16, use_cuda)
    eval_steps = options.eval_steps or options.logging_steps
    return TrainingArguments(
        output_dir=str(scratch),
        per_device_train_batch_size=options.train_batch_size,
        per_device_eval_batch_size=options.eval_batch_size,
        gradient_accumulation_steps=options.gradient_accumulation_steps,
        learning_rate=options.learning_rate,
        weight_decay=options.weight_decay,
        adam_epsilon=options.adam_epsilon,
        max_grad_norm=options.max_grad_norm,
        num_train_epochs=options.num_train_epochs,
        max_steps=options.max_steps,
        warmup_steps=options.warmup_steps,
        lr_scheduler_type="linear",
        logging_steps=options.logging_steps,
        eval_strategy="steps" if use_dev else "no",
        eval_steps=eval_steps if use_dev else None,
        save_strategy="steps" if options.save_steps > 0 else "no",
        save_steps=options.save_steps if options.save_steps > 0 else 500,
        save_only_model=True,
        seed=options.seed,
        data_seed=options.seed,
        fp16=fp16,
        bf16=bf16,
        use_cpu=not use_cuda,
        train_sampling_strategy="random" if (options.no_group_by_length or options.pad_to_max_length) else "group_by_length",
        remove_unused_columns=False,
        report_to="none",
        dataloader_num_workers=0,
        disable_tqdm=options.disable_tqdm,
        ddp_find_unused_parameters=False,
    )


def run_training(options: ClassifierTrainingOptions, splits: Splits | None = None) -> dict:
    """Train, select on dev, score test; returns the ``eval_results.json`` content (rank 0; ``{}`` elsewhere).

    ``splits`` may be passed directly (examples already loaded); otherwise they come from the data flags.
    """
    from transformers import Trainer, set_seed

    from .features import PairCollator, encode_examples
    from .selection import BestDevKeeper

    if not options.do_train and not options.do_eval:
        raise AdaError("nothing to do: pass --do_train and/or --do_eval")
    output_dir = Path(options.output_dir)
    if not options.do_train:
        return _evaluate_only(options, splits)
    check_output_dir(output_dir, options.overwrite_output_dir)
    use_dev = bool(options.evaluate_during_training)
    if splits is None:
        splits = load_splits(options.data_dir, options.train_file, options.dev_file, options.test_file,
                             use_dev=use_dev, need_test=options.do_eval)
    if use_dev and not splits.dev:
        raise AdaError("--evaluate_during_training needs a dev split")
    if options.do_eval and not splits.test:
        logger.warning("--do_eval: no test split found (test.jsonl/test.xml or --test_file); nothing will be scored")
    if options.max_seq_length < 8:
        raise AdaError(f"--max_seq_length {options.max_seq_length} is too short for [CLS] sentence [SEP] aspect [SEP]")
    if options.fp16_opt_level not in (None, "O1"):
        logger.info("--fp16_opt_level %s is an apex setting; native torch autocast is used instead", options.fp16_opt_level)

    input_format = options.input_format
    augment = float(options.contrast_augmentation or 0.0)
    if not 0.0 <= augment <= 1.0:
        raise AdaError(f"--contrast_augmentation {augment}: expected a share between 0 and 1")
    if augment:
        from .contrast import augment_with_contrast

        before = len(splits.train)
        splits.train = augment_with_contrast(splits.train, augment, seed=options.seed)
        logger.info("contrast augmentation: %d training variants added to %d examples (train split only)",
                    len(splits.train) - before, before)

    set_seed(options.seed)
    model, tokenizer = _load_model_and_tokenizer(options, input_format)
    limit = getattr(model.config, "max_position_embeddings", None)
    if limit and options.max_seq_length > limit:
        raise AdaError(f"--max_seq_length {options.max_seq_length} exceeds the model's {limit} positions")
    train_features = encode_examples(tokenizer, splits.train, options.max_seq_length, input_format)
    dev_features = encode_examples(tokenizer, splits.dev, options.max_seq_length, input_format) if splits.dev else None

    scratch = output_dir.parent / f".{output_dir.name}.training"
    training_args = _training_arguments(options, scratch, use_dev)
    is_main = training_args.process_index == 0
    if is_main and scratch.exists():
        shutil.rmtree(scratch)  # left by an interrupted run
    multiple = 8 if (training_args.fp16 or training_args.bf16) else None
    collator = PairCollator(tokenizer.pad_token_id or 0, pad_to=options.max_seq_length if options.pad_to_max_length else None,
                            pad_to_multiple_of=multiple)
    keeper = BestDevKeeper()

    def compute_metrics(eval_pred) -> dict:
        preds = eval_pred.predictions.argmax(axis=-1)
        return flat_scores(classification_metrics(eval_pred.label_ids.tolist(), preds.tolist()))

    trainer = Trainer(model=model, args=training_args, train_dataset=train_features, eval_dataset=dev_features,
                      data_collator=collator, processing_class=tokenizer,
                      compute_metrics=compute_metrics if use_dev else None, callbacks=[keeper])
    started = time.perf_counter()
    train_output = trainer.train()
    train_seconds = time.perf_counter() - started
    last_step = trainer.state.global_step
    if use_dev and last_step not in keeper.evaluated_steps():
        trainer.evaluate()  # the last step is always a candidate
    if not is_main:
        return {}

    model = trainer.model
    results: dict = {
        "task_name": options.task_name,
        "model_name_or_path": str(options.model_name_or_path),
        "seed": options.seed,
        "data": splits.sources,
        "input_format": input_format.to_config(),
        "contrast_augmentation": augment,
        "num_examples": {"train": len(splits.train), "dev": len(splits.dev or []), "test": len(splits.test or [])},
        "selection": "best dev macro-F1" if use_dev else "last step (no dev split used)",
        "last_step": last_step,
        "best_step": keeper.best_step if use_dev else last_step,
        "dev_history": keeper.history,
        "train_runtime_s": round(train_seconds, 2),
        "train_samples_per_second": train_output.metrics.get("train_samples_per_second"),
        "train_loss": train_output.metrics.get("train_loss"),
        "precision": "fp16" if training_args.fp16 else "bf16" if training_args.bf16 else "fp32",
        "world_size": training_args.world_size,
        "dev": {},
        "test": {},
    }
    predictions: dict[str, list[dict]] = {}
    score = {"max_seq_length": options.max_seq_length, "batch_size": options.eval_batch_size}
    if options.do_eval and splits.test:
        results["test"]["last"], predictions["predictions_test_last.jsonl"] = score_examples(
            model, tokenizer, splits.test, **score)
    more_tests = splits.more_tests if options.do_eval else {}
    if more_tests:
        results["more_tests"] = {name: {} for name in more_tests}
    for name, examples in more_tests.items():
        results["more_tests"][name]["last"], _ = score_examples(model, tokenizer, examples, **score)
    if use_dev:
        results["dev"]["last"], _ = score_examples(model, tokenizer, splits.dev, **score)
        keeper.restore_best(model)
        results["dev"]["best"], predictions["predictions_dev.jsonl"] = score_examples(
            model, tokenizer, splits.dev, **score)
    if options.do_eval and splits.test:
        if use_dev:
            results["test"]["best"], predictions["predictions_test.jsonl"] = score_examples(
                model, tokenizer, splits.test, **score)
        else:
            results["test"]["best"] = results["test"]["last"]
            predictions["predictions_test.jsonl"] = predictions.pop("predictions_test_last.jsonl")
    for name, examples in more_tests.items():
        if use_dev:
            results["more_tests"][name]["best"], records = score_examples(model, tokenizer, examples, **score)
        else:
            results["more_tests"][name]["best"] = results["more_tests"][name]["last"]
            records = None
        if records is not None:
            predictions[f"predictions_{name.replace('/', '_')}.jsonl"] = records

    with staged_output_dir(output_dir, options.overwrite_output_dir) as staging:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        for checkpoint in sorted(scratch.glob("checkpoint-*")) if scratch.exists() else []:
            shutil.move(str(checkpoint), staging / checkpoint.name)
        if options.eval_all_checkpoints:
            results["all_checkpoints"] = _score_checkpoints(staging, splits, score)
        for name, records in predictions.items():
            write_jsonl(staging / name, records)
        write_json(staging / "eval_results.json", results)
        (staging / "eval_results.txt").write_text(results_txt(results), encoding="utf-8")
        write_json(staging / "training_args.json", options.to_json())
        write_json(staging / "log_history.json", trainer.state.log_history)
    shutil.rmtree(scratch, ignore_errors=True)
    _log_summary(results, output_dir)
    return results


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
    """``--do_eval`` without ``--do_train``: score ``--model_name_or_path`` on the test split, print JSON."""
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
    print(json.dumps({k: results[k] for k in ("accuracy", "macro_f1", "num_examples")}, indent=2))
    return results


def _log_summary(results: dict, output_dir: Path) -> None:
    parts = [f"best step {results['best_step']} of {results['last_step']}"]
    for split in ("dev", "test"):
        for which in ("best", "last"):
            metrics = results[split].get(which)
            if metrics:
                parts.append(f"{split}/{which} acc {metrics['accuracy']:.4f} macro-F1 {metrics['macro_f1']:.4f}")
    best_test = results["test"].get("best") or {}
    if (best_test.get("multi_polarity") or {}).get("accuracy") is not None:
        parts.append(f"test/best multi-polarity acc {best_test['multi_polarity']['accuracy']:.4f}")
    for name, scores in results.get("more_tests", {}).items():
        parts.append(f"{name}/best acc {scores['best']['accuracy']:.4f} macro-F1 {scores['best']['macro_f1']:.4f}")
    logger.info("%s -> %s", "; ".join(parts), output_dir)

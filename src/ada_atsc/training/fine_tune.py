"""Fine-tune an encoder for a downstream task with dev-based checkpoint selection, then score test honestly.

One training core for aspect-target sentiment classification (:mod:`ada_atsc.atsc.training`) and aspect
term extraction (:mod:`ada_atsc.ate.training`); a :class:`Task` supplies what differs (data, model, features,
metrics, scoring). The flow of one run:

1. load the splits (training never sees a dev or test sentence);
2. fine-tune with the Hugging Face ``Trainer`` (length-grouped, dynamically padded batches), evaluating the
   dev split every ``--logging_steps`` and at the last step, keeping the weights of the best dev score
   (macro-F1 for ATSC, span F1 for ATE);
3. score the test sets at the *last* step and at the *best-dev* step, both reported; the test sets never
   influence any choice;
4. write the best-dev model as a Hugging Face directory, ``eval_results.json``/``.txt`` and a predictions
   file per scored split, all in one atomic rename.
"""

from __future__ import annotations

import logging
import shutil
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..core.errors import AdaError
from ..core.fileio import check_output_dir, staged_output_dir, write_json, write_jsonl

logger = logging.getLogger(__name__)


@dataclass
class Splits:
    """The examples a run trains, selects and tests on, and where they came from (pairs or sentences)."""

    train: list
    dev: list | None = None
    test: list | None = None
    sources: dict[str, str] = field(default_factory=dict)
    more_tests: dict[str, list] = field(default_factory=dict)
    """Further test sets (``--test_file A B``: B onwards), each scored and reported under its own name."""


class Task(Protocol):
    """What a downstream task gives the training core."""

    name: str
    selection_metric: str  # a key of the dev metrics, e.g. "macro_f1" or "f1"

    def load_splits(self, options, use_dev: bool, need_test: bool) -> Splits: ...
    def prepare_train(self, splits: Splits, options) -> dict: ...
    def build(self, options) -> tuple[Any, Any]: ...
    def encode(self, tokenizer, examples: list, options) -> list[dict]: ...
    def collator(self, tokenizer, options, pad_to_multiple_of: int | None): ...
    def compute_metrics(self, eval_pred) -> dict[str, float]: ...
    def score(self, model, tokenizer, examples: list, options) -> tuple[dict, list[dict]]: ...
    def results_txt(self, results: dict) -> str: ...
    def summary(self, metrics: dict) -> str: ...


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


def training_arguments(options, scratch: Path, use_dev: bool):
    """The Hugging Face ``TrainingArguments`` of a run (the paper's linear schedule, our honest evaluation)."""
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
        warmup_steps=options.warmup_steps or options.warmup_ratio,  # transformers 5 reads a value < 1 as a ratio
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


def leave_process_group() -> None:
    """End a torchrun run's process group on every rank once training is over; rank 0 then goes on alone
    (scoring, saving). Without it a rank exits with gloo's threads still joinable and aborts ("terminate called
    without an active exception", exit -6), failing the whole torchrun. The pause before destroying lets gloo's
    threads drop the work they finished (that needs the GIL, which sleeping releases and the destroy call
    holds): destroying while one of them waits for the GIL deadlocks."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        time.sleep(0.2)
        dist.destroy_process_group()


def fine_tune(task: Task, options, splits: Splits | None = None, *, score_checkpoints=None) -> dict:
    """Train, select on dev, score the test sets; returns ``eval_results.json`` (rank 0; ``{}`` elsewhere).

    ``splits`` may be passed directly (examples already loaded); otherwise the task loads them from the
    data flags. ``score_checkpoints(folder, splits)`` scores ``--save_steps`` checkpoints when asked.
    """
    from transformers import Trainer, set_seed

    from .selection import BestDevKeeper

    output_dir = Path(options.output_dir)
    check_output_dir(output_dir, options.overwrite_output_dir)
    if not 0 <= options.warmup_ratio < 1:
        raise AdaError(f"--warmup_ratio must be in [0, 1), got {options.warmup_ratio}")
    use_dev = bool(options.evaluate_during_training)
    if splits is None:
        splits = task.load_splits(options, use_dev=use_dev, need_test=options.do_eval)
    if use_dev and not splits.dev:
        raise AdaError("--evaluate_during_training needs a dev split")
    if options.do_eval and not splits.test:
        logger.warning("--do_eval: no test split found (test files or --test_file); nothing will be scored")
    if options.max_seq_length < 8:
        raise AdaError(f"--max_seq_length {options.max_seq_length} is too short (at least 8)")
    if options.fp16_opt_level not in (None, "O1"):
        logger.info("--fp16_opt_level %s is an apex setting; native torch autocast is used instead", options.fp16_opt_level)
    described = task.prepare_train(splits, options)

    set_seed(options.seed)
    model, tokenizer = task.build(options)
    limit = getattr(model.config, "max_position_embeddings", None)
    if limit and options.max_seq_length > limit:
        raise AdaError(f"--max_seq_length {options.max_seq_length} exceeds the model's {limit} positions")
    encode_train = getattr(task, "encode_train", task.encode)  # a task may weight or resample its training items
    train_features = encode_train(tokenizer, splits.train, options)
    dev_features = task.encode(tokenizer, splits.dev, options) if splits.dev else None

    scratch = output_dir.parent / f".{output_dir.name}.training"
    args = training_arguments(options, scratch, use_dev)
    is_main = args.process_index == 0
    if is_main and scratch.exists():
        shutil.rmtree(scratch)  # left by an interrupted run
    collator = task.collator(tokenizer, options, 8 if (args.fp16 or args.bf16) else None)
    keeper = BestDevKeeper(metric=f"eval_{task.selection_metric}")
    trainer = Trainer(model=model, args=args, train_dataset=train_features, eval_dataset=dev_features,
                      data_collator=collator, processing_class=tokenizer,
                      compute_metrics=task.compute_metrics if use_dev else None, callbacks=[keeper])
    started = time.perf_counter()
    train_output = trainer.train()
    train_seconds = time.perf_counter() - started
    last_step = trainer.state.global_step
    if use_dev and last_step not in keeper.evaluated_steps():
        trainer.evaluate()  # the last step is always a candidate
    leave_process_group()
    if not is_main:
        return {}

    model = trainer.model
    results: dict = {
        "task": task.name,
        "task_name": options.task_name,
        "model_name_or_path": str(options.model_name_or_path),
        "seed": options.seed,
        "data": splits.sources,
        **described,
        "num_examples": {"train": len(splits.train), "dev": len(splits.dev or []), "test": len(splits.test or [])},
        "selection": f"best dev {task.selection_metric}" if use_dev else "last step (no dev split used)",
        "last_step": last_step,
        "best_step": keeper.best_step if use_dev else last_step,
        "dev_history": keeper.history,
        "train_runtime_s": round(train_seconds, 2),
        "train_samples_per_second": train_output.metrics.get("train_samples_per_second"),
        "train_loss": train_output.metrics.get("train_loss"),
        "precision": "fp16" if args.fp16 else "bf16" if args.bf16 else "fp32",
        "world_size": args.world_size,
        "dev": {},
        "test": {},
    }
    predictions = _score_all(task, model, tokenizer, splits, options, keeper, results, use_dev)

    with staged_output_dir(output_dir, options.overwrite_output_dir) as staging:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        for checkpoint in sorted(scratch.glob("checkpoint-*")) if scratch.exists() else []:
            shutil.move(str(checkpoint), staging / checkpoint.name)
        if options.eval_all_checkpoints and score_checkpoints is not None:
            results["all_checkpoints"] = score_checkpoints(staging, splits)
        for name, records in predictions.items():
            write_jsonl(staging / name, records)
        write_json(staging / "eval_results.json", results)
        (staging / "eval_results.txt").write_text(task.results_txt(results), encoding="utf-8")
        if hasattr(task, "model_card"):  # a task may describe its model for the people who pick it up
            (staging / "README.md").write_text(task.model_card(results, options), encoding="utf-8")
        write_json(staging / "training_args.json", options.to_json())
        write_json(staging / "log_history.json", trainer.state.log_history)
    shutil.rmtree(scratch, ignore_errors=True)
    _log_summary(task, results, output_dir)
    return results


def _score_all(task: Task, model, tokenizer, splits: Splits, options, keeper, results: dict,
               use_dev: bool) -> dict[str, list[dict]]:
    """Score test (and further test sets) at the last step, restore the best-dev weights, score again."""
    predictions: dict[str, list[dict]] = {}
    tests = {"test": splits.test} if (options.do_eval and splits.test) else {}
    tests.update(splits.more_tests if options.do_eval else {})
    if splits.more_tests and options.do_eval:
        results["more_tests"] = {name: {} for name in splits.more_tests}

    def slot(name: str) -> dict:
        return results["test"] if name == "test" else results["more_tests"][name]

    def file_name(name: str, last: bool = False) -> str:
        stem = "test" if name == "test" else name.replace("/", "_")
        return f"predictions_{stem}{'_last' if last else ''}.jsonl"

    last_records = {}
    for name, examples in tests.items():
        slot(name)["last"], last_records[name] = task.score(model, tokenizer, examples, options)
    if use_dev:
        results["dev"]["last"], _ = task.score(model, tokenizer, splits.dev, options)
        keeper.restore_best(model)
        results["dev"]["best"], predictions["predictions_dev.jsonl"] = task.score(model, tokenizer, splits.dev, options)
    for name, examples in tests.items():
        if use_dev:
            slot(name)["best"], predictions[file_name(name)] = task.score(model, tokenizer, examples, options)
            if name == "test":
                predictions[file_name(name, last=True)] = last_records[name]
        else:
            slot(name)["best"] = slot(name)["last"]
            predictions[file_name(name)] = last_records[name]
    return predictions


def _log_summary(task: Task, results: dict, output_dir: Path) -> None:
    parts = [f"best step {results['best_step']} of {results['last_step']}"]
    for split in ("dev", "test"):
        for which in ("best", "last"):
            metrics = results[split].get(which)
            if metrics:
                parts.append(f"{split}/{which} {task.summary(metrics)}")
    for name, scores in results.get("more_tests", {}).items():
        parts.append(f"{name}/best {task.summary(scores['best'])}")
    logger.info("%s -> %s", "; ".join(parts), output_dir)

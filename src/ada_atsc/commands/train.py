"""``ada-atsc train``: fine-tune an aspect-target sentiment classifier (``--task ate``: an aspect extractor;
``--task acsa``: an aspect-category classifier; ``--task unified``: aspects and their sentiment in one model).

Accepts the 2019 ``run_glue.py`` flags verbatim (``--per_gpu_train_batch_size``, ``--fp16``,
``--evaluate_during_training`` ...) and the Hugging Face names (``--per_device_train_batch_size``,
``--bf16``), so the paper's command runs unchanged; ``compat/run_glue.py`` is a thin wrapper around this
module. Defaults follow the paper's recipe (lr 3e-5, batch 32, length 128), not run_glue's.
"""

from __future__ import annotations

import argparse
import json

from ..atsc.features import ROBUST_FORMAT
from .arguments import add_model_source, add_output_dir, add_progress, add_seed

DEFAULT_FORMAT = ROBUST_FORMAT
"""``train``'s input format; ``compat/run_glue.py`` uses the paper's (:func:`paper_defaults`)."""
DEFAULT_CONTRAST_AUGMENTATION = 0.0


def paper_defaults(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The 2019 recipe's input: no markers, [CLS] head, no augmentation (flags can still ask for them)."""
    parser.set_defaults(aspect_markers=False, aspect_pooling=False, contrast_augmentation=0.0)
    return parser


def _on_off(group, name: str, default: bool, help_text: str) -> None:
    """``--NAME`` / ``--no_NAME`` (the project's underscore spelling), default shown in the help."""
    group.add_argument(f"--{name}", dest=name, action="store_true", default=default,
                       help=f"{help_text} (default: {'on' if default else 'off'})")
    group.add_argument(f"--no_{name}", dest=name, action="store_false", help=f"turn --{name} off")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The run_glue flags, our additions, and HF aliases."""
    model = parser.add_argument_group("model")
    model.add_argument("--model_name_or_path", "--model", required=True,
                       help="encoder to fine-tune: a local directory (e.g. a domain-adapted model) or a cached hub name")
    model.add_argument("--model_type", default="bert", help="accepted for run_glue compatibility; the config decides")
    model.add_argument("--config_name", default=None, help="config to use instead of the model's own")
    model.add_argument("--tokenizer_name", default=None, help="tokenizer to use instead of the model's own")
    add_model_source(model)
    model.add_argument("--do_lower_case", action="store_true", default=None,
                       help="lower-case input (uncased models already do)")
    model.add_argument("--task_name", default="semeval2014-atsc", help="recorded in the results and config")
    model.add_argument("--task", choices=["atsc", "ate", "acsa", "unified", "triplets"], default="atsc",
                       help="atsc: classify the sentiment of aspect pairs; ate: extract aspect terms from sentences "
                            "(sentence-level data: <split>.sentences.jsonl from prepare-semeval); acsa: aspect "
                            "categories and their sentiment (<split>.categories.jsonl, or category XML such as "
                            "data/mams_acsa/train.xml); unified: one model that finds aspects and their sentiment (the "
                            "same sentence-level data as ate); triplets: the same with the opinion words behind "
                            "each aspect (ASTE data, e.g. --train_file data/aste/14res/train_triplets.txt)")

    data = parser.add_argument_group("data")
    data.add_argument("--data_dir", default=None,
                      help="folder from 'prepare-semeval' (train/dev/train_split/test .jsonl) or the 2019 layout "
                           "(train.xml, dev.xml, test.xml)")
    data.add_argument("--train_file", nargs="+", default=None,
                      help="training data in any supported format (overrides --data_dir); several files are joined")
    data.add_argument("--dev_file", nargs="+", default=None,
                      help="dev data for checkpoint selection; several files are joined (e.g. SemEval dev + MAMS val)")
    data.add_argument("--test_file", nargs="+", default=None,
                      help="test data, scored at the end only; each further file is scored and reported on its own "
                           "(e.g. rest/test.jsonl data/mams/test.xml)")
    data.add_argument("--max_seq_length", type=int, default=128, help="pairs longer than this are truncated")
    data.add_argument("--overwrite_cache", action="store_true", help="accepted for compatibility (no feature cache)")

    robust = parser.add_argument_group("aspect robustness (docs/robustness.md)")
    _on_off(robust, "aspect_markers", DEFAULT_FORMAT.aspect_markers,
            "mark the target span in the sentence with [ASP] ... [/ASP] tokens (saved with the model)")
    _on_off(robust, "aspect_pooling", DEFAULT_FORMAT.aspect_pooling,
            "classify from [CLS] and the mean of the aspect's own token states")
    robust.add_argument("--contrast_augmentation", type=float, default=DEFAULT_CONTRAST_AUGMENTATION, metavar="SHARE",
                        help="add, for this share of training items, a variant with a clause of the opposite "
                             "polarity about another aspect (built from the training split only; 0: off)")

    run = parser.add_argument_group("run")
    add_output_dir(run, "where the best-dev model and results go")
    run.add_argument("--do_train", action="store_true", help="fine-tune")
    run.add_argument("--do_eval", action="store_true", help="score the test split at the end")
    run.add_argument("--evaluate_during_training", action="store_true",
                     help="evaluate the DEV split every --logging_steps, keep the best-macro-F1 checkpoint, and "
                          "train on train_split (train minus dev)")
    run.add_argument("--eval_all_checkpoints", action="store_true",
                     help="also score every saved checkpoint on dev and test (reported, never used to choose)")
    add_seed(run, default=42, what="the classifier head, the data order and dropout")
    run.add_argument("--no_cuda", action="store_true", help="train on the CPU even if a GPU is present")
    run.add_argument("--local_rank", type=int, default=-1, help="set by the launcher; torchrun sets LOCAL_RANK")
    add_progress(run)

    optim = parser.add_argument_group("optimisation")
    optim.add_argument("--per_gpu_train_batch_size", "--per_device_train_batch_size", dest="train_batch_size",
                       type=int, default=32)
    optim.add_argument("--per_gpu_eval_batch_size", "--per_device_eval_batch_size", dest="eval_batch_size",
                       type=int, default=64)
    optim.add_argument("--gradient_accumulation_steps", type=int, default=1)
    optim.add_argument("--learning_rate", type=float, default=3e-5)
    optim.add_argument("--weight_decay", type=float, default=0.0)
    optim.add_argument("--adam_epsilon", type=float, default=1e-8)
    optim.add_argument("--max_grad_norm", type=float, default=1.0)
    optim.add_argument("--num_train_epochs", type=float, default=3.0)
    optim.add_argument("--max_steps", type=int, default=-1, help="total steps; overrides --num_train_epochs if > 0")
    optim.add_argument("--warmup_steps", type=int, default=0)
    optim.add_argument("--warmup_ratio", "--warmup_proportion", type=float, default=0.0,
                       help="warm the learning rate up over this share of the steps (used when --warmup_steps is 0)")
    optim.add_argument("--logging_steps", type=int, default=100, help="log (and evaluate on dev) every N steps")
    optim.add_argument("--eval_steps", type=int, default=None, help="evaluate on dev every N steps (default: --logging_steps)")
    optim.add_argument("--save_steps", type=int, default=0, help="also keep a checkpoint every N steps (0: none)")
    optim.add_argument("--fp16", action="store_true", help="mixed precision on a GPU (on CPU: a warning, fp32)")
    optim.add_argument("--fp16_opt_level", default="O1", help="apex setting, accepted and ignored (native autocast)")
    optim.add_argument("--bf16", action="store_true", help="bf16 mixed precision on a GPU that supports it")
    optim.add_argument("--no_group_by_length", action="store_true",
                       help="shuffle without grouping similar lengths into batches")
    optim.add_argument("--pad_to_max_length", action="store_true",
                       help="pad every batch to --max_seq_length (the 2019 recipe; slower, for comparison)")


def build_parser() -> argparse.ArgumentParser:
    """A standalone parser with the train flags (``compat/run_glue.py``, ``experiment``'s ``train`` settings)."""
    parser = argparse.ArgumentParser(prog="run_glue.py", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return parser


def training_options(args: argparse.Namespace):
    """The options of a parsed ``train`` command line, as
    :class:`~ada_atsc.atsc.options.ClassifierTrainingOptions` (field names are the flags' ``dest``; a field
    the parser does not know keeps its default)."""
    from ..atsc.options import ClassifierTrainingOptions

    given = dict(vars(args))
    if "no_progress" in given:
        given["disable_tqdm"] = given["no_progress"]
    return ClassifierTrainingOptions(**{name: given[name] for name in ClassifierTrainingOptions.field_names()
                                        if name in given})


def run(args: argparse.Namespace) -> int:
    """Train, then print the headline scores as one JSON line (``--do_eval`` alone: the test scores)."""
    from ..atsc.training import run_training

    options = training_options(args)
    if options.task == "acsa":
        from ..acsa.training import run_category_training

        results = run_category_training(options)
        if results:
            keys = ("category_detection_f1", "category_polarity_accuracy", "category_polarity_f1")
            print(json.dumps({"output_dir": str(options.output_dir), "best_step": results["best_step"],
                              "last_step": results["last_step"],
                              "test": {k: {m: round(v[m], 4) for m in keys} for k, v in results["test"].items()}}))
        return 0
    if options.task in ("ate", "unified", "triplets"):
        if options.task == "ate":
            from ..ate.training import run_extraction_training as run_tagger_training
        elif options.task == "triplets":
            from ..absa.triplet_training import run_triplet_training as run_tagger_training
        else:
            from ..absa.unified_training import run_unified_training as run_tagger_training

        results = run_tagger_training(options)
        if results:
            print(json.dumps({"output_dir": str(options.output_dir), "best_step": results["best_step"],
                              "last_step": results["last_step"],
                              "test": {k: {m: round(v[m], 4) for m in ("precision", "recall", "f1")}
                                       for k, v in results["test"].items()}}))
        return 0
    results = run_training(options)
    if results and options.do_train:
        print(json.dumps({
            "output_dir": str(options.output_dir),
            "best_step": results["best_step"],
            "last_step": results["last_step"],
            "test": {k: {"accuracy": round(v["accuracy"], 4), "macro_f1": round(v["macro_f1"], 4)}
                     for k, v in results["test"].items()},
        }))
    elif results:
        print(json.dumps({k: results[k] for k in ("accuracy", "macro_f1", "num_examples")}, indent=2))
    return 0

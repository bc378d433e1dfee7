"""The options of one classifier training run, typed: what ``ada-atsc train``, ``compat/run_glue.py``,
``experiment`` and :func:`ada_atsc.atsc.train.train_classifier` hand to :func:`.training.run_training`.

Field names are the ``run_glue`` flag names (their ``dest``), so a parsed command line converts field by
field (:func:`ada_atsc.commands.train.training_options`) and the library below the command layer never sees
an argparse object. The defaults here are the Python API's: train, select on dev, score test.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from .features import ROBUST_FORMAT, InputFormat


@dataclass
class ClassifierTrainingOptions:
    """Every setting of a classifier training run (see ``ada-atsc train --help`` for each flag)."""

    model_name_or_path: str
    output_dir: str
    task: str = "atsc"
    """``atsc`` (a sentiment classifier of aspect pairs), ``ate`` (an aspect term extractor) or ``acsa`` (an
    aspect-category classifier)."""
    # data
    data_dir: str | None = None
    train_file: list[str] | None = None
    dev_file: list[str] | None = None
    test_file: list[str] | None = None
    max_seq_length: int = 128
    # model
    config_name: str | None = None
    tokenizer_name: str | None = None
    cache_dir: str | None = None
    do_lower_case: bool | None = None
    task_name: str = "semeval2014-atsc"
    # aspect robustness (docs/robustness.md)
    aspect_markers: bool = ROBUST_FORMAT.aspect_markers
    aspect_pooling: bool = ROBUST_FORMAT.aspect_pooling
    contrast_augmentation: float = 0.0
    # run
    do_train: bool = True
    do_eval: bool = True
    evaluate_during_training: bool = True
    eval_all_checkpoints: bool = False
    overwrite_output_dir: bool = False
    seed: int = 42
    no_cuda: bool = False
    local_rank: int = -1
    disable_tqdm: bool = False
    # optimisation
    train_batch_size: int = 32
    eval_batch_size: int = 64
    gradient_accumulation_steps: int = 1
    learning_rate: float = 3e-5
    weight_decay: float = 0.0
    adam_epsilon: float = 1e-8
    max_grad_norm: float = 1.0
    num_train_epochs: float = 3.0
    max_steps: int = -1
    warmup_steps: int = 0
    warmup_ratio: float = 0.0
    """The share of the steps that warm the learning rate up (Hugging Face's name); ``warmup_steps`` wins if > 0."""
    logging_steps: int = 100
    eval_steps: int | None = None
    save_steps: int = 0
    fp16: bool = False
    fp16_opt_level: str = "O1"
    bf16: bool = False
    no_group_by_length: bool = False
    pad_to_max_length: bool = False

    @property
    def input_format(self) -> InputFormat:
        return InputFormat(aspect_markers=bool(self.aspect_markers), aspect_pooling=bool(self.aspect_pooling))

    @classmethod
    def field_names(cls) -> set[str]:
        return {f.name for f in fields(cls)}

    def to_json(self) -> dict:
        """The options as written to ``training_args.json``."""
        return asdict(self)

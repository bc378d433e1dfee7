"""Fine-tune an aspect-target sentiment classifier from Python: :func:`train_classifier`.

``ada-atsc train`` (:mod:`ada_atsc.commands.train`) and ``compat/run_glue.py`` run the same training from a
command line; the flags are the keywords here.
"""

from __future__ import annotations

from pathlib import Path


def train_classifier(model_name_or_path: str | Path, output_dir: str | Path, **options) -> dict:
    """Python entry point: the same as the CLI with flags given as keywords (``data_dir=...``, ``seed=3``).

    Keywords are :class:`~ada_atsc.atsc.options.ClassifierTrainingOptions` fields (the flags' names); the
    defaults train, select on dev and score test. ``splits`` passes loaded examples instead of files.
    Returns the eval_results dict.
    """
    from .options import ClassifierTrainingOptions
    from .training import run_training

    splits = options.pop("splits", None)
    unknown = sorted(set(options) - ClassifierTrainingOptions.field_names())
    if unknown:
        raise TypeError(f"unknown training option(s): {', '.join(unknown)}")
    for key, value in options.items():
        if isinstance(value, Path):
            options[key] = str(value)
        elif key.endswith("_file") and isinstance(value, (str, Path)):
            options[key] = [str(value)]
    return run_training(ClassifierTrainingOptions(str(model_name_or_path), str(output_dir), **options), splits=splits)

"""The output folder of LM fine-tuning: never clobber a user's directory, resume from a checkpoint, and
install the finished model so that it only opens once whole."""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from transformers.trainer_utils import get_last_checkpoint

from ..core.errors import AdaError
from ..core.fileio import check_output_dir

log = logging.getLogger(__name__)

CHECKPOINTS = "checkpoints"
"""The folder of the run's checkpoints inside ``--output_dir``."""


@dataclass
class OutputPlan:
    """Where the run writes, and what it resumes from."""

    output_dir: Path
    resume_checkpoint: str | None
    aside: Path | None  # an old output directory moved away by --overwrite_output_dir, deleted on success


def plan_output_dir(output_dir: str, overwrite: bool, resume: str | None, is_main: bool) -> OutputPlan:
    """Refuse to clobber a user's directory; find the checkpoint to resume from."""
    out = Path(output_dir)
    if resume:
        if resume == "latest":
            found = get_last_checkpoint(str(out / CHECKPOINTS)) if (out / CHECKPOINTS).is_dir() else None
            if found is None:
                raise AdaError(f"{out / CHECKPOINTS}: no checkpoint to resume from")
            resume = found
        if not (Path(resume) / "trainer_state.json").is_file():
            raise AdaError(f"{resume}: not a training checkpoint (no trainer_state.json)")
        if (out / "config.json").exists() and not overwrite:
            raise AdaError(f"{out}: already holds a finished model (pass --overwrite_output_dir to train again)")
        return OutputPlan(out, str(resume), None)
    check_output_dir(out, overwrite)
    aside = None
    if overwrite and out.is_dir() and any(out.iterdir()):
        aside = out.with_name(f".{out.name}.old-{os.getpid()}")
        if is_main:
            os.replace(out, aside)
            log.info("--overwrite_output_dir: the old %s is removed once the new model is complete", out)
    return OutputPlan(out, None, aside)


def install_final(staging: Path, out: Path) -> None:
    """Move the finished files into ``out``; ``config.json`` goes last, so a model only opens once whole."""
    names = sorted(p.name for p in staging.iterdir())
    names.sort(key=lambda name: name == "config.json")
    for name in names:
        target = out / name
        if target.is_dir():
            shutil.rmtree(target)
        os.replace(staging / name, target)
    staging.rmdir()

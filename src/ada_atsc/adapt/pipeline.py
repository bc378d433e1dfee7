"""``adapt``: the stages, one function each, run in order by :func:`run_adapt` (see :mod:`.stages` for how a
killed run resumes).

The default bundle is a unified tagger (:mod:`.tagger_stages`); ``--pipeline`` makes the pair of an extractor
and a classifier (:mod:`.pair_stages`). Both start with the same three stages (:mod:`.stages`).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ..core.errors import AdaError
from ..core.fileio import write_json
from ..runtime.model_dir import BUNDLE_MANIFEST
from .options import AdaptOptions
from .stages import Stages, corpus_stage, lm_stage, pregenerate_stage

TAGGER_STAGES = ("corpus", "pregenerate", "lm", "source_tagger", "tagger_self_training", "bundle")
"""The stages of the default bundle, a unified tagger."""
PIPELINE_STAGES = ("corpus", "pregenerate", "lm", "source_models", "self_training", "label_mix", "bundle")
"""The stages of ``--pipeline``, an extractor and a classifier."""


def prepare_output(options: AdaptOptions) -> Path:
    """The output folder: new, resumed, or (``overwrite``) an earlier adapt output replaced; anything else that
    is there already is refused, so no user data is lost."""
    out = Path(options.output_dir)
    if out.exists() and any(out.iterdir()):
        ours = (out / "work").is_dir() or (out / BUNDLE_MANIFEST).is_file()
        if options.resume and ours:
            return out
        if not ours:
            raise AdaError(f"{out}: exists and is not an 'ada-atsc adapt' output; choose another --output_dir")
        if not options.overwrite:
            raise AdaError(f"{out}: exists already (pass --resume to continue it or --overwrite_output_dir to "
                           "replace it)")
        shutil.rmtree(out)
    return out


def run_adapt(options: AdaptOptions) -> dict:
    """Run (or resume) every stage; returns the bundle's ``adapt.json``."""
    from ..runtime.models import packaged_minilm_path, resolve_model_path

    if not Path(options.corpus).is_file():
        raise AdaError(f"{options.corpus}: corpus file not found")
    labeled = options.labeled_files()
    model = resolve_model_path(options.model) if options.model else packaged_minilm_path()
    out = prepare_output(options)
    fresh = not out.exists()
    work = out / "work"
    _check_same_kind(out, options)
    stages = Stages(work, PIPELINE_STAGES if options.pipeline else TAGGER_STAGES)
    try:
        stages.run("corpus", lambda: corpus_stage(options, work))
    except AdaError:
        if fresh:  # nothing of a run that failed on its input is left behind
            shutil.rmtree(out, ignore_errors=True)
        raise
    stages.run("pregenerate", lambda: pregenerate_stage(options, work, model))
    stages.run("lm", lambda: lm_stage(options, work, model))
    if options.pipeline:
        from .pair_stages import bundle_stage, label_mix_stage, self_training_stage, source_stage

        stages.run("source_models", lambda: source_stage(options, work, labeled))
        stages.run("self_training", lambda: self_training_stage(options, work))
        stages.run("label_mix", lambda: label_mix_stage(options, work))
        stages.run("bundle", lambda: bundle_stage(options, out, stages, model, labeled))
    else:
        from .tagger_stages import source_tagger_stage, tagger_bundle_stage, tagger_self_training_stage

        stages.run("source_tagger", lambda: source_tagger_stage(options, work, labeled))
        stages.run("tagger_self_training", lambda: tagger_self_training_stage(options, work))
        stages.run("bundle", lambda: tagger_bundle_stage(options, out, stages, model, labeled))
    manifest = json.loads((out / BUNDLE_MANIFEST).read_text(encoding="utf-8"))
    manifest["stages"] = stages.record  # the bundle stage's own time too
    write_json(out / BUNDLE_MANIFEST, manifest)
    return manifest


def _check_same_kind(out: Path, options: AdaptOptions) -> None:
    """A resumed run keeps the kind it was started with (its stage markers are that kind's)."""
    kind_file = out / "work" / "kind.json"
    if kind_file.is_file():
        started = json.loads(kind_file.read_text(encoding="utf-8"))["kind"]
        if started != options.kind:
            raise AdaError(f"{out}: was started as a {started} bundle; resume it without changing --pipeline, or "
                           "pass --overwrite_output_dir to start again")
    else:
        write_json(kind_file, {"kind": options.kind})

"""Flags that several commands share, each defined once here so it has one spelling, one ``dest`` and one meaning.

* ``--output_dir``: where a command writes (each command says what goes there).
* ``--overwrite_output_dir`` (alias ``--overwrite``): replace an existing output. Without it, a command whose
  output (a directory, a file, or the split files of ``prepare-semeval``) is already there stops before any
  work and leaves it as it is.
* ``--seed``: the seed of the command's random choices; the same seed gives the same result.
* ``--no_progress`` (alias ``--disable_tqdm``, the Hugging Face name): no progress bars; ``args.no_progress``.
* ``--cache_dir`` / ``--offline``: where hub models are cached and whether they may be downloaded
  (:func:`add_model_source`); applied once for the whole process by :func:`apply_model_source`.
* ``--batch_size`` / ``--max_seq_length`` / ``--device`` of every command that runs a trained model
  (:func:`add_inference_arguments`).
* the text input/output flags of ``extract`` and ``absa`` (:func:`add_text_io_arguments`), and the streaming
  flags ``--workers`` / ``--resume`` of every file command (:func:`add_stream_arguments`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..core.errors import AdaError

OVERWRITE_HELP = "replace an existing output (without it, an output that is already there stops the command)"


def add_output_dir(parser, help_text: str, *, required: bool = True, default: str | None = None,
                   overwrite: bool = True) -> None:
    """``--output_dir`` (and, unless ``overwrite=False``, ``--overwrite_output_dir``) on ``parser`` or a group."""
    parser.add_argument("--output_dir", required=required, default=default, help=help_text)
    if overwrite:
        add_overwrite(parser)


def add_overwrite(parser) -> None:
    """``--overwrite_output_dir`` / ``--overwrite``, for a command writing a directory or a file (``--output``)."""
    parser.add_argument("--overwrite_output_dir", "--overwrite", dest="overwrite_output_dir", action="store_true",
                        help=OVERWRITE_HELP)


def add_seed(parser, *, default: int = 42, what: str = "the run") -> None:
    """``--seed``; ``what`` names the random choices it fixes."""
    parser.add_argument("--seed", type=int, default=default,
                        help=f"seed of {what} (the same seed gives the same result; default {default})")


def add_progress(parser) -> None:
    """``--no_progress`` / ``--disable_tqdm``: the one progress switch (``args.no_progress``)."""
    parser.add_argument("--no_progress", "--disable_tqdm", dest="no_progress", action="store_true",
                        help="no progress bars")


def add_model_source(parser) -> None:
    """``--cache_dir`` and ``--offline``, for commands that open a model by hub name or directory."""
    parser.add_argument("--cache_dir", default=None,
                        help="Hugging Face cache for models given by hub name (default: the HF default, HF_HUB_CACHE)")
    parser.add_argument("--offline", action="store_true",
                        help="never download: hub names must already be in the cache (same as HF_HUB_OFFLINE=1)")


def apply_model_source(args: argparse.Namespace) -> None:
    """Make ``--cache_dir`` / ``--offline`` hold for every model this process (and its workers) opens."""
    import os

    if getattr(args, "offline", False):
        os.environ["HF_HUB_OFFLINE"] = "1"
    if getattr(args, "cache_dir", None):
        os.environ["HF_HUB_CACHE"] = str(Path(args.cache_dir).expanduser())


def add_inference_arguments(parser, *, batch_size: int = 64, batch_help: str = "items per batch",
                            length_help: str = "tokens per sequence (longer ones are truncated)") -> None:
    """``--batch_size``, ``--max_seq_length`` and ``--device``: how every command that runs a trained model
    batches and where it runs (checked by :func:`check_batch_options`)."""
    parser.add_argument("--batch_size", type=int, default=batch_size, help=f"{batch_help} (default {batch_size})")
    parser.add_argument("--max_seq_length", type=int, default=128, help=f"{length_help} (default 128)")
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: a GPU if present)")


def add_stream_arguments(parser) -> None:
    """``--workers``, ``--resume``, ``--ray`` and the progress switch of the file commands (``absa``, ``extract``,
    ``predict``), which stream ``--input`` through :mod:`ada_atsc.bulk`."""
    parser.add_argument("--workers", type=int, default=1,
                        help="processes for --input (each loads the models once; CPU); output stays in input order")
    parser.add_argument("--resume", action="store_true",
                        help="continue an interrupted --input run from its OUTPUT.partial file (no record repeated "
                             "or lost)")
    parser.add_argument("--ray", metavar="auto|ADDRESS", default=None,
                        help="run the batches on Ray actors instead of local processes: 'auto' joins the running "
                             "Ray instance or starts a local one, or a cluster address (pip install 'ada-atsc[ray]')")
    add_progress(parser)


def add_text_io_arguments(parser: argparse.ArgumentParser) -> None:
    """The input/output flags of ``extract`` and ``absa``."""
    parser.add_argument("--text", help="one text (a sentence or a whole review)")
    parser.add_argument("--input", help=".txt (a text a line), .jsonl ('text' field) or .csv ('text' column)")
    parser.add_argument("--output", help="JSONL file to write (default: standard output)")
    add_overwrite(parser)
    add_inference_arguments(parser, batch_size=32, batch_help="texts per batch",
                            length_help="tokens per window (longer sentences: windows)")
    add_stream_arguments(parser)


def check_text_io(args: argparse.Namespace) -> None:
    """One clear line for a wrong combination of the text flags, before any model is loaded."""
    from ..core.textio import check_text_file

    if bool(args.text) == bool(args.input):
        raise AdaError("give either --text or --input FILE")
    if args.text is not None and not args.text.strip():
        raise AdaError("--text is empty")
    if args.input:
        check_text_file(args.input)
    check_stream_options(args)
    if args.batch_size < 1:
        raise AdaError(f"--batch_size must be at least 1, got {args.batch_size}")
    if args.max_seq_length < 16:
        raise AdaError(f"--max_seq_length {args.max_seq_length} is too short (at least 16)")


def check_stream_options(args: argparse.Namespace) -> None:
    """``--output`` (refused if it exists, unless overwriting or resuming it), ``--workers`` and ``--resume``."""
    check_output_file(args.output, args.overwrite_output_dir or args.resume)  # --resume: see bulk.run.run_stream
    if args.workers < 1:
        raise AdaError(f"--workers must be at least 1, got {args.workers}")
    if (args.workers > 1 or args.resume) and not (args.input and args.output):
        raise AdaError("--workers and --resume are for --input FILE --output FILE")
    if args.ray is not None and not args.input:
        raise AdaError("--ray is for --input FILE")
    if args.ray is not None and args.workers > 1:
        raise AdaError("give --workers N (local processes) or --ray (Ray actors), not both")


def pipeline_models(args: argparse.Namespace) -> tuple[str, str | None]:
    """(extractor, classifier) of a pipeline command: ``--model BUNDLE`` or ``--extractor`` with
    ``--classifier``; ``--model UNIFIED`` (one model for both jobs, ``train --task unified``) gives
    (that model, None)."""
    from ..runtime.model_dir import TAGGER_KINDS, bundle_parts, is_bundle, model_kind

    if args.model and (args.extractor or args.classifier):
        raise AdaError("give --model BUNDLE or --extractor with --classifier, not both")
    if args.model:
        if is_bundle(args.model):  # a tagger bundle runs its int8 export when it has one
            return bundle_parts(args.model)
        if model_kind(args.model) in TAGGER_KINDS:
            return args.model, None
        return bundle_parts(args.model)
    if not (args.extractor and args.classifier):
        raise AdaError("give --extractor and --classifier (or --model BUNDLE, an 'ada-atsc adapt' output)")
    return args.extractor, args.classifier


def check_category_model(path: str) -> None:
    """``--categories`` must name an aspect-category model (``train --task acsa``)."""
    from ..runtime.model_dir import model_kind

    if model_kind(path) != "acsa":
        raise AdaError(f"{path}: --categories is not an aspect-category model (train one with --task acsa)")


def check_output_file(output: str | None, overwrite: bool) -> None:
    """An ``--output`` file that exists is refused unless ``--overwrite_output_dir``."""
    if output and Path(output).exists() and not overwrite:
        raise AdaError(f"{output}: exists already (pass --overwrite_output_dir to replace it)")


def check_batch_options(batch_size: int, max_seq_length: int) -> None:
    """The limits ``train`` enforces, for ``predict``, ``evaluate`` and ``probe`` too."""
    if batch_size < 1:
        raise AdaError(f"--batch_size must be at least 1, got {batch_size}")
    if max_seq_length < 8:
        raise AdaError(f"--max_seq_length {max_seq_length} is too short for a sentence-aspect pair (at least 8)")

"""``ada-atsc export``: a trained classifier or extractor -> an ONNX export directory.

Recipe, one function per step:

1. load the model (either kind; the aspect-pooling classifier too) on the CPU with *eager* attention: the
   exported graph then has the attention pattern that ONNX Runtime's transformer optimiser fuses into its
   ``Attention`` kernel (an SDPA graph is left unfused);
2. :func:`trace_to_onnx`: ``torch.onnx.export`` (TorchScript exporter) with dynamic batch and sequence axes;
3. :func:`optimise`: ONNX Runtime's transformer optimiser (fused embeddings, attention, skip-LayerNorm, GELU);
4. :func:`quantise`: with ``--quantize int8``, ONNX Runtime's dynamic quantisation (int8 weights with one scale
   per output channel, activations quantised per batch at run time: the matrix products run on int8 units
   such as AVX-512 VNNI);
5. the tokenizer and the model's config beside the graph, and ``ada_atsc_export.json``: how it was made
   (source model fingerprint, tokenizer fingerprint, opset, optimisation, quantisation, versions). The runtime
   refuses an export whose tokenizer does not match that fingerprint.

``onnxruntime`` and ``onnx`` are an optional extra (``pip install 'ada-atsc[onnx]'``).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from ..core.errors import AdaError
from ..core.labels import EXTRACTION_TAGS, TRIPLET_TAGS, UNIFIED_TAGS
from ..runtime.model_dir import EXPORT_MANIFEST, is_export  # noqa: F401  (re-exported)
from ..runtime.onnx import FORMAT_VERSION, ONNX_FILE, file_sha256, require_onnx, tokenizer_fingerprint

logger = logging.getLogger(__name__)

QUANTIZATIONS = ("int8",)


@dataclass(frozen=True)
class ExportOptions:
    """How to export: ``quantize`` None (fp32) or ``"int8"``; ``opset``; ``optimize`` with ORT's optimiser."""

    quantize: str | None = None
    opset: int = 17
    optimize: bool = True
    overwrite: bool = False

    def __post_init__(self) -> None:
        if self.quantize not in (None, *QUANTIZATIONS):
            raise AdaError(f"--quantize {self.quantize}: choose from {', '.join(QUANTIZATIONS)}")
        if not 14 <= self.opset <= 21:
            raise AdaError(f"--opset {self.opset}: choose an opset from 14 to 21")


def model_fingerprint(folder: Path) -> str:
    """One hash over the source model's weight and config files (names and bytes)."""
    digest = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        if path.is_file() and (path.suffix in (".safetensors", ".bin") or path.name == "config.json"):
            digest.update(path.name.encode())
            digest.update(file_sha256(path).encode())
    return "sha256:" + digest.hexdigest()


def logits_module(model, input_names: list[str]):
    """``model`` as a module that takes its inputs positionally (in ``input_names`` order) and returns the
    logits tensor alone: the form the TorchScript exporter traces."""
    import torch

    class LogitsOnly(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, *tensors):
            return self.model(**dict(zip(input_names, tensors))).logits

    return LogitsOnly()


TOKEN_TAGGERS = {"ate": EXTRACTION_TAGS, "unified": UNIFIED_TAGS, "triplets": TRIPLET_TAGS}
"""The model kinds whose logits have a sequence axis (a tag per token), with their labels."""


def load_for_export(model_dir: Path):
    """(kind, model, tokenizer, sample inputs): the model on the CPU, eager attention, eval mode."""
    from ..runtime.model_dir import model_kind

    kind = model_kind(model_dir)
    if kind in TOKEN_TAGGERS:
        from ..ate.extractor import load_token_tagger

        model, tokenizer, _ = load_token_tagger(str(model_dir), TOKEN_TAGGERS[kind], what=f"a {kind} model",
                                                device="cpu")
        sample = tokenizer(["the food was great", "service"], return_tensors="pt", padding=True)
        sample = {k: sample[k] for k in ("input_ids", "attention_mask", "token_type_ids") if k in sample}
    else:
        from ..atsc.features import InputFormat, PairCollator, encode_pairs
        from ..atsc.inference import load_classifier

        model, tokenizer, _ = load_classifier(str(model_dir), device="cpu")
        features = encode_pairs(tokenizer, ["the food was great", "service was slow"], ["food", "service"], 64,
                                input_format=InputFormat.from_config(model.config))
        sample = PairCollator(tokenizer.pad_token_id or 0)(features)
        sample.pop("labels", None)
    encoder = getattr(model, "encoder", model)  # the aspect-pooling classifier holds its encoder
    if hasattr(encoder, "set_attn_implementation"):
        encoder.set_attn_implementation("eager")
    model.eval()
    return kind, model, tokenizer, sample


def trace_to_onnx(model, sample: dict, path: Path, opset: int, per_token: bool) -> list[str]:
    """The fp32 graph with dynamic batch and sequence axes; returns its input names. ``per_token``: the
    logits have a sequence axis too (an extractor)."""
    import warnings

    import torch

    names = list(sample)
    axes = {name: {0: "batch", 1: "sequence"} for name in names}
    axes["logits"] = {0: "batch", 1: "sequence"} if per_token else {0: "batch"}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notes
        torch.onnx.export(logits_module(model, names), tuple(sample[n] for n in names), str(path), input_names=names,
                          output_names=["logits"], dynamic_axes=axes, opset_version=opset, dynamo=False,
                          do_constant_folding=True)
    return names


def optimise(path: Path, config) -> dict:
    """ORT's transformer optimiser in place; returns the fused-operator counts (for the manifest)."""
    from onnxruntime.transformers.optimizer import optimize_model

    model_type = "bert" if config.model_type in ("bert", "distilbert", "electra", "roberta") else config.model_type
    optimised = optimize_model(str(path), model_type=model_type, num_heads=config.num_attention_heads,
                               hidden_size=config.hidden_size)
    optimised.save_model_to_file(str(path))
    return {k: v for k, v in optimised.get_fused_operator_statistics().items() if v}


def quantise(source: Path, target: Path) -> None:
    """Dynamic int8 quantisation of the weights of every MatMul (and the fused attention), one scale per
    output channel: with one scale per tensor, the restaurants test accuracy of a MiniLM classifier fell by
    1.25 points; per channel it stays within 0.3 (docs/inference.md)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, per_channel=True,
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})


def _copy_label_mix(source: Path, target: Path) -> None:
    """A classifier corrected to a label mix (``adapt``) keeps the correction in its export."""
    import shutil

    from ..atsc.label_mix import LABEL_MIX_FILE

    if (source / LABEL_MIX_FILE).is_file():
        shutil.copyfile(source / LABEL_MIX_FILE, target / LABEL_MIX_FILE)


def export_model(model_dir: str | Path, output_dir: str | Path, options: ExportOptions | None = None) -> dict:
    """Export ``model_dir`` (a classifier, an extractor or a unified tagger) to ``output_dir``; returns the
    manifest."""
    import onnxruntime
    import torch

    from ..core.fileio import staged_output_dir, write_json
    from ..runtime.models import resolve_model_path

    options = options or ExportOptions()
    require_onnx()
    source = Path(resolve_model_path(str(model_dir)))
    if is_export(source):
        raise AdaError(f"{source}: is an export already; export the PyTorch model it was made from")
    kind, model, tokenizer, sample = load_for_export(source)
    with staged_output_dir(output_dir, options.overwrite) as staging:
        graph = staging / ONNX_FILE
        raw = staging / "model.fp32.onnx" if options.quantize else graph
        inputs = trace_to_onnx(model, sample, raw, options.opset, per_token=kind in TOKEN_TAGGERS)
        fused = optimise(raw, model.config) if options.optimize else {}
        if options.quantize:
            quantise(raw, graph)
            raw.unlink()
        tokenizer.save_pretrained(str(staging))
        model.config.save_pretrained(str(staging))
        _copy_label_mix(source, staging)
        manifest = {
            "format": "ada-atsc onnx export", "format_version": FORMAT_VERSION, "kind": kind,
            "source_model": str(source), "source_fingerprint": model_fingerprint(source),
            "tokenizer_fingerprint": tokenizer_fingerprint(staging), "inputs": inputs,
            "opset": options.opset, "optimized": options.optimize, "fused_operators": fused,
            "quantization": options.quantize or "none",
            "quantization_detail": "dynamic, int8 weights per channel, uint8 activations per batch"
            if options.quantize else None,
            "versions": {"torch": torch.__version__, "onnxruntime": onnxruntime.__version__},
            "options": asdict(options),
        }
        write_json(staging / EXPORT_MANIFEST, manifest)
    logger.info("exported %s (%s) to %s: %s", source, kind, output_dir, json.dumps(
        {k: manifest[k] for k in ("opset", "quantization", "fused_operators")}))
    return manifest


def export_bundle(bundle: str | Path, output_dir: str | Path, options: ExportOptions | None = None) -> dict:
    """Export the models of an ``adapt`` bundle: a pipeline bundle's into ``output_dir/extractor`` and
    ``output_dir/classifier``, a tagger bundle's tagger into ``output_dir/tagger-int8``; with the bundle's manifest
    and card beside them, the result is a bundle of exports."""
    import shutil

    from ..core.fileio import staged_output_dir
    from ..runtime.model_dir import (
        BUNDLE_MANIFEST,
        BUNDLE_TAGGER,
        BUNDLE_TAGGER_EXPORT,
        bundle_kind,
        bundle_parts,
    )

    options = options or ExportOptions()
    require_onnx()
    if bundle_kind(bundle) == "tagger":
        if options.quantize != "int8":
            raise AdaError(f"{bundle}: a tagger bundle carries an int8 export ({BUNDLE_TAGGER_EXPORT}/); export its "
                           f"{BUNDLE_TAGGER}/ folder on its own for another precision")
        parts = {BUNDLE_TAGGER_EXPORT: str(Path(bundle) / BUNDLE_TAGGER)}
    else:
        parts = dict(zip(("extractor", "classifier"), bundle_parts(bundle)))
    manifests = {}
    with staged_output_dir(output_dir, options.overwrite) as staging:
        for name, source in parts.items():
            manifests[name] = export_model(source, staging / name, replace(options, overwrite=False))
        for name in (BUNDLE_MANIFEST, "README.md"):
            if (Path(bundle) / name).is_file():
                shutil.copyfile(Path(bundle) / name, staging / name)
    return manifests

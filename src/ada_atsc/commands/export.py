"""``ada-atsc export``: a trained classifier or extractor -> an ONNX export directory for fast CPU inference.

The directory holds ``model.onnx``, the tokenizer, the model's config and ``ada_atsc_export.json`` (how it
was made). ``predict``, ``evaluate``, ``extract``, ``absa`` and the Python API take it wherever they take the
PyTorch model, and run it with ONNX Runtime. Needs the optional extra: ``pip install 'ada-atsc[onnx]'``.
"""

from __future__ import annotations

import argparse
import json

from .arguments import add_model_source, add_overwrite


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True,
                        help="a classifier, an extractor or a unified tagger written by 'ada-atsc train', or a bundle "
                             "('ada-atsc adapt': both are exported, into OUTPUT/extractor and OUTPUT/classifier)")
    parser.add_argument("--output", "--output_dir", dest="output", required=True, help="the export directory to write")
    add_overwrite(parser)
    parser.add_argument("--quantize", choices=["int8"], default=None,
                        help="dynamic int8 quantisation (weights int8, activations per batch); default fp32")
    parser.add_argument("--opset", type=int, default=17, help="ONNX opset (14 to 21; default 17)")
    parser.add_argument("--no_optimize", dest="optimize", action="store_false",
                        help="skip ONNX Runtime's transformer optimiser (fused attention, LayerNorm, GELU)")
    add_model_source(parser)


def run(args: argparse.Namespace) -> int:
    from ..export import ExportOptions, export_model
    from ..export.exporter import export_bundle
    from ..runtime.model_dir import is_bundle

    options = ExportOptions(quantize=args.quantize, opset=args.opset, optimize=args.optimize,
                            overwrite=args.overwrite_output_dir)
    if is_bundle(args.model):
        manifests = export_bundle(args.model, args.output, options)
        print(json.dumps({"output": args.output, **{part: {k: m[k] for k in ("kind", "quantization")}
                                                      for part, m in manifests.items()}}))
        return 0
    manifest = export_model(args.model, args.output, options)
    print(json.dumps({"output": args.output, **{k: manifest[k] for k in ("kind", "quantization", "opset", "fused_operators")}}))
    return 0

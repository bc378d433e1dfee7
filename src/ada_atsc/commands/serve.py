"""``ada-atsc serve``: the classifier (and, with ``--extractor``, the whole pipeline) behind an HTTP API.

Models load and warm up before the server listens: a missing or wrong model directory stops the start with one
line. Endpoints and their JSON are documented on the generated OpenAPI page at ``/docs``. Listens on 127.0.0.1
unless ``--host`` says otherwise. Needs the optional extra: ``pip install 'ada-atsc[serve]'``.
"""

from __future__ import annotations

import argparse

from .arguments import add_model_source


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default=None, help="a bundle ('ada-atsc adapt'): its classifier and extractor; or a "
                        "unified tagger ('train --task unified'): /v1/absa from one model")
    parser.add_argument("--classifier", default=None, help="a classifier directory (PyTorch or ONNX export)")
    parser.add_argument("--extractor", default=None,
                        help="an extractor or a unified tagger directory: enables POST /v1/absa (a tagger serves it "
                             "alone, one pass a sentence)")
    parser.add_argument("--categories", default=None,
                        help="an aspect-category model ('train --task acsa'): /v1/absa also returns each text's "
                             "categories (needs --extractor or --model)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--max_batch_size", type=int, default=64, help="items run together in one batch")
    parser.add_argument("--max_wait_ms", type=float, default=5.0, help="how long a batch waits for more requests")
    parser.add_argument("--max_items", type=int, default=64, help="items (pairs or texts) per request")
    parser.add_argument("--max_chars", type=int, default=5000, help="characters per text")
    parser.add_argument("--max_body_bytes", type=int, default=1_000_000, help="request body size")
    parser.add_argument("--workers", type=int, default=1,
                        help="server processes (each loads the models and pins its threads to its share of the cores)")
    parser.add_argument("--access_log", action="store_true",
                        help="log every request (off by default: /metrics counts them, and a log line per request "
                             "costs the event loop CPU it shares with inference)")
    add_model_source(parser)


def run(args: argparse.Namespace) -> int:
    from ..core.errors import AdaError
    from ..serve import ServeLimits, create_app

    if args.model:
        from .arguments import pipeline_models

        args.extractor, args.classifier = pipeline_models(args)
    elif not args.classifier:
        raise AdaError("give --classifier (with --extractor for /v1/absa) or --model BUNDLE")
    if args.categories:
        from .arguments import check_category_model

        if not args.extractor:
            raise AdaError("--categories needs the pipeline: --extractor with --classifier, or --model BUNDLE")
        check_category_model(args.categories)
    if args.max_batch_size < 1 or args.max_items < 1 or args.max_chars < 1 or args.max_wait_ms < 0:
        raise AdaError("--max_batch_size, --max_items and --max_chars must be at least 1, --max_wait_ms at least 0")
    limits = ServeLimits(max_items=args.max_items, max_chars=args.max_chars, max_body_bytes=args.max_body_bytes,
                         max_batch_size=args.max_batch_size, max_wait_ms=args.max_wait_ms)
    if args.workers < 1:
        raise AdaError(f"--workers must be at least 1, got {args.workers}")
    import signal

    import uvicorn

    if args.workers > 1:  # each worker process builds the app itself (serve.app.app_from_environment)
        from ..runtime.model_dir import TAGGER_KINDS, model_kind
        from ..serve.app import settings_to_environment

        if args.classifier and (model_kind(args.classifier) != "atsc"
                                or (args.extractor and model_kind(args.extractor) not in ("ate", *TAGGER_KINDS))):
            raise AdaError("--classifier must be a classifier and --extractor an extractor or a unified tagger")
        settings_to_environment(args.classifier, args.extractor, limits, args.workers, args.categories)
        uvicorn.run("ada_atsc.serve.app:app_from_environment", factory=True, workers=args.workers, host=args.host,
                    port=args.port, log_level="info", access_log=args.access_log, timeout_graceful_shutdown=30)
        return 0
    app = create_app(args.classifier, args.extractor, limits, categories_dir=args.categories)

    class DrainingServer(uvicorn.Server):
        """uvicorn's server, except that SIGTERM, once the in-flight requests and queued inference are drained,
        ends the process with status 0 (uvicorn re-raises the signal after its graceful shutdown)."""

        def handle_exit(self, sig, frame) -> None:
            super().handle_exit(sig, frame)
            if sig == signal.SIGTERM and sig in getattr(self, "_captured_signals", []):
                self._captured_signals.remove(sig)

    DrainingServer(uvicorn.Config(app, host=args.host, port=args.port, log_level="info",
                                  access_log=args.access_log, timeout_graceful_shutdown=30)).run()
    return 0

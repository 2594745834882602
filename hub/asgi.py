"""The ASGI entry point for uvicorn: ``hub.asgi:app`` (one hub per process)."""

from __future__ import annotations

import sys

from hub.app import create_app
from hub.context import build_hub
from hub.worker import Kicker, create_celery

# The ticket writer thread (hub.batching) waits on the database several times per batch; with
# Python's default 5 ms switch interval it then waits up to 5 ms for the GIL each time while the
# event loop parses requests, and a batch takes tens of milliseconds. 1 ms keeps it prompt.
sys.setswitchinterval(0.001)
_hub = build_hub()
_hub.set_kicker(Kicker(create_celery(_hub)))
app = create_app(_hub)

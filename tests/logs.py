"""Capture the hub's structured log lines (``hub.log_config``) as parsed JSON, for tests."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hub import log_config


class Captured:
    def __init__(self) -> None:
        self.stream = io.StringIO()

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self, event: str | None = None, **fields: Any) -> list[dict[str, Any]]:
        out = []
        for raw in self.text.splitlines():
            line = json.loads(raw)
            if event is not None and line.get("event") != event:
                continue
            if all(line.get(k) == v for k, v in fields.items()):
                out.append(line)
        return out


@contextmanager
def captured_logs(level: str = "INFO") -> Iterator[Captured]:
    """Every line the process logs while inside, in the production (JSON) shape."""
    captured = Captured()
    log_config.configure("json", level, stream=captured.stream, force=True)
    try:
        yield captured
    finally:
        log_config.configure("", "INFO", stream=sys.stderr, force=True)

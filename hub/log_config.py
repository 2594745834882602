"""Structured logs for every process: structlog, JSON in production, readable on a terminal.

``configure`` routes the standard library's ``logging`` through structlog's formatter, so the
hub's existing ``logging.getLogger(__name__)`` calls, the plugins', uvicorn's and Celery's come
out in the same shape as the new structured lines (``event(...)``). ``HUB_LOG_FORMAT`` is
``json`` or ``console`` (by default ``console`` when stderr is a terminal, ``json`` otherwise);
``HUB_LOG_LEVEL`` is a level name.

Nothing secret reaches a line: fields whose name says password, token, secret, authorization,
cookie or body are replaced by ``"[redacted]"`` before any line is written (``redact``), and the
callers log ids, outcomes and durations, never a message's text.
"""

from __future__ import annotations

import functools
import logging
import sys
from typing import Any

import structlog
from structlog.types import EventDict, Processor

# Field names whose values never reach a log line.
SECRET_WORDS = ("password", "token", "secret", "authorization", "cookie", "body", "api_key")
REDACTED = "[redacted]"
_configured: tuple[str, str] | None = None


def redact(_logger: Any, _method: str, event_dict: EventDict) -> EventDict:
    """Replace the value of every field named like a secret (a structlog processor)."""
    if event_dict.get("message") == event_dict.get("event"):
        event_dict.pop("message", None)  # a copy another handler's formatter left on the record
    for key in [k for k in event_dict if _secret_name(k)]:
        event_dict[key] = REDACTED
    return event_dict


@functools.lru_cache(maxsize=4096)
def _secret_name(key: str) -> bool:
    lowered = key.lower()
    return key != "event" and any(word in lowered for word in SECRET_WORDS)


def resolve_format(log_format: str, stream: Any = None) -> str:
    """``json`` or ``console``; an empty setting picks ``console`` on a terminal."""
    chosen = (log_format or "").strip().lower()
    if chosen in ("json", "console"):
        return chosen
    if chosen:
        raise ValueError(f"HUB_LOG_FORMAT must be json or console, not {log_format!r}")
    stream = stream if stream is not None else sys.stderr
    return "console" if getattr(stream, "isatty", lambda: False)() else "json"


def resolve_level(level: str) -> int:
    value = logging.getLevelName((level or "INFO").strip().upper())
    if not isinstance(value, int):
        raise ValueError(f"HUB_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {level!r}")
    return value


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact,
    ]


def configure(
    log_format: str = "", level: str = "INFO", *, stream: Any = None, force: bool = False
) -> None:
    """Set up structlog and the standard library's root logger for this process (idempotent)."""
    global _configured
    fmt, lvl = resolve_format(log_format, stream), resolve_level(level)
    if _configured == (fmt, str(lvl)) and not force:
        return
    shared = _shared_processors()
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    out = stream if stream is not None else sys.stderr
    # The hub's own structured lines take structlog's direct path (a few microseconds a line,
    # which the access line of every request needs); the standard library's records go
    # through its handler below, rendered by the same processors.
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            _add_name,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact,
            structlog.processors.format_exc_info if fmt == "json" else _keep,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(lvl),
        logger_factory=_NamedWriteLoggerFactory(out),
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.ExtraAdder(), *shared],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info if fmt == "json" else _keep,
            renderer,
        ],
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    handler.set_name("hub")
    root = logging.getLogger()
    for old in list(root.handlers):
        if old.get_name() == "hub":
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(lvl)
    # uvicorn's own access log is replaced by the hub's (hub.access); its error log stays.
    for name in ("uvicorn", "uvicorn.error", "celery"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True
    # Chatty at INFO, and a vendor URL may carry a credential (httpx logs each URL it calls).
    for name in ("httpx", "httpcore", "alembic"):
        logging.getLogger(name).setLevel(max(lvl, logging.WARNING))
    _configured = (fmt, str(lvl))


def _keep(_logger: Any, _method: str, event_dict: EventDict) -> EventDict:
    return event_dict


def configure_from_settings(settings: Any, *, stream: Any = None) -> None:
    configure(settings.log_format, settings.log_level, stream=stream)


def get_logger(name: str) -> Any:
    """A structured logger named ``name`` (its lines carry ``logger``), filtered by level."""
    return structlog.get_logger(name)


class _NamedWriteLogger(structlog.WriteLogger):
    """structlog's direct writer, carrying the name it was asked for (``get_logger(name)``)."""

    def __init__(self, file: Any, name: str) -> None:
        super().__init__(file)
        self.name = name


class _NamedWriteLoggerFactory:
    def __init__(self, file: Any) -> None:
        self.file = file

    def __call__(self, *args: Any) -> _NamedWriteLogger:
        return _NamedWriteLogger(self.file, str(args[0]) if args else "")


def _add_name(logger: Any, _method: str, event_dict: EventDict) -> EventDict:
    name = getattr(logger, "name", "")
    if name:
        event_dict.setdefault("logger", name)
    return event_dict

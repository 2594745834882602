"""Optional tracing (OpenTelemetry) and error reporting (Sentry), off unless configured.

* ``HUB_OTEL_ENDPOINT`` (or the standard ``OTEL_EXPORTER_OTLP_ENDPOINT``): spans of the FastAPI
  app, the SQLAlchemy engines, Celery tasks and httpx calls are exported by OTLP/HTTP
  (protobuf) to ``<endpoint>/v1/traces``; ``OTEL_SERVICE_NAME`` names the service (``hub``).
  Needs the ``otel`` extra (``pip install 'teleops-support-hub[otel]'``).
* ``HUB_SENTRY_DSN``: unhandled errors are sent to Sentry with ``send_default_pii=False``,
  request data and local variables scrubbed of secrets (``before_send``). Needs the ``sentry``
  extra.

Neither library is imported unless its setting is set; ``hub check`` shows which is on.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hub.settings import Settings

log = logging.getLogger(__name__)
MASK = "[Filtered]"
# A key naming one of these words has its value masked (on top of Sentry's own deny list).
SECRET_WORDS = ("authorization", "cookie", "password", "secret", "token", "csrf", "dsn", "api_key")
SECRET_KEYS = (
    "authorization",
    "cookie",
    "set-cookie",
    "x-csrf-token",
    "password",
    "secret",
    "token",
    "access_token",
    "secret_key",
    "dsn",
)
_lock = threading.Lock()
_provider: Any = None
_sentry_on = False


def otel_endpoint(settings: Settings) -> str:
    return settings.otel_endpoint or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "")


def status(settings: Settings) -> list[tuple[str, str]]:
    """(what, on or off) for ``hub check``."""
    endpoint = otel_endpoint(settings)
    return [
        (
            "tracing (OpenTelemetry)",
            f"on: OTLP/HTTP to {endpoint.rstrip('/')}/v1/traces"
            if endpoint
            else "off (HUB_OTEL_ENDPOINT not set)",
        ),
        (
            "error reporting (Sentry)",
            "on" if settings.sentry_dsn else "off (HUB_SENTRY_DSN not set)",
        ),
    ]


# ------------------------------------------------------------------ OpenTelemetry


def tracer_provider(settings: Settings) -> Any:
    """The process's tracer provider (built once), or None when tracing is off."""
    global _provider
    endpoint = otel_endpoint(settings)
    if not endpoint:
        return None
    with _lock:
        if _provider is None:
            from opentelemetry import trace
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            from opentelemetry.sdk.resources import Resource
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import BatchSpanProcessor

            name = os.environ.get("OTEL_SERVICE_NAME", "hub")
            provider = TracerProvider(resource=Resource.create({"service.name": name}))
            exporter = OTLPSpanExporter(endpoint=f"{endpoint.rstrip('/')}/v1/traces")
            provider.add_span_processor(BatchSpanProcessor(exporter))
            trace.set_tracer_provider(provider)
            _provider = provider
            from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

            HTTPXClientInstrumentor().instrument(tracer_provider=provider)
            log.info("tracing on: OTLP/HTTP to %s", endpoint)
        return _provider


def instrument_app(app: Any, engines: list[Any], settings: Settings) -> None:
    """Trace the app's requests and its engines' statements (when tracing is on)."""
    provider = tracer_provider(settings)
    if provider is None:
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=provider, excluded_urls="/metrics,/healthz"
    )
    instrument_engines(engines, provider)


def instrument_engines(engines: list[Any], provider: Any) -> None:
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    # The instrumentation declares SQLAlchemy < 2.1; its engine events work on 2.1 as well.
    SQLAlchemyInstrumentor().instrument(
        engines=list({id(e): e for e in engines}.values()),
        tracer_provider=provider,
        skip_dep_check=True,
    )


def instrument_celery(engines: list[Any], settings: Settings) -> None:
    """Trace Celery tasks (call in each worker process) and the worker's engines."""
    provider = tracer_provider(settings)
    if provider is None:
        return
    from opentelemetry.instrumentation.celery import CeleryInstrumentor

    CeleryInstrumentor().instrument(tracer_provider=provider)
    instrument_engines(engines, provider)


def shutdown() -> None:
    """Export what is buffered and stop (tests, process exit)."""
    global _provider, _sentry_on
    with _lock:
        provider, _provider = _provider, None
    if provider is not None:
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

        HTTPXClientInstrumentor().uninstrument()
        provider.shutdown()
    if _sentry_on:
        import sentry_sdk

        sentry_sdk.get_client().close(timeout=2)
        sentry_sdk.init(dsn=None)
        _sentry_on = False


# ------------------------------------------------------------------ Sentry


def init_sentry(settings: Settings) -> bool:
    """Start Sentry when ``HUB_SENTRY_DSN`` is set; True when it is on."""
    global _sentry_on
    if not settings.sentry_dsn:
        return False
    import sentry_sdk
    from sentry_sdk.scrubber import DEFAULT_DENYLIST, EventScrubber

    secrets = _secret_values(settings)

    def before_send(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
        return scrub(event, secrets)

    sentry_sdk.init(
        dsn=settings.sentry_dsn,
        send_default_pii=False,
        before_send=before_send,  # type: ignore[arg-type]
        event_scrubber=EventScrubber(
            denylist=sorted({*DEFAULT_DENYLIST, *SECRET_KEYS}), recursive=True
        ),
        # A local variable may hold a tenant's plugin settings or the hub's: none is sent.
        include_local_variables=False,
        environment=os.environ.get("HUB_ENV") or None,
        traces_sample_rate=0,
    )
    _sentry_on = True
    log.info("error reporting on (Sentry)")
    return True


def capture(exc: BaseException) -> None:
    """Report an unhandled error the hub answered 500 (when Sentry is on)."""
    if _sentry_on:
        import sentry_sdk

        sentry_sdk.capture_exception(exc)


def _secret_values(settings: Settings) -> list[str]:
    values = [*settings.keyring_secrets, settings.metrics_token, settings.sentry_dsn]
    url = settings.resolved_database_url
    try:
        from sqlalchemy.engine import make_url

        password = make_url(url).password
        if password:
            values.append(str(password))
    except Exception:  # an unparsable URL has no password to hide
        pass
    return sorted({v for v in values if v and len(v) >= 6}, key=len, reverse=True)


def scrub(value: Any, secrets: list[str], key: str = "") -> Any:
    """The event with every secret key's value and every known secret string masked."""
    if key and _is_secret_name(key):
        return MASK
    if isinstance(value, dict):
        return {k: scrub(v, secrets, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        # Headers come as [name, value] pairs.
        if len(value) == 2 and isinstance(value[0], str) and _is_secret_name(value[0]):
            return [value[0], MASK]
        return [scrub(v, secrets) for v in value]
    if isinstance(value, str) and key in ("query_string", "url"):
        value = _scrub_query(value)
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, MASK)
        if value.lower().startswith("bearer "):
            return MASK
    return value


def _scrub_query(value: str) -> str:
    """A query string (or a URL's query) with secret parameters masked."""
    from urllib.parse import parse_qsl, urlencode

    head, sep, query = value.rpartition("?") if "?" in value else ("", "", value)
    if "=" not in query:
        return value
    pairs = [(k, MASK if _is_secret_name(k) else v) for k, v in parse_qsl(query, True)]
    return head + sep + urlencode(pairs, safe="[]")


def _is_secret_name(name: str) -> bool:
    lowered = name.lower().replace("-", "_")
    return any(word in lowered for word in SECRET_WORDS)

"""Operations: liveness (``/healthz``), readiness (``/readyz``) and metrics (``/metrics``).

``/metrics`` is served only when ``HUB_METRICS_TOKEN`` is set, to callers that send it as a
bearer token; without the setting the path does not exist (404).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from core.errors import NotFound, Unauthenticated
from hub import health, metrics
from hub.api.deps import HubDep
from hub.api.schemas.ops import HealthPublic, ReadinessPublic

router = APIRouter(tags=["ops"])


@router.get("/healthz", response_model=HealthPublic, name="ops_healthz")
def healthz() -> HealthPublic:
    """Liveness: the process answers (nothing else is checked: see ``/readyz``)."""
    return HealthPublic(status="ok")


@router.get(
    "/readyz",
    response_model=ReadinessPublic,
    name="ops_readyz",
    responses={503: {"model": ReadinessPublic, "description": "a check failed"}},
)
async def readyz(hub: HubDep) -> JSONResponse:
    """Readiness: database, broker, migrations, clamd (when configured), stored secrets."""
    checks = await run_in_threadpool(health.run_checks, hub)
    ready = all(not v.startswith("failed") for v in checks.values())
    body = ReadinessPublic(status="ready" if ready else "unready", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


@router.get(
    "/metrics",
    name="ops_metrics",
    include_in_schema=False,
    response_class=Response,
)
async def prometheus_metrics(request: Request, hub: HubDep) -> Response:
    """Prometheus exposition text, for a caller with the metrics token."""
    expected = hub.settings.metrics_token
    if not expected:
        raise NotFound("not found")
    if not metrics.token_ok(expected, request.headers.get("authorization", "")):
        raise Unauthenticated("send the metrics token as 'Authorization: Bearer <token>'")
    body, content_type = await run_in_threadpool(metrics.scrape, hub)
    return Response(body, media_type=content_type)

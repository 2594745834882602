"""Every error as JSON with a clear message: ``{"detail": ..., "code": ..., "field": ...}``."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.errors import HubError
from hub import tracing

log = logging.getLogger("hub.api")
# The database is down, unreachable or saturated: the request may succeed later (503), unlike a
# bug (500). Seconds a client should wait before trying again.
RETRY_AFTER_SECONDS = 5


def install(app: FastAPI) -> None:
    @app.exception_handler(HubError)
    async def hub_error(_: Request, exc: HubError) -> JSONResponse:
        body = {"detail": exc.message, "code": exc.code}
        if exc.field:
            body["field"] = exc.field
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(body, status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type")}
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        where = ".".join(str(p) for p in first["loc"] if p not in ("body", "query", "path"))
        return JSONResponse(
            {
                "detail": f"{where}: {first['msg']}" if where else first["msg"],
                "code": "invalid",
                "errors": errors,
            },
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 413:
            return JSONResponse(
                too_large_body(request.scope.get("starlette.max_body_size")), status_code=413
            )
        return JSONResponse(
            {"detail": exc.detail, "code": "http_error"},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(PoolTimeout)
    async def database_unavailable(_: Request, exc: Exception) -> JSONResponse:
        return database_down(exc)

    @app.exception_handler(OverflowError)
    @app.exception_handler(DataError)
    async def out_of_range(_: Request, exc: Exception) -> JSONResponse:
        # A number or string the database cannot hold: the client's input, not our failure.
        return JSONResponse(
            {"detail": "a value is out of range for its field", "code": "invalid"}, status_code=422
        )

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        tracing.capture(exc)
        return JSONResponse({"detail": "internal error", "code": "internal"}, status_code=500)


# What a database that is down or unreachable raises (answered 503, never 500).
DATABASE_DOWN = (OperationalError, InterfaceError, PoolTimeout)


def database_down(exc: Exception) -> JSONResponse:
    """The 503 for a database that is unavailable (also from middleware, outside the routes).

    Nothing of the request was committed (a commit that failed raised here too): the client
    learns it must try again, not that it succeeded."""
    log.warning("database unavailable: %s", type(exc).__name__, exc_info=exc)
    return JSONResponse(
        {
            "detail": "the database is unavailable; nothing was saved, try again shortly",
            "code": "unavailable",
        },
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def too_large_body(limit: object) -> dict[str, object]:
    """The 413 body: how much this endpoint accepts."""
    if isinstance(limit, int):
        return {
            "detail": f"the request body is larger than the {limit} bytes this endpoint accepts",
            "code": "too_large",
            "max_bytes": limit,
        }
    return {"detail": "the request body is too large for this endpoint", "code": "too_large"}

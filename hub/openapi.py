"""The OpenAPI document and its viewers, all served by the hub itself (no CDN).

* Operation ids are named ``<area>_<route name>`` (``tickets_list``, ``tickets_create``,
  ``admin_plugins``), from each route's first tag and its function's name; a clash stops the
  app from building (``operation_id``), so a generated client's methods are stable and unique.
* Two security schemes: ``bearer`` (an API token) and ``cookie`` (the console's session); an
  operation that needs a caller (one that depends on ``get_actor``, or a plugin route that reads
  the ``Authorization`` header) lists both.
* Every operation declares the 401, 403, 404, 409, 422 and 429 answers with the error model
  (``ErrorPublic``), which is what ``hub.api.errors`` sends.
* Swagger UI (``/docs``) and ReDoc (``/redoc``) load their scripts from ``/docs-assets``: the
  files the ``fastapi-offline`` package ships (Swagger UI: Apache-2.0, ReDoc: MIT), and the
  start-up script of Swagger UI from the console's static folder, so no inline script is needed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles

from core.security_headers import security_headers
from hub.api.schemas.errors import ErrorPublic

ERROR_RESPONSES = {
    "401": "Not authenticated: no token or session, or an unknown one",
    "403": "Authenticated, but the role may not do this",
    "404": "No such object for this caller (another tenant's objects are never acknowledged)",
    "409": "Conflict with the current state (a stale ETag, a duplicate)",
    "422": "The request is invalid: see detail, field and errors",
    "429": "Too many requests: wait for Retry-After seconds",
}
SECURITY: list[dict[str, list[str]]] = [{"bearer": []}, {"cookie": []}]
ASSETS = "/docs-assets"


def _area(route: APIRoute) -> str:
    tag = str(route.tags[0]) if route.tags else "hub"
    tag = tag.split(":", 1)[-1]
    return {"knowledge base": "kb", "slas": "sla"}.get(tag, tag).replace(" ", "_")


def operation_id(route: APIRoute) -> str:
    """``<area>_<name>``: the area from the route's first tag, the name from its function
    (``list_`` → ``list``; a name that repeats the area drops it: ``list_slas`` → ``sla_list``)."""
    area = _area(route)
    name = route.name.strip("_")
    words = [w for w in name.split("_") if w]
    stems = {area, area.rstrip("s"), area + "s"}
    kept = [w for w in words if w not in stems] or words
    return re.sub(r"[^A-Za-z0-9_]", "_", f"{area}_{'_'.join(kept)}")


def install(app: FastAPI) -> None:
    """The custom document, and the self-hosted Swagger UI and ReDoc pages."""
    app.openapi = lambda: build(app)  # type: ignore[method-assign]
    app.mount(ASSETS, StaticFiles(directory=str(_assets_dir())), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return HTMLResponse(_SWAGGER.format(title=app.title, assets=ASSETS), headers=_headers())

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return HTMLResponse(_REDOC.format(title=app.title, assets=ASSETS), headers=_headers())


def _headers() -> dict[str, str]:
    headers = security_headers(cache="no-cache")
    # ReDoc renders in a worker made from a blob.
    headers["Content-Security-Policy"] += "; worker-src 'self' blob:"
    return headers


def _assets_dir() -> Path:
    import fastapi_offline

    return Path(fastapi_offline.__file__).parent / "static"


def build(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    doc = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    error_schema = ErrorPublic.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas["ErrorPublic"] = error_schema
    schemes = components.setdefault("securitySchemes", {})
    schemes.clear()
    schemes["bearer"] = {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token: `Authorization: Bearer hub_...` (hub token create)",
    }
    schemes["cookie"] = {
        "type": "apiKey",
        "in": "cookie",
        "name": "hub_session",
        "description": "The web console's session (writes also need the X-CSRF-Token header)",
    }
    error_ref = {"$ref": "#/components/schemas/ErrorPublic"}
    for operations in doc.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            if operation.get("security") or _reads_authorization(operation):
                operation["security"] = SECURITY
            responses = operation["responses"]
            for code, description in ERROR_RESPONSES.items():
                responses[code] = {
                    "description": description,
                    "content": {"application/json": {"schema": error_ref}},
                }
    for unused in ("HTTPValidationError", "ValidationError"):
        if unused in schemas and unused not in _refs(doc, unused):
            del schemas[unused]
    app.openapi_schema = doc
    return doc


def _reads_authorization(operation: dict[str, Any]) -> bool:
    return any(
        p.get("in") == "header" and str(p.get("name", "")).lower() == "authorization"
        for p in operation.get("parameters", ())
    )


def _refs(doc: dict[str, Any], name: str) -> str:
    import json

    text = json.dumps({k: v for k, v in doc.items() if k != "components"})
    text += json.dumps({k: v for k, v in doc["components"]["schemas"].items() if k != name})
    return name if f'"#/components/schemas/{name}"' in text else ""


_SWAGGER = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}: API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="icon" href="{assets}/favicon.png"></head>
<body><main><h1 style="position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)">{title}: API</h1><div id="swagger-ui"></div></main>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="/static/docs/swagger-init.js"></script>
</body></html>
"""

_REDOC = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}: API reference</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="{assets}/favicon.png"></head>
<body><redoc spec-url="/openapi.json"></redoc>
<script src="{assets}/redoc.standalone.js"></script>
</body></html>
"""

"""The OpenAPI document: valid (openapi-spec-validator), named and unique operation ids, bearer
and cookie security schemes, the error answers with the error model on every operation, a
response model on every JSON route; Swagger UI and ReDoc served by the hub with no CDN."""

from __future__ import annotations

import re
from collections import Counter

from openapi_spec_validator import validate

ERRORS = ("401", "403", "404", "409", "422", "429")


def _operations(doc):  # type: ignore[no-untyped-def]
    for path, item in doc["paths"].items():
        for method, op in item.items():
            yield path, method, op


def test_the_document_is_valid_openapi(client) -> None:  # type: ignore[no-untyped-def]
    doc = client.get("/openapi.json").json()
    validate(doc)
    assert doc["openapi"].startswith("3.")


def test_operation_ids_are_named_and_unique(client) -> None:  # type: ignore[no-untyped-def]
    doc = client.get("/openapi.json").json()
    ids = [op["operationId"] for _, _, op in _operations(doc)]
    assert len(ids) > 40
    duplicated = [i for i, n in Counter(ids).items() if n > 1]
    assert duplicated == []
    for expected in ("tickets_list", "tickets_create", "tickets_detail", "tickets_patch"):
        assert expected in ids
    for op_id in ids:
        assert re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)+", op_id), op_id
        assert "api_v1" not in op_id and not op_id.endswith(("_get", "_post")), op_id


def test_security_schemes_and_which_operations_need_a_caller(client) -> None:  # type: ignore[no-untyped-def]
    doc = client.get("/openapi.json").json()
    schemes = doc["components"]["securitySchemes"]
    assert schemes["bearer"] == {**schemes["bearer"], "type": "http", "scheme": "bearer"}
    assert schemes["cookie"]["type"] == "apiKey" and schemes["cookie"]["in"] == "cookie"
    by_id = {op["operationId"]: op for _, _, op in _operations(doc)}
    for op_id in ("tickets_list", "admin_plugins", "kb_list_articles", "email_parked"):
        assert by_id[op_id]["security"] == [{"bearer": []}, {"cookie": []}], op_id
    for op_id in ("auth_login", "ops_healthz", "ops_readyz", "slack_events"):
        assert not by_id[op_id].get("security"), op_id


def test_every_operation_declares_the_error_answers_with_the_error_model(client) -> None:  # type: ignore[no-untyped-def]
    doc = client.get("/openapi.json").json()
    assert "ErrorPublic" in doc["components"]["schemas"]
    for path, method, op in _operations(doc):
        for code in ERRORS:
            answer = op["responses"].get(code)
            assert answer, (method, path, code)
            schema = answer["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorPublic"}, (method, path, code)


def test_the_error_model_is_what_the_api_sends(client, org) -> None:  # type: ignore[no-untyped-def]
    doc = client.get("/openapi.json").json()
    fields = set(doc["components"]["schemas"]["ErrorPublic"]["properties"])
    for answer in (
        client.get("/api/v1/support/tickets/"),
        org.end_user.get("/api/v1/admin/plugins/"),
        org.agent.get("/api/v1/support/tickets/999999/"),
        org.agent.post("/api/v1/support/tickets/", json={"subject": ""}),
    ):
        assert answer.status_code in (401, 403, 404, 422)
        body = answer.json()
        assert set(body) <= fields and {"detail", "code"} <= set(body), body


def test_a_response_model_on_every_json_route(client, org) -> None:  # type: ignore[no-untyped-def]
    doc = client.get("/openapi.json").json()
    bare = set()
    for _, _, op in _operations(doc):
        ok = [c for c in op["responses"] if c.startswith("2")]
        for code in ok:
            content = op["responses"][code].get("content", {})
            schema = content.get("application/json", {}).get("schema")
            if "application/json" not in content:
                continue
            if not schema or _is_bare(schema):
                bare.add(op["operationId"])
    assert bare == set(), sorted(bare)
    # The standard reports: one model per report shape, told apart by ``report``.
    schema = _ok_schema(doc, "/api/v1/support/reports/{name}/", "get")
    assert schema["discriminator"]["propertyName"] == "report"
    models = {ref["$ref"].rsplit("/", 1)[-1] for ref in schema["oneOf"]}
    assert len(models) == 6  # first-response and resolution share DurationReport
    reports = {
        value
        for m in models
        for value in _literals(doc["components"]["schemas"][m]["properties"]["report"])
    }
    # ... and each report's answer is one of them (the ``report`` value it carries).
    for name in (
        "volume",
        "first-response",
        "resolution",
        "sla",
        "agents",
        "trends",
        "satisfaction",
    ):
        answer = org.admin.get(f"/api/v1/support/reports/{name}/")
        assert answer.status_code == 200, answer.text
        assert answer.json()["report"] in reports, name


def _ok_schema(doc, path, method):  # type: ignore[no-untyped-def]
    answer = doc["paths"][path][method]["responses"]["200"]
    return answer["content"]["application/json"]["schema"]


def _literals(prop):  # type: ignore[no-untyped-def]
    if "const" in prop:
        return [prop["const"]]
    return list(prop.get("enum", []))


def _is_bare(schema) -> bool:  # type: ignore[no-untyped-def]
    if "$ref" in schema:
        return False
    for union in ("oneOf", "anyOf"):
        if union in schema:
            return any(_is_bare(member) for member in schema[union])
    if schema.get("type") == "array":
        return _is_bare(schema.get("items", {}))
    return True


def test_swagger_ui_and_redoc_are_served_by_the_hub(client) -> None:  # type: ignore[no-untyped-def]
    for page in ("/docs", "/redoc"):
        answer = client.get(page)
        assert answer.status_code == 200
        assert "text/html" in answer.headers["content-type"]
        assert "script-src 'self'" in answer.headers["content-security-policy"]
        html = answer.text
        assert "<script>" not in html, "no inline script"
        assert "cdn" not in html.lower() and "https://" not in html
        for src in re.findall(r'(?:src|href)="([^"]+)"', html):
            asset = client.get(src)
            assert asset.status_code == 200, src
            assert len(asset.content) > 20, src
    assert "SwaggerUIBundle" in client.get("/docs-assets/swagger-ui-bundle.js").text


def test_a_client_built_from_the_document_calls_operations_by_name(app, org) -> None:  # type: ignore[no-untyped-def]
    """schemathesis builds its client from /openapi.json alone: each call is made by operation
    id, and each answer conforms to the response model the document declares."""
    import schemathesis

    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    auth = {"Authorization": f"Bearer {org.admin.token}"}

    def call(op_id: str, **kw):  # type: ignore[no-untyped-def]
        case = schema.find_operation_by_id(op_id).Case(headers=auth, **kw)
        answer = case.call()
        case.validate_response(answer)
        return answer

    made = call("tickets_create", body={"subject": "By name", "description": "generated"})
    assert made.status_code == 201
    ticket_id = made.json()["id"]
    assert call("tickets_detail", path_parameters={"ticket_id": ticket_id}).status_code == 200
    assert call("tickets_list").status_code == 200
    for op_id in ("auth_me", "auth_notifications", "admin_members"):
        assert call(op_id).status_code == 200, op_id
    for name in (
        "volume",
        "first-response",
        "resolution",
        "sla",
        "agents",
        "trends",
        "satisfaction",
    ):
        assert call("reports_standard", path_parameters={"name": name}).status_code == 200, name

"""A Jira REST v2 fake (plain HTTP on 127.0.0.1) that records what the ``jira`` library sends.

It serves what the library asks for on connect (``serverInfo``), ``myself``, ``field``,
``search`` (by our label), issue creation, issue properties and comments, and can be told to
fail the next matching requests.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "jira"
API = "/rest/api/2"
API_USER = {
    "self": "",
    "accountId": "557058:hub-api-user",
    "name": "hub-api",
    "key": "hub-api",
    "emailAddress": "hub-api@example.com",
    "displayName": "Support Hub",
    "active": True,
}


def fixture(name: str) -> dict[str, Any]:
    """A JSON fixture of tests/fixtures/jira."""
    return json.loads((FIXTURES / name).read_text())


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class FakeJira:
    """What the fake received and holds; ``failures`` are (method, path regex, status, body)."""

    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    issues: dict[str, dict[str, Any]] = field(default_factory=dict)
    properties: dict[tuple[str, str], Any] = field(default_factory=dict)
    comments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    failures: list[tuple[str, str, int, dict[str, Any]]] = field(default_factory=list)
    deployment: str = "Server"
    next_issue: int = 41
    next_comment: int = 20000
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.issues.clear()
            self.properties.clear()
            self.comments.clear()
            self.failures.clear()
            self.next_issue, self.next_comment = 41, 20000
            self.deployment = "Server"

    def calls(self, method: str, pattern: str) -> list[Recorded]:
        """Recorded requests by method and path regex."""
        with self.lock:
            return [
                r for r in self.requests if r.method == method and re.fullmatch(pattern, r.path)
            ]

    def add_issue(self, project: str, labels: list[str]) -> str:
        """An issue that exists in Jira already (e.g. created before a crash)."""
        with self.lock:
            key = f"{project}-{self.next_issue}"
            self.issues[key] = {
                "id": str(9999 + self.next_issue),
                "key": key,
                "fields": {"labels": labels, "project": {"key": project}},
            }
            self.next_issue += 1
            return key

    # ------------------------------------------------------------- request handling

    def answer(
        self, method: str, path: str, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        with self.lock:
            for i, (m, pattern, status, payload) in enumerate(self.failures):
                if m == method and re.fullmatch(pattern, path):
                    del self.failures[i]
                    return status, payload
        if method == "GET" and path == f"{API}/serverInfo":
            return 200, {
                "baseUrl": self.url,
                "version": "9.12.0",
                "versionNumbers": [9, 12, 0],
                "deploymentType": self.deployment,
                "buildNumber": 9120000,
                "serverTitle": "Fake Jira",
            }
        if method == "GET" and path == f"{API}/myself":
            return 200, API_USER
        if method == "GET" and path == f"{API}/field":
            return 200, []
        # Server searches /search; the library sends Cloud sites to the newer /search/jql.
        if method == "GET" and path == f"{API}/search" + (
            "/jql" if self.deployment == "Cloud" else ""
        ):
            return 200, self._search(query.get("jql", [""])[0])
        if method == "POST" and path == f"{API}/issue":
            return self._create(body)
        match = re.fullmatch(rf"{API}/issue/([^/]+)", path)
        if method == "GET" and match:
            with self.lock:
                found = [i for i in self.issues.values() if match[1] in (i["id"], i["key"])]
            if not found:
                return 404, {"errorMessages": ["Issue Does Not Exist"], "errors": {}}
            issue = found[0]
            return 200, {
                "id": issue["id"],
                "key": issue["key"],
                "self": f"{self.url}{API}/issue/{issue['id']}",
                "fields": {"labels": issue["fields"].get("labels", [])},
            }
        match = re.fullmatch(rf"{API}/issue/([^/]+)/properties/([^/]+)", path)
        if method == "PUT" and match:
            with self.lock:
                self.properties[(match[1], match[2])] = body
            return 200, None
        match = re.fullmatch(rf"{API}/issue/([^/]+)/comment", path)
        if method == "POST" and match:
            return self._comment(match[1], body)
        return 404, {"errorMessages": [f"no route {method} {path}"], "errors": {}}

    def _search(self, jql: str) -> dict[str, Any]:
        label = re.search(r'labels = "([^"]+)"', jql)
        with self.lock:
            found = [
                {"id": i["id"], "key": i["key"], "fields": {}}
                for i in self.issues.values()
                if label and label[1] in i["fields"].get("labels", [])
            ]
        return {"startAt": 0, "maxResults": 50, "total": len(found), "issues": found}

    def _create(self, body: dict[str, Any]) -> tuple[int, Any]:
        fields = body.get("fields") or {}
        if not fields.get("summary"):
            return 400, {"errorMessages": [], "errors": {"summary": "You must specify a summary."}}
        with self.lock:
            key = f"{fields['project']['key']}-{self.next_issue}"
            # The first issue is TES-41 / 10040, the issue of the recorded webhook fixtures.
            issue_id = str(9999 + self.next_issue)
            self.next_issue += 1
            self.issues[key] = {"id": issue_id, "key": key, "fields": fields}
        return 201, {"id": issue_id, "key": key, "self": f"{self.url}{API}/issue/{issue_id}"}

    def _comment(self, key: str, body: dict[str, Any]) -> tuple[int, Any]:
        with self.lock:
            if key not in self.issues:
                return 404, {"errorMessages": ["Issue does not exist"], "errors": {}}
            comment = {
                "id": str(self.next_comment),
                "body": body.get("body"),
                "author": API_USER,
                "self": f"{self.url}{API}/issue/{key}/comment",
            }
            self.next_comment += 1
            self.comments.setdefault(key, []).append(comment)
        return 201, comment


def _handler(state: FakeJira) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            query = parse_qs(parts.query)
            with state.lock:
                state.requests.append(
                    Recorded(
                        self.command,
                        parts.path,
                        query,
                        {k.lower(): v for k, v in self.headers.items()},
                        body,
                    )
                )
            status, answer = state.answer(self.command, parts.path, query, body)
            data = b"" if answer is None else json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

    return Handler


class FakeJiraServer:
    """Runs the fake in a thread."""

    def __init__(self) -> None:
        self.state = FakeJira()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.state))
        self.state.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> FakeJira:
        self.thread.start()
        return self.state

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

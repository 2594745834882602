"""A PagerDuty Events v2 + REST v2 fake over HTTPS on 127.0.0.1, with a CA made at test time.

It records every request and answers with the recorded responses of
``tests/fixtures/pagerduty/events_v2`` (202 by default; 400 or 429 when scripted).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "pagerduty"


def fixture(name: str) -> dict[str, Any]:
    """A JSON fixture of tests/fixtures/pagerduty."""
    return json.loads((FIXTURES / name).read_text())


def recorded_response(name: str) -> tuple[int, dict[str, Any]]:
    """(status, body) of a recorded Events API response fixture."""
    body = fixture(f"events_v2/{name}")
    status = body.pop("_http_status")
    return status, body


def make_certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A private CA and a server certificate for 127.0.0.1/localhost signed by it."""

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("Hub test CA"))
        .issuer_name(name("Hub test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name("localhost"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_path, cert_path, key_path = (
        directory / "ca.pem",
        directory / "server.pem",
        directory / "server.key",
    )
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ca_path, cert_path, key_path


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakePagerDuty:
    """State of the fake: what it received and what it will answer next."""

    url: str = ""
    ca_bundle: str = ""  # the fake's CA as PEM text, as an admin pastes it
    requests: list[Recorded] = field(default_factory=list)
    # Responses to give to the next Events API calls, in order; 202 when empty.
    script: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    # incident id -> incident key, for REST GET /incidents/{id}.
    incidents: dict[str, str] = field(default_factory=dict)
    # REST API tokens the fake's account knows (GET /abilities answers 401 to any other).
    api_tokens: set[str] = field(default_factory=lambda: {"pd-rest-token-0001"})
    lock: threading.Lock = field(default_factory=threading.Lock)

    def events(self, action: str | None = None, status: int | None = None) -> list[Any]:
        """Bodies of Events API requests, by action and by the status they were answered."""
        with self.lock:
            return [
                r.body
                for r in self.requests
                if r.path == "/v2/enqueue"
                and (action is None or r.body.get("event_action") == action)
                and (status is None or r.headers.get("x-answered") == str(status))
            ]

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.script.clear()
            self.incidents.clear()


def _handler(state: FakePagerDuty) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, body: dict[str, Any]) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def _record(self, body: Any, status: int) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            headers["x-answered"] = str(status)
            with state.lock:
                state.requests.append(Recorded(self.command, self.path, headers, body))

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            if self.path == "/v2/change/enqueue":
                # The Change Events API: checked like the Events API's routing key, never paging.
                if len(str(body.get("routing_key", ""))) != 32:
                    status, answer = recorded_response("response.400_invalid.json")
                else:
                    status, answer = 202, {"status": "success", "message": "Change event processed"}
                self._record(body, status)
                return self._send(status, answer)
            if self.path != "/v2/enqueue":
                self._record(body, 404)
                return self._send(404, {"status": "not found"})
            with state.lock:
                scripted = state.script.pop(0) if state.script else None
            if scripted is None:
                status, answer = recorded_response("response.202_accepted.json")
                answer["dedup_key"] = body.get("dedup_key")
            else:
                status, answer = scripted
            self._record(body, status)
            self._send(status, answer)

        def do_GET(self) -> None:
            if self.path.startswith("/abilities"):
                # REST API v2: a token of the account (``Token token=...``) lists its abilities.
                token = self.headers.get("Authorization", "").removeprefix("Token token=")
                if token not in state.api_tokens:
                    self._record(None, 401)
                    return self._send(401, {"error": {"message": "Unauthorized", "code": 2006}})
                self._record(None, 200)
                return self._send(200, {"abilities": ["teams", "read_only_users", "urgencies"]})
            prefix = "/incidents/"
            incident_id = self.path[len(prefix) :] if self.path.startswith(prefix) else ""
            key = state.incidents.get(incident_id)
            if key is None:
                self._record(None, 404)
                return self._send(404, {"error": {"message": "Not Found", "code": 2100}})
            self._record(None, 200)
            self._send(
                200,
                {
                    "incident": {
                        "id": incident_id,
                        "type": "incident",
                        "incident_key": key,
                        "status": "triggered",
                    }
                },
            )

    return Handler


class FakePagerDutyServer:
    """Runs the fake in a thread; ``start`` returns its state."""

    def __init__(self, directory: Path) -> None:
        ca, cert, key = make_certificates(directory)
        self.state = FakePagerDuty(ca_bundle=Path(ca).read_text())
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.state))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.state.url = f"https://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> FakePagerDuty:
        self.thread.start()
        return self.state

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

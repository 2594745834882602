"""Helpers the multi-host test runs inside its network namespaces (``python -m tests.netns_agent``).

``client``: reads one JSON command a line on stdin, answers one JSON line on stdout (HTTP
requests, an SMTP message, a server-sent-events stream read in the background), so that the
test drives hosts it cannot reach from its own namespace. ``relay HOST PORT FILE DELAY``: an SMTP
relay that takes ``DELAY`` seconds before it accepts each message and appends the Message-ID to
``FILE`` as soon as the message has arrived (a sender killed meanwhile has still sent it).
"""

from __future__ import annotations

import asyncio
import email
import json
import smtplib
import sys
import threading
import time
from email.message import EmailMessage
from email.policy import default
from typing import Any

import httpx


def _client() -> None:
    streams: dict[str, list[str]] = {}
    http = httpx.Client(timeout=30)

    def read_stream(name: str, url: str, cookies: dict[str, str], seconds: float) -> None:
        lines = streams.setdefault(name, [])
        try:
            with httpx.Client(timeout=seconds + 5, cookies=cookies) as c:
                with c.stream("GET", url) as answer:
                    lines.append(f"status {answer.status_code}")
                    ends = time.monotonic() + seconds
                    for line in answer.iter_lines():
                        lines.append(line)
                        if time.monotonic() > ends:
                            return
        except httpx.HTTPError as exc:
            lines.append(f"error {type(exc).__name__}")

    for raw in sys.stdin:
        cmd: dict[str, Any] = json.loads(raw)
        out: dict[str, Any]
        try:
            if cmd["op"] == "http":
                answer = http.request(
                    cmd["method"], cmd["url"], headers=cmd.get("headers"), json=cmd.get("json")
                )
                try:
                    body: Any = answer.json()
                except ValueError:
                    body = answer.text[:2000]
                out = {
                    "status": answer.status_code,
                    "body": body,
                    "cookies": dict(answer.cookies),
                }
            elif cmd["op"] == "smtp":
                msg = EmailMessage()
                msg["From"], msg["To"], msg["Subject"] = cmd["from"], cmd["to"], cmd["subject"]
                msg["Message-ID"] = cmd["message_id"]
                msg.set_content(cmd["body"])
                with smtplib.SMTP(cmd["host"], cmd["port"], timeout=30) as smtp:
                    refused = smtp.send_message(msg)
                out = {"refused": list(refused)}
            elif cmd["op"] == "stream":
                t = threading.Thread(
                    target=read_stream,
                    args=(cmd["name"], cmd["url"], cmd.get("cookies", {}), cmd["seconds"]),
                    daemon=True,
                )
                t.start()
                out = {"started": True}
            elif cmd["op"] == "lines":
                out = {"lines": list(streams.get(cmd["name"], []))}
            else:
                out = {"error": f"unknown op {cmd['op']}"}
        except Exception as exc:  # reported to the test, which decides
            out = {"error": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


def _relay(host: str, port: int, path: str, delay: float) -> None:
    from aiosmtpd.controller import Controller

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            msg = email.message_from_bytes(envelope.content, policy=default)
            with open(path, "a") as f:
                f.write(json.dumps({"message_id": str(msg["Message-ID"]), "at": time.time()}))
                f.write("\n")
            await asyncio.sleep(delay)
            return "250 OK"

    controller = Controller(Handler(), hostname=host, port=port)
    controller.start()
    print("relay ready", flush=True)
    try:
        threading.Event().wait()
    finally:
        controller.stop()


if __name__ == "__main__":
    if sys.argv[1] == "client":
        _client()
    elif sys.argv[1] == "relay":
        _relay(sys.argv[2], int(sys.argv[3]), sys.argv[4], float(sys.argv[5]))
    else:
        raise SystemExit(f"unknown mode {sys.argv[1]}")

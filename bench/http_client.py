"""A lean HTTP/1.1 client for the benchmarks: keep-alive connections on asyncio streams.

httpx costs the client about as much CPU per request as the hub spends answering it, and on a
2-core machine that CPU is taken from the server: a benchmark driven by it measures httpx. This
client sends one prepared request per round trip and reads the reply by its Content-Length (or
its chunks), checking every status. It is not a general client: no redirects, no TLS.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any
from urllib.parse import urlsplit


class HTTPStatusError(RuntimeError):
    pass


def request_bytes(
    base: str, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> bytes:
    """One HTTP/1.1 request as bytes (the same bytes are sent again for every round trip)."""
    host = urlsplit(base).netloc
    data = b"" if body is None else json.dumps(body).encode()
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(data)}"]
    if body is not None:
        lines.append("Content-Type: application/json")
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + data


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """Status and body of the next response on a keep-alive connection."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = None
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        body = bytearray()
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            body += await reader.readexactly(size + 2)
            if size == 0:
                return status, bytes(body)
            del body[-2:]
    return status, await reader.readexactly(length or 0)


async def _client(base: str, request: bytes, count: int, expect: int) -> int:
    parts = urlsplit(base)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port or 80)
    try:
        for _ in range(count):
            writer.write(request)
            status, body = await read_response(reader)
            if status != expect:
                raise HTTPStatusError(f"{status}: {body[:200]!r}")
        return count
    finally:
        writer.close()


def rate(base: str, request: bytes, total: int, clients: int, expect: int = 201) -> float:
    """Requests per second from ``clients`` connections at once, each sending its next request
    when the last was answered; every answer must have the status ``expect``."""

    async def main() -> float:
        start = time.perf_counter()
        done = sum(
            await asyncio.gather(
                *(_client(base, request, total // clients, expect) for _ in range(clients))
            )
        )
        return done / (time.perf_counter() - start)

    return asyncio.run(main())

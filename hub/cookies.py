"""Cookie attributes for every response: ``Secure`` behind https, whoever set the cookie."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.settings import Settings


def secure_cookies(settings: Settings) -> bool:
    """Cookies get ``Secure`` when the hub is reached over https (its base URL says so), or when
    the operator asks for it (``HUB_COOKIE_SECURE``, e.g. behind a TLS-terminating proxy)."""
    return settings.cookie_secure or settings.base_url.lower().startswith("https://")


def _with_secure(header: bytes) -> bytes:
    attributes = [part.strip().lower() for part in header.split(b";")[1:]]
    return header if b"secure" in attributes else header + b"; Secure"


class SecureCookieMiddleware:
    """Every ``Set-Cookie`` of every response (console, API, plugins' routes) carries ``Secure``
    when ``secure_cookies`` says so: one place, so no cookie can forget it."""

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.enabled = secure_cookies(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.enabled or scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_secure(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {
                    **message,
                    "headers": [
                        (k, _with_secure(v) if k.lower() == b"set-cookie" else v)
                        for k, v in message.get("headers", [])
                    ],
                }
            await send(message)

        await self.app(scope, receive, send_secure)

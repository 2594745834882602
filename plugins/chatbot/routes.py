"""HTTP and websocket endpoints of the chat, mounted at ``/plugins/chatbot``.

Every endpoint names its tenant with ``?tenant=<slug>`` and answers 404 when the tenant does not
exist or has not enabled the chatbot. Frames are JSON; every text travels as plain text and the
widget renders it with ``textContent``, the pages with Jinja2's autoescaping.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Query, Request, Response, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse, JSONResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool

from core.api import HubContext, NotFound, public_article, security_headers
from plugins.chatbot import conversation, i18n, store
from plugins.chatbot.live import listeners
from plugins.chatbot.settings import ChatbotSettings, load

HERE = Path(__file__).parent
POLL_SECONDS = 3.0
MAX_FRAME = 20_000
TenantQ = Query(default="", max_length=63)
SessionQ = Query(default="", max_length=100)
LangQ = Query(default="", max_length=35)


# The chat and article pages may be framed by a tenant's (https) site: the widget's full-page chat
# can live in an iframe. The session token travels in the chat page's URL: never as a referrer.
EMBEDDABLE = "'self' https:"


def page_headers(base_url: str) -> dict[str, str]:
    """The chat pages' security headers (``core.api.security_headers``, as the console's): the
    websocket back to the hub is the one connection a page may open."""
    parts = urlsplit(base_url)
    socket = (
        f"{'wss' if parts.scheme == 'https' else 'ws'}://{parts.netloc}" if parts.netloc else ""
    )
    return security_headers(
        frame_ancestors=EMBEDDABLE, connect_src=f"'self' {socket}".strip(), referrer="no-referrer"
    )


class Site:
    """The chat's view of the hub: which tenant a request names, and its settings."""

    def __init__(self, hub: HubContext) -> None:
        self.hub = hub
        self.pages = Environment(
            loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True)
        )

    def tenant(self, slug: str) -> tuple[uuid.UUID, str, str, ChatbotSettings] | None:
        """(id, slug, name, settings) of an existing tenant with the chatbot on, else None."""
        with self.hub.session() as s:
            row = store.tenant_by_slug(s, slug)
            if row is None:
                return None
            tenant_id, name, slug = row.id, row.name, row.slug
        config = self.hub.config(tenant_id, "chatbot")
        if not config.enabled:
            return None
        return tenant_id, slug, name, load(config.settings)

    def require(self, slug: str) -> tuple[uuid.UUID, str, str, ChatbotSettings]:
        found = self.tenant(slug)
        if found is None:
            raise NotFound("no chat here")
        return found

    def resume_url(self, slug: str, token: str) -> str:
        return f"{self.hub.base_url}/plugins/chatbot/chat?" + urlencode(
            {"tenant": slug, "session": token}
        )

    def find(self, tenant_id: uuid.UUID, token: str) -> tuple[int, str, int | None] | None:
        with self.hub.session() as s:
            chat = store.find_session(s, tenant_id, token)
            return None if chat is None else (chat.id, chat.state, chat.ticket_id)

    def lines(self, chat_id: int, after: int) -> list[dict[str, Any]]:
        with self.hub.session() as s:
            return [store.public(m) for m in store.messages_after(s, chat_id, after)]


def build_router(hub: HubContext) -> APIRouter:
    """The chat's router (the hub mounts it under ``/plugins/chatbot``)."""
    site = Site(hub)
    router = APIRouter()
    widget_js = (HERE / "static" / "widget.js").read_text()

    @router.get("/widget.js", include_in_schema=False)
    def widget(request: Request, tenant: str = TenantQ, lang: str = LangQ) -> Response:
        """The embeddable widget: ``<script src=".../plugins/chatbot/widget.js?tenant=<slug>">``,
        its words in ``lang`` (else the browser's ``Accept-Language``)."""
        site.require(tenant)
        chosen = i18n.pick(lang, request.headers.get("accept-language"))
        words = json.dumps(i18n.widget_words(chosen), ensure_ascii=False).replace("</", "<\\/")
        return Response(
            widget_js.replace("__WORDS__", words, 1),
            media_type="application/javascript",
            headers={
                "Cache-Control": "public, max-age=300",
                "Vary": "Accept-Language",
                "X-Content-Type-Options": "nosniff",
                "Cross-Origin-Resource-Policy": "cross-origin",
            },
        )

    @router.get("/chat", response_class=HTMLResponse)
    def chat_page(
        request: Request, tenant: str = TenantQ, session: str = SessionQ, lang: str = LangQ
    ) -> HTMLResponse:
        """The full-page chat; with ``session`` it resumes that conversation; in ``lang`` (else
        the browser's ``Accept-Language``)."""
        tenant_id, slug, name, _ = site.require(tenant)
        chosen = i18n.pick(lang, request.headers.get("accept-language"))
        history: list[dict[str, Any]] = []
        if session:
            found = site.find(tenant_id, session)
            if found is None:
                raise NotFound("no such conversation")
            history = site.lines(found[0], 0)
        html = site.pages.get_template("chat.html").render(
            tenant_slug=slug,
            tenant_name=name,
            session=session,
            history=history,
            lang=chosen,
            _=lambda text, **values: i18n.t(chosen, text, **values),
        )
        return HTMLResponse(html, headers={**page_headers(hub.base_url), "Vary": "Accept-Language"})

    @router.get("/articles/{article_id}", response_class=HTMLResponse)
    def article_page(
        request: Request, article_id: int, tenant: str = TenantQ, lang: str = LangQ
    ) -> HTMLResponse:
        """A published public article, readable without an account (links in the chat)."""
        tenant_id, slug, name, _ = site.require(tenant)
        chosen = i18n.pick(lang, request.headers.get("accept-language"))
        with hub.session() as s:
            article = public_article(s, tenant_id, article_id)
            if article is None:
                raise NotFound("no such article")
            # body_html was cleaned by nh3 when the article was saved.
            html = site.pages.get_template("article.html").render(
                tenant_slug=slug,
                tenant_name=name,
                title=article.title,
                body_html=article.body_html,
                updated_at=article.updated_at,
                lang=chosen,
                _=lambda text, **values: i18n.t(chosen, text, **values),
            )
        return HTMLResponse(html, headers=page_headers(hub.base_url))

    @router.websocket("/ws")
    async def chat_socket(
        websocket: WebSocket, tenant: str = "", session: str = "", lang: str = ""
    ) -> None:
        """The conversation: JSON frames in both directions (see the plugin's README); the
        bot's lines in ``lang`` (the widget's), else the handshake's ``Accept-Language``."""
        chosen = i18n.pick(lang[:35], websocket.headers.get("accept-language"))
        found = await run_in_threadpool(site.tenant, tenant[:63])
        if found is None:
            await _deny(websocket, "no chat here")
            return
        tenant_id, slug, _, settings = found
        existing = await run_in_threadpool(site.find, tenant_id, session) if session else None
        if session and existing is None:
            await _deny(websocket, "no such conversation")
            return
        await websocket.accept()
        address = websocket.client.host if websocket.client else ""
        if existing is None:
            try:
                chat_id, session = await run_in_threadpool(
                    conversation.start, hub, tenant_id, settings, address, chosen
                )
            except conversation.ChatError as exc:
                await websocket.send_json({"type": "error", "code": exc.code, "detail": exc.detail})
                await websocket.close(code=1008)
                return
            state, ticket_id = "asking", None
        else:
            chat_id, state, ticket_id = existing
        chat = conversation.Chat(
            hub=hub,
            tenant_id=tenant_id,
            tenant_slug=slug,
            settings=settings,
            chat_id=chat_id,
            resume_url=site.resume_url(slug, session),
            lang=chosen,
        )
        await websocket.send_json(
            {
                "type": "session",
                "token": session,
                "state": state,
                "ticket_id": ticket_id,
                "resume_url": chat.resume_url,
                "max_chars": settings.max_message_chars,
            }
        )
        await _converse(websocket, site, chat)

    return router


async def _deny(websocket: WebSocket, detail: str) -> None:
    """Refuse the handshake with a 404 where the server can say so, else close with 4404."""
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(JSONResponse({"detail": detail}, status_code=404))
    else:
        await websocket.close(code=4404)


async def _converse(websocket: WebSocket, site: Site, chat: conversation.Chat) -> None:
    """Relay frames until the visitor leaves; push new transcript lines as they appear."""
    entry = listeners.subscribe(chat.chat_id)
    last = 0
    recv: asyncio.Future[str] | None = None

    async def flush() -> None:
        nonlocal last
        for line in await run_in_threadpool(site.lines, chat.chat_id, last):
            await websocket.send_json(line)
            last = line["id"]

    try:
        await flush()
        while True:
            if recv is None:
                recv = asyncio.ensure_future(websocket.receive_text())
            waker = asyncio.ensure_future(entry[1].wait())
            both: set[asyncio.Future[Any]] = {recv, waker}
            done, _ = await asyncio.wait(
                both, timeout=POLL_SECONDS, return_when=asyncio.FIRST_COMPLETED
            )
            waker.cancel()
            entry[1].clear()
            if recv in done:
                raw, recv = recv.result(), None
                await _frame(websocket, chat, raw)
            await flush()
    except WebSocketDisconnect:
        pass
    finally:
        listeners.unsubscribe(chat.chat_id, entry)
        if recv is not None:
            recv.cancel()


async def _frame(websocket: WebSocket, chat: conversation.Chat, raw: str) -> None:
    """Act on one frame from the widget: a message, a sign-in, or a ping."""
    try:
        if len(raw) > MAX_FRAME:
            raise conversation.ChatError("too_long", i18n.t(chat.lang, "That message is too long."))
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        kind = data.get("type") if isinstance(data, dict) else None
        if kind == "message":
            await run_in_threadpool(conversation.handle, chat, str(data.get("text", "")))
        elif kind == "auth":
            email = await run_in_threadpool(conversation.sign_in, chat, str(data.get("token", "")))
            await websocket.send_json({"type": "signed_in", "email": email})
        elif kind == "ping":
            await websocket.send_json({"type": "pong"})
        else:
            raise conversation.ChatError(
                "invalid", i18n.t(chat.lang, 'Send {"type": "message", "text": "..."}.')
            )
    except conversation.ChatError as exc:
        await websocket.send_json({"type": "error", "code": exc.code, "detail": exc.detail})

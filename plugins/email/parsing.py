"""Raw RFC 5322 bytes to ``core.api.InboundMessage``: headers, text, attachments, threading ids.

Never raises on bad input: malformed headers and charsets are decoded best-effort, HTML-only
mail becomes plain text (never rendered), and quoted history is cut from replies.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import lxml.etree
import lxml.html
from inscriptis import Inscriptis
from inscriptis.css_profiles import CSS_PROFILES
from inscriptis.html_properties import Display
from inscriptis.model.config import ParserConfig
from inscriptis.model.html_element import HtmlElement

from core.api import InboundAttachment, InboundMessage
from plugins.email.authenticate import Verdict
from plugins.email.classify import Classification, classify
from plugins.email.forwards import attached_from, forwarded_from
from plugins.email.mime import (
    Mail,
    content_type,
    disposition,
    filename,
    part_text,
    raw_head_addresses,
    valid_address,
    walk,
)
from plugins.email.reply_trim import trim

CHANNEL = "email"
REF_KIND = "email_message_id"
MAX_ATTACHMENTS = 50
MSGID = re.compile(r"<([^<>\s]{1,490})>")
REPLY_SUBJECT = re.compile(
    r"^\s*(re|aw|sv|vs|antw|odp|rif|r|ref|res|tr|wg|fw|fwd)\s*(\[\d+\])?\s*:", re.I
)
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
SKIP_PARTS = (
    "message/delivery-status",
    "message/global-delivery-status",
    "text/rfc822-headers",
    "message/feedback-report",
    "message/disposition-notification",
)


@dataclass
class ParsedMail:
    """The normalised message plus what the plugin itself needs (classification)."""

    message: InboundMessage
    classification: Classification
    message_id: str | None


def message_ids(value: str) -> list[str]:
    """Message-IDs in a header value, without angle brackets (bare ids accepted too)."""
    ids = MSGID.findall(value)
    if not ids and value.strip() and " " not in value.strip() and "@" in value:
        ids = [value.strip().strip("<>")]
    return ids


# The browser's defaults (inscriptis' strict profile), with a rule line as a paragraph break:
# "Bob<hr><b>From:</b> ..." must put the quoted header block on a line of its own.
_HTML_PROFILE = dict(CSS_PROFILES["strict"])
_HTML_PROFILE["hr"] = HtmlElement(display=Display.block, margin_before=1, margin_after=1)
_HTML_CONFIG = ParserConfig(css=_HTML_PROFILE, display_links=True, display_images=False)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_NOT_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


_SELF_LINK = re.compile(r"\[([^\]\s]+)\]\(\1\)")


def html_to_text(html: str) -> str:
    """HTML as readable plain text: layout as a browser shows it, links kept as
    ``[text](url)``, images, scripts and styles dropped, and quoted mail (``<blockquote>``) as
    ``> `` lines, so that reply trimming recognises it as it does in plain-text mail."""
    html = _NOT_XML_CHARS.sub("", _XML_DECLARATION.sub("", html))
    try:
        root = lxml.html.document_fromstring(html)
    except (lxml.etree.ParserError, ValueError):
        return re.sub(r"<[^>]*>", " ", html).strip()
    # Innermost first, so that a quote inside a quote gets "> > ".
    for quote in reversed(list(root.iter("blockquote"))):
        inner = Inscriptis(quote, _HTML_CONFIG).get_text().strip("\n")
        pre = lxml.html.Element("pre")
        pre.text = "\n" + "\n".join(f"> {line}".rstrip() for line in inner.splitlines()) + "\n"
        pre.tail = quote.tail
        parent = quote.getparent()
        if parent is not None:  # always: the document's root is <html>
            parent.replace(quote, pre)
    text = str(Inscriptis(root, _HTML_CONFIG).get_text()).strip()
    return _SELF_LINK.sub(r"\1", text)  # "[https://x](https://x)": the address once


def strip_quotes(text: str) -> str:
    """The latest reply of a message: the sender's lines without the quoted history and its
    attribution (``plugins.email.reply_trim``); the whole text when nothing would remain."""
    try:
        reply = trim(text)
    except Exception:  # never lose a message to the trimmer
        reply = ""
    return reply if reply.strip() else text.strip()


def clean_text(text: str) -> str:
    """Text the database accepts and a reader can see: no NUL or other control characters
    (PostgreSQL refuses NUL in text), tabs and newlines kept."""
    return CONTROL.sub("", text)


def safe_filename(name: str, ctype: str, index: int) -> str:
    """A display name only: no directories, no control characters, bounded length."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").split("/")[-1]
    name = "".join(c for c in name if c.isprintable() and c not in '<>:"|?*').strip(" .")
    if not name:
        ext = mimetypes.guess_extension(ctype) or ".bin"
        name = f"attachment-{index}{ext}"
    return name[-200:]


def _body_and_attachments(mail: Mail) -> tuple[str, bool, list[InboundAttachment], int]:
    plain: str | None = None
    html: str | None = None
    attachments: list[InboundAttachment] = []
    dropped = 0
    for index, part in enumerate(walk(mail.msg)):
        ctype = content_type(part)
        if part.is_multipart() and ctype != "message/rfc822":
            continue
        disp = disposition(part)
        name = filename(part)
        is_body_text = ctype in ("text/plain", "text/html") and disp != "attachment" and not name
        if is_body_text:
            if ctype == "text/plain" and plain is None:
                plain = part_text(part)
            elif ctype == "text/html" and html is None:
                html = part_text(part)
            continue
        if ctype in SKIP_PARTS:
            continue
        if len(attachments) >= MAX_ATTACHMENTS:
            dropped += 1
            continue
        data = _part_bytes(part, ctype)
        if data is None:
            continue
        inline = disp == "inline" or bool(part.get("Content-ID"))
        attachments.append(
            InboundAttachment(
                file_name=safe_filename(name, ctype, index),
                content_type=ctype,
                data=data,
                inline=inline,
            )
        )
    if plain is not None and plain.strip():
        return plain, False, attachments, dropped
    if html is not None:
        return html_to_text(html), True, attachments, dropped
    return plain or "", False, attachments, dropped


def _part_bytes(part: object, ctype: str) -> bytes | None:
    try:
        if ctype == "message/rfc822":
            inner = part.get_payload()  # type: ignore[attr-defined]
            inner = inner[0] if isinstance(inner, list) and inner else inner
            return bytes(inner.as_bytes()) if hasattr(inner, "as_bytes") else None
        data = part.get_payload(decode=True)  # type: ignore[attr-defined]
        return data if isinstance(data, bytes) else None
    except Exception:
        return None


SENDER_SOURCES = ("From", "Sender", "Reply-To", "Return-Path")


def _sender(mail: Mail, envelope_from: str | None) -> tuple[str | None, str]:
    """The first parseable mailbox of From, Sender, Reply-To, Return-Path, then the envelope
    sender (MAIL FROM), with its display name."""
    for header in SENDER_SOURCES:
        pairs = mail.addresses(header)
        if pairs:
            return pairs[0][1], pairs[0][0][:200] if header != "Return-Path" else ""
    for header in SENDER_SOURCES:
        found = raw_head_addresses(mail.raw, header)
        if found:
            return found[0], ""
    envelope = (envelope_from or "").strip().strip("<>").lower()
    if envelope and valid_address(envelope):
        return envelope, ""
    return None, ""


def no_sender_reason(mail: Mail, envelope_from: str | None) -> str:
    """Why a message has no sender: what each place a sender could be in held."""
    held = []
    for header in SENDER_SOURCES:
        value = mail.header(header) or mail.raw_header(header)
        held.append(f"{header} {value[:80]!r}" if value else f"no {header}")
    envelope = (envelope_from or "").strip()
    held.append(f"envelope sender {envelope[:80]!r}" if envelope else "no envelope sender")
    return "no sender address in From, Sender, Reply-To, Return-Path or the envelope (" + (
        "; ".join(held) + ")"
    )


def _plus_token(addresses: Iterable[str], support: set[str]) -> str | None:
    """The tag of ``local+tag@domain`` when ``local@domain`` is ours (or, unknown, any)."""
    for addr in addresses:
        local, _, domain = addr.lower().partition("@")
        base, plus, tag = local.partition("+")
        if plus and tag and (not support or f"{base}@{domain}" in support):
            return tag
    return None


def _verdict(auth: Verdict | None, sender: str | None) -> tuple[bool, str]:
    """Whether the sender taken is the From address that ``auth`` authenticated, and why."""
    if auth is None:
        return False, "not authenticated"
    if not sender or auth.from_address != sender.lower():
        return False, "the sender is not the authenticated From address"
    return auth.verified, auth.summary


def parse(
    raw: bytes,
    *,
    envelope_from: str | None = None,
    envelope_to: Iterable[str] = (),
    support_addresses: Iterable[str] = (),
    auth: Verdict | None = None,
) -> ParsedMail:
    """Parse one message. ``support_addresses`` (the tenant's) keep our own addresses out of the
    participants and say which ``+tag`` is a reply token. ``auth`` (``authenticate.verify``)
    says whether the sender is authenticated; without it, or when the sender taken is not the
    From address it authenticated, the message is unverified."""
    mail = Mail(raw)
    support = {a.lower() for a in support_addresses}
    sender, sender_name = _sender(mail, envelope_from)
    own_ids = message_ids(mail.raw_header("Message-ID"))
    message_id = own_ids[0] if own_ids else None
    refs: list[str] = []
    for rid in message_ids(mail.raw_header("In-Reply-To")) + list(
        reversed(message_ids(mail.raw_header("References")))
    ):
        if rid not in refs and rid != message_id:
            refs.append(rid)
    subject = clean_text(mail.header("Subject"))[:255]
    body, from_html, attachments, dropped = _body_and_attachments(mail)
    body = clean_text(body)
    sender_name = clean_text(sender_name)
    recipients = [
        a
        for _, a in mail.addresses("To")
        + mail.addresses("Cc")
        + mail.addresses("Delivered-To")
        + mail.addresses("X-Original-To")
    ]
    token = _plus_token(list(envelope_to) + recipients, support)
    is_reply = bool(refs or token or REPLY_SUBJECT.match(subject))
    full_body = body.strip()
    if is_reply:
        body = strip_quotes(full_body)
    participants = []
    original = forwarded_from(full_body) or attached_from(walk(mail.msg))
    if original and original != sender and original not in support:
        participants.append(original)
    for _, addr in mail.addresses("Cc"):
        base = re.sub(r"\+[^@]*@", "@", addr)
        if addr != sender and base not in support and addr not in participants:
            participants.append(addr)
    classification = classify(mail, sender)
    verified, summary = _verdict(auth, sender)
    if message_id and len(message_id) <= 250:
        dedupe = f"mid:{message_id}"
    else:
        dedupe = "sha256:" + hashlib.sha256(message_id.encode() if message_id else raw).hexdigest()
    msg = InboundMessage(
        channel=CHANNEL,
        dedupe_key=dedupe,
        sender_email=sender,
        sender_name=sender_name,
        subject=subject,
        body=body,
        references=refs,
        message_ref=message_id,
        ref_kind=REF_KIND,
        thread_token=token,
        attachments=attachments,
        participants=participants[:20],
        attachments_not_taken=[
            f"{dropped:,} more attachment(s): at most {MAX_ATTACHMENTS} "
            "attachments are kept per message"
        ]
        if dropped
        else [],
        is_automated=classification.automated,
        raw=raw,
        sender_verified=verified,
        auth_summary=summary,
        unverified_policy=auth.unverified_policy if auth else "accept",
        meta={
            "kind": classification.kind,
            "reasons": classification.reasons,
            "html_only": from_html,
            "quotes_stripped": is_reply and body != full_body,
            "attachments_dropped": dropped,
            **({"no_sender": no_sender_reason(mail, envelope_from)} if sender is None else {}),
        },
    )
    return ParsedMail(message=msg, classification=classification, message_id=message_id)

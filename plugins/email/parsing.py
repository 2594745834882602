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
from mailparser_reply import EmailReplyParser
from mailparser_reply.parser import EmailMessage as ReplyMessage

from core.api import InboundAttachment, InboundMessage
from plugins.email.authenticate import Verdict
from plugins.email.classify import Classification, classify
from plugins.email.mime import (
    Mail,
    content_type,
    disposition,
    filename,
    part_text,
    valid_address,
    walk,
)

CHANNEL = "email"
REF_KIND = "email_message_id"
MAX_ATTACHMENTS = 50
MSGID = re.compile(r"<([^<>\s]{1,490})>")
REPLY_SUBJECT = re.compile(
    r"^\s*(re|aw|sv|vs|antw|odp|rif|r|ref|res|tr|wg|fw|fwd)\s*(\[\d+\])?\s*:", re.I
)
HEADER_FROM = re.compile(r"^\s*\*?(from|de|von|van|da|od|fr[åa]n|fra|от)\s*:\*?\s*\S", re.I)
HEADER_SENT = re.compile(
    r"^\s*\*?(sent|date|gesendet|datum|envoy[ée]|enviado|verzonden|"
    r"skickat|sendt|wys[łl]ane|data|inviato|отправлено)\s*:",
    re.I,
)
ORIGINAL_SEPARATOR = re.compile(
    r"^\s*-{3,}\s*(original message|urspr[üu]ngliche nachricht|"
    r"message d'origine|mensaje original|messaggio originale)",
    re.I,
)
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
QUOTE_LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "pl", "sv", "da", "cs", "ja", "ko", "zh"]
_reply_parser = EmailReplyParser(languages=QUOTE_LANGUAGES)
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
    return str(Inscriptis(root, _HTML_CONFIG).get_text()).strip()


def _header_regex() -> re.Pattern[str]:
    return ReplyMessage(text="", languages=list(_reply_parser.languages)).HEADER_REGEX


_HEADER_REGEX = _header_regex()
# Where a match of the reply parser's header regex can start: each of its alternatives begins
# with ``^`` (multi-line) or ``(?:^|\n...)``, except the Danish one, which may begin with its
# "-----Oprindelig meddelelse-----" line anywhere. Checked below; when a new version of the
# library breaks this, the library's own (slow) scan is used instead.
_ANCHORED_STARTS = (
    "^",
    "(?:^|\\n",
    "((?:^|\\n",
    "(^",
    "((?:(?:^|\\n|\\n(?:> ?)*)[* ]*",
    "((?:(?:^|\\n|\\n(?:> ?)*)?-----",
)
_ANYWHERE = re.compile(r"-----Oprindelig meddelelse-----", re.I)


def _alternatives(pattern: str) -> list[str]:
    parts, depth, cur, i = [], 0, [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            cur.append(pattern[i : i + 2])
            i += 2
            continue
        depth += c == "("
        depth -= c == ")"
        if c == "|" and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    return parts + ["".join(cur)]


_FAST_HEADERS = all(
    alt.startswith(_ANCHORED_STARTS) for alt in _alternatives(_HEADER_REGEX.pattern)
)


# Every alternative of the header regex needs one of these (a colon, a full-width colon, or a
# "-----" separator) on its first line or soon after: "Am ...\n...\nschrieb\n...\n...:" reaches
# furthest, four line breaks through its ``\s``. A line with none of them in it or in the five
# lines after it cannot begin a match (one more than needed, to be safe).
_MARKERS = (":", "\uff1a", "-----")
_REACH = 6


def _header_groups(text: str) -> list[tuple[str, ...]]:
    """``_HEADER_REGEX.findall(text)``, trying the regex only where a match can start: at the
    start of a line (or on the line break before it) that has a marker (``_MARKERS``) within
    reach. The same matches, in a small part of the time of scanning every offset."""
    if not _FAST_HEADERS:
        return [m if isinstance(m, tuple) else (m,) for m in _HEADER_REGEX.findall(text)]
    lines = text.split("\n")
    marked = [any(marker in line for marker in _MARKERS) for line in lines]
    starts = set()
    position = 0
    for index, line in enumerate(lines):
        if any(marked[index : index + _REACH]):
            # The line starts at ``position``; the alternatives that begin with ``\n`` start
            # on the line break before it.
            starts.add(position)
            if position:
                starts.add(position - 1)
        position += len(line) + 1
    starts.update(m.start() for m in _ANYWHERE.finditer(text))
    out, end = [], 0
    for start in sorted(starts):
        if start < end or start > len(text):
            continue
        match = _HEADER_REGEX.match(text, start)
        if match is not None:
            out.append(match.groups())
            end = max(match.end(), start + 1)
    return out


def latest_reply(text: str) -> str:
    """What ``EmailReplyParser.parse_reply`` returns (the text before the first quoted-reply
    header), without the signature and disclaimer scans of every fragment it does not use."""
    body = ReplyMessage(text=text, languages=list(_reply_parser.languages)).text  # normalised
    headers = [h for groups in _header_groups(body) for h in groups if h]
    current = 0
    for header in headers:
        position = body.find(header, current + 1 if current > 0 else current)
        content = body[current:position].strip()
        current = position if position >= 0 else 0
        if content:
            return content
    return body[current:].strip()


def strip_quotes(text: str) -> str:
    """The latest reply of a message, without the quoted history (and the "On ... wrote:")."""
    try:
        reply: str | None = latest_reply(text)
    except Exception:
        reply = None
    reply = reply.strip() if reply and reply.strip() else text.strip()
    reply = _cut_header_block(reply) or reply
    return _drop_quoted(reply) or reply


def _cut_header_block(text: str) -> str:
    """Cut at an Outlook-style quoted header block ("From: ... Sent: ...") or an
    "Original Message" separator, which the reply parser misses in some layouts."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if ORIGINAL_SEPARATOR.match(line) and i > 0:
            return "\n".join(lines[:i]).strip()
        if (
            i > 0
            and HEADER_FROM.match(line)
            and any(HEADER_SENT.match(nxt) for nxt in lines[i + 1 : i + 4])
        ):
            return "\n".join(lines[:i]).strip()
    return text


def _drop_quoted(text: str) -> str:
    """Drop ``>`` lines and the attribution line above each quoted block, in any language (the
    reply parser only knows some, and misses bottom-posted replies)."""
    out: list[str] = []
    for line in text.splitlines():
        if not line.lstrip().startswith(">"):
            out.append(line)
            continue
        while out and not out[-1].strip():
            out.pop()
        if out and out[-1].rstrip().endswith(":"):
            out.pop()
            # An attribution wrapped over lines: its other lines carry the quoted address.
            for _ in range(2):
                if len(out) > 1 and ("@" in out[-1] or "<" in out[-1]):
                    out.pop()
    return "\n".join(out).strip()


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


def _sender(mail: Mail, envelope_from: str | None) -> tuple[str | None, str]:
    for header in ("From", "Sender", "Reply-To"):
        pairs = mail.addresses(header)
        if pairs:
            return pairs[0][1], pairs[0][0][:200]
    return_path = mail.header("Return-Path").strip("<> ").lower()
    if valid_address(return_path):
        return return_path, ""
    if envelope_from and valid_address(envelope_from.strip("<>").lower()):
        return envelope_from.strip("<>").lower(), ""
    return None, ""


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
        },
    )
    return ParsedMail(message=msg, classification=classification, message_id=message_id)

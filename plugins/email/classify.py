"""Is a message written by a person, or by a machine? Bounces, auto-replies and bulk mail.

Machines' mail never gets an automatic answer (RFC 3834 section 2); a bounce (a delivery status
notification, RFC 3464, or the plain-text kind many MTAs still send) marks the failed recipient
instead of opening a ticket.
"""

from __future__ import annotations

import email.message
import re
from dataclasses import dataclass, field

from plugins.email.mime import Mail, content_type, part_text, walk

HUMAN, AUTO_REPLY, BOUNCE, BULK = "human", "auto_reply", "bounce", "bulk"

BOUNCE_SENDER = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|mailerdaemon)@", re.I)
BOUNCE_SUBJECT = re.compile(
    r"(undeliver|undelivered mail|delivery status notification|delivery (has )?fail|"
    r"failure notice|mail delivery (failed|failure|system)|returned mail|"
    r"delivery notification|non[- ]?delivery|could not be delivered|bounce notification|"
    r"message not delivered|unzustellbar|nicht zustellbar|non remis)",
    re.I,
)
AUTO_SUBJECT = re.compile(
    r"^\s*(auto(matic)?[ -]?(reply|response|antwort)|auto:|out of (the )?office|"
    r"abwesenheitsnotiz|automatische antwort|r[ée]ponse automatique|"
    r"respuesta autom[áa]tica|risposta automatica|automatyczna odpowied|"
    r"automatisch antwoord|autosvar|automatick[áé] odpově[dď])",
    re.I,
)
DAEMON_NAME = re.compile(r"^\W*(mailer-daemon|mail delivery (sub)?system|postmaster)\b", re.I)
ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")


@dataclass
class Classification:
    """What kind of mail it is, why we think so, and (for bounces) which addresses failed."""

    kind: str = HUMAN
    reasons: list[str] = field(default_factory=list)
    failed_recipients: list[str] = field(default_factory=list)

    @property
    def automated(self) -> bool:
        return self.kind != HUMAN


def classify(mail: Mail, sender: str | None) -> Classification:
    """Classify by headers first (cheap and standard), then by the structure of a DSN."""
    result = Classification()
    reasons = result.reasons
    parts = walk(mail.msg)
    top = content_type(mail.msg)
    report_type = _param(mail.msg, "report-type")
    dsn_parts = [
        p
        for p in parts
        if content_type(p) in ("message/delivery-status", "message/global-delivery-status")
    ]
    if top == "multipart/report" and report_type in ("delivery-status", "global-delivery-status"):
        reasons.append("multipart/report; report-type=delivery-status")
    elif dsn_parts:
        reasons.append("message/delivery-status part")
    if mail.header("X-Failed-Recipients"):
        reasons.append("X-Failed-Recipients")
    return_path = mail.header("Return-Path")
    null_sender = return_path.replace(" ", "") == "<>"
    subject = mail.header("Subject")
    from_daemon = bool(sender and BOUNCE_SENDER.match(sender)) or bool(
        DAEMON_NAME.match(mail.header("From"))
    )
    if (from_daemon or null_sender) and BOUNCE_SUBJECT.search(subject):
        reasons.append("sent by a mailer daemon with a delivery-failure subject")
    if reasons:
        result.kind = BOUNCE
        result.failed_recipients = _failed_recipients(mail, dsn_parts, parts)
        return result
    if top == "multipart/report":
        reasons.append(f"multipart/report; report-type={report_type or '?'}")
    auto_submitted = mail.header("Auto-Submitted").lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        reasons.append(f"Auto-Submitted: {auto_submitted}")
    if mail.header("X-Auto-Response-Suppress"):
        reasons.append("X-Auto-Response-Suppress")
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Apple-Action"):
        if mail.header(name):
            reasons.append(name)
    if null_sender:
        reasons.append("Return-Path: <>")
    if from_daemon:
        reasons.append("sent by a mailer daemon")
    if AUTO_SUBJECT.search(subject):
        reasons.append("auto-reply subject")
    precedence = mail.header("Precedence").lower()
    if precedence in ("auto_reply", "auto-reply"):
        reasons.append(f"Precedence: {precedence}")
    if reasons:
        result.kind = AUTO_REPLY
        return result
    if precedence in ("bulk", "list", "junk"):
        reasons.append(f"Precedence: {precedence}")
    for name in ("List-Id", "List-Unsubscribe", "List-Post", "X-Campaign", "Feedback-ID"):
        if mail.header(name):
            reasons.append(name)
    if reasons:
        result.kind = BULK
    return result


def _param(msg: email.message.Message, name: str) -> str:
    try:
        value = msg.get_param(name)
    except Exception:
        return ""
    return str(value).lower() if isinstance(value, str) else ""


def _failed_recipients(
    mail: Mail, dsn_parts: list[email.message.Message], parts: list[email.message.Message]
) -> list[str]:
    """Addresses a bounce says failed: DSN fields, X-Failed-Recipients, else the human text."""
    found: list[str] = []

    def add(addr: str) -> None:
        addr = addr.strip().strip("<>").lower()
        if "@" in addr and addr not in found and not BOUNCE_SENDER.match(addr):
            found.append(addr)

    for value in mail.headers("X-Failed-Recipients"):
        for addr in ADDRESS.findall(value):
            add(addr)
    for part in dsn_parts:
        for block in _dsn_blocks(part):
            action = block.get("action", "failed").lower()
            if not action.startswith("failed"):
                continue
            for key in ("final-recipient", "original-recipient"):
                value = block.get(key, "")
                if value:
                    add(value.split(";", 1)[-1])
                    break
    if found:
        return found
    # A plain-text bounce: the addresses the daemon quotes before the returned message.
    for part in parts:
        if content_type(part) == "text/plain":
            text = re.split(
                r"\n-{3,}.*(original|returned|bounced|below)|\n\s*Received: ",
                part_text(part),
                maxsplit=1,
                flags=re.I,
            )[0]
            for addr in ADDRESS.findall(text):
                add(addr)
            break
    return found[:20]


def _dsn_blocks(part: email.message.Message) -> list[dict[str, str]]:
    """The per-recipient field blocks of a delivery-status part, as lower-cased dicts."""
    text = ""
    payload = part.get_payload()
    text = "\n\n".join(str(p) for p in payload) if isinstance(payload, list) else part_text(part)
    blocks: list[dict[str, str]] = []
    for chunk in re.split(r"\n\s*\n", text.replace("\r\n", "\n")):
        fields: dict[str, str] = {}
        for line in chunk.splitlines():
            key, sep, value = line.partition(":")
            if sep and key and not key[0].isspace():
                fields[key.strip().lower()] = value.strip()
        if fields:
            blocks.append(fields)
    return blocks

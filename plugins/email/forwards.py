"""Forwarded mail: who wrote the message that was forwarded.

A forward keeps its content (``reply_trim`` never cuts below a forward marker); its original
author, from the ``From:`` line of the forwarded header block (or the ``From`` of a forwarded
``message/rfc822`` attachment), joins the ticket as a participant, so that the person the
request came from is on it.
"""

from __future__ import annotations

import email.message
import email.utils
import re
from collections.abc import Iterable

from plugins.email.mime import valid_address
from plugins.email.reply_trim import FROM_LABELS, is_forward_marker

_FROM = re.compile(rf"^\s*[*_]?(?:{FROM_LABELS})\s*[*_]?\s*[:：]\s*(.+)$", re.I)
_RULED_MARKER = re.compile(r"^\s*[-_=*]{2,}[^-_=*]+[-_=*]{2,}\s*(\S.*)$")
# The first address of a From value: "<ann@x>", "[mailto:ann@x]", or a bare one; a Yahoo
# forward runs its header fields together ("From: Ann <ann@x>To: ...").
_ADDRESS = re.compile(
    r"<([^<>\s]+@[^<>\s]+)>|\[mailto:([^\]\s]+)\]|([^\s<>\[\]\"';,]+@[^\s<>\[\]\"';,]+)"
)


def forwarded_from(text: str) -> str | None:
    """The address on the ``From:`` line just below the first forward marker (or on the marker's
    own line, as Yahoo writes it), in the header labels of the languages ``reply_trim`` knows."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if not is_forward_marker(line):
            continue
        same_line = _RULED_MARKER.match(line)
        candidates = ([same_line.group(1)] if same_line else []) + lines[index + 1 : index + 8]
        for following in candidates:
            match = _FROM.match(following.lstrip("> "))
            if match:
                found = _ADDRESS.search(match.group(1))
                addr = next((g for g in found.groups() if g), "") if found else ""
                addr = addr.strip().lower()
                return addr if valid_address(addr) else None
        return None
    return None


def attached_from(parts: Iterable[email.message.Message]) -> str | None:
    """The From address of the first attached message (``message/rfc822``): a forward "as
    attachment", as Outlook and Thunderbird send it."""
    for part in parts:
        if part.get_content_type() != "message/rfc822":
            continue
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else payload
        if not isinstance(inner, email.message.Message):
            continue
        for _, addr in email.utils.getaddresses([str(inner.get("From", ""))]):
            addr = addr.strip().lower()
            if valid_address(addr):
                return addr
    return None

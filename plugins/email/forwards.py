"""Forwarded mail: who wrote the message that was forwarded.

A forward keeps its content (``reply_trim`` never cuts below a forward marker); its original
author, from the ``From:`` line of the forwarded header block, joins the ticket as a
participant, so that the person the request came from is on it.
"""

from __future__ import annotations

import email.utils
import re

from plugins.email.mime import valid_address
from plugins.email.reply_trim import is_forward_marker

_FROM = re.compile(
    r"^\s*[*_]?(?:from|von|de|van|da|od|fr[åa]n|fra|от|发件人|差出人)\s*[*_]?\s*[:：]\s*(.+)$", re.I
)


def forwarded_from(text: str) -> str | None:
    """The address on the ``From:`` line just below the first forward marker, if any."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if not is_forward_marker(line):
            continue
        for following in lines[index + 1 : index + 6]:
            match = _FROM.match(following.lstrip("> "))
            if match:
                value = match.group(1).replace("[mailto:", "<").replace("]", ">")
                for _, addr in email.utils.getaddresses([value]):
                    addr = addr.strip().strip("<>").lower()
                    if valid_address(addr):
                        return addr
                return None
        return None
    return None

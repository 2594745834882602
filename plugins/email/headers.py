"""Best-effort decoding of a header's raw bytes, for what the standard decoder gets wrong.

Order: RFC 2047 encoded words decoded from their bytes (so that raw 8-bit bytes inside or
between them survive: ``=?utf-8?Q?Grüße?=``); other 8-bit bytes as UTF-8, else in a charset the
message declares (its body parts' or its other encoded words'), else in the charset
charset-normalizer detects from the header with a sample of the body; else with U+FFFD
replacement characters marking what could not be read.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re

from charset_normalizer import from_bytes

ENCODED_WORD = re.compile(rb"=\?([^?\s]+?)(?:\*[^?]*)?\?([bBqQ])\?(.*?)\?=", re.S)
_HEX = re.compile(rb"=([0-9A-Fa-f]{2})")
_SKIP_HINTS = {"us-ascii", "ascii", "utf-8", "utf8"}
# The 8-bit charsets mail is written in; detection chooses among these only (on a subject's
# few bytes it otherwise picks UTF-16 or rare code pages).
MAIL_CHARSETS = [
    "cp1252", "cp1250", "cp1251", "koi8_r", "koi8_u", "iso8859_2", "iso8859_5", "cp1253",
    "iso8859_7", "cp1254", "cp1255", "iso8859_8", "cp1256", "cp1257", "shift_jis", "euc_jp",
    "gb18030", "big5", "euc_kr", "cp874", "cp1258",
]  # fmt: skip


def _codec(name: str) -> str | None:
    try:
        return codecs.lookup(name.strip().strip('"').lower()).name
    except LookupError:
        return None


def _strict(data: bytes, charset: str | None) -> str | None:
    name = _codec(charset) if charset else None
    if name is None:
        return None
    try:
        return data.decode(name)
    except (UnicodeDecodeError, ValueError):
        return None


def decode_8bit(data: bytes, hints: list[str], sample: bytes = b"") -> str:
    """Bytes of unknown charset: UTF-8, a declared charset (``hints``), a detected one, or
    replacement characters."""
    if data.isascii():
        return data.decode("ascii")
    for charset in ["utf-8", *[h for h in hints if h.lower() not in _SKIP_HINTS]]:
        text = _strict(data, charset)
        if text is not None:
            return text
    sample = sample if not sample.isascii() else b""
    best = from_bytes(data + b"\n" + sample, cp_isolation=MAIL_CHARSETS).best()
    if best is not None:
        text = _strict(data, best.encoding)
        if text is not None:
            return text
    return data.decode("utf-8", errors="replace")


def _word(match: re.Match[bytes], hints: list[str], sample: bytes) -> str:
    charset = match.group(1).decode("ascii", "replace")
    payload = match.group(3)
    if match.group(2) in (b"b", b"B"):
        try:
            data = base64.b64decode(payload + b"=" * (-len(payload) % 4))
        except (binascii.Error, ValueError):
            return payload.decode("ascii", "replace")
    else:
        data = _HEX.sub(lambda m: bytes([int(m.group(1), 16)]), payload.replace(b"_", b" "))
    text = _strict(data, charset)
    if text is not None:
        return text
    return decode_8bit(data, hints, sample)


def decode_raw_header(data: bytes, hints: list[str], sample: bytes = b"") -> str:
    """A header's raw bytes as text (see the module docstring); never raises."""
    out: list[str] = []
    position = 0
    after_word = False
    for match in ENCODED_WORD.finditer(data):
        gap = data[position : match.start()]
        # Whitespace between two encoded words is not part of the text (RFC 2047, 6.2).
        if not (after_word and not gap.strip()):
            out.append(decode_8bit(gap, hints, sample))
        out.append(_word(match, hints, sample))
        after_word = True
        position = match.end()
    out.append(decode_8bit(data[position:], hints, sample))
    return "".join(out)


def declared_charsets(header_values: list[bytes], body_charsets: list[str]) -> list[str]:
    """Charsets a message declares: its parts' (first) and its encoded words'."""
    found = list(body_charsets)
    for value in header_values:
        for match in ENCODED_WORD.finditer(value):
            found.append(match.group(1).decode("ascii", "replace"))
    out = []
    for charset in found:
        name = _codec(charset)
        if name and name not in out:
            out.append(name)
    return out

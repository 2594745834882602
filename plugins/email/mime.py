"""Best-effort access to a parsed message: headers and text that never raise.

The MIME tree comes from the ``compat32`` parser (an order of magnitude faster, and it never
raises on access); each header we read is then decoded by ``policy.default``'s header registry
(proper RFC 2047/2231 and address parsing), falling back to a lenient hand decoding when that
raises (an unknown charset, CR/LF inside an address, ...), replacing what cannot be decoded.
"""

from __future__ import annotations

import codecs
import email
import email.header
import email.message
import email.utils
import re
from email import policy

from plugins.email.headers import declared_charsets, decode_raw_header

SURROGATES = re.compile("[\udc80-\udcff]")
# In an ASCII header, what only the header registry decodes or rewrites right: RFC 2047 encoded
# words, comments, quoted strings and escapes.
PLAIN_UNSAFE = re.compile(r'=\?|[()"\\]')
CHARSET_ALIASES = {
    "unicode-1-1-utf-7": "utf-7",
    "iso-8859-8-i": "iso-8859-8",
    "iso-8859-6-i": "iso-8859-6",
    "ks_c_5601-1987": "cp949",
    "x-sjis": "shift_jis",
    "ansi_x3.4-1968": "ascii",
    "x-unknown": "utf-8",
    "unknown-8bit": "utf-8",
    "gb2312": "gb18030",
    "gbk": "gb18030",
}


_LOOSE_ADDRESS = re.compile(r"<[^<>\s]+@[^<>\s]+>|[^<>\s,;:()]+@[^<>\s,;:()]+")


class Mail:
    """One raw message; every accessor is total."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self.msg: email.message.Message = email.message_from_bytes(raw, policy=policy.compat32)
        # The top-level headers as stored (raw 8-bit bytes kept as surrogates), by lower name.
        self._raw: dict[str, list[str]] = {}
        for key, value in self.msg.raw_items():
            self._raw.setdefault(key.lower(), []).append(str(value))
        self._decoded: dict[str, list[str]] = {}
        self._declared: list[str] | None = None

    def _decode(self, name: str, raw: str) -> str:
        if raw.isascii() and not PLAIN_UNSAFE.search(raw):
            # Nothing to decode (no encoded words, no 8-bit bytes) and nothing the header
            # registry would rewrite (comments, quoting): the text is the header, unfolded.
            # Most headers of most mail; the registry costs far more than the parse.
            return " ".join(raw.split())
        if SURROGATES.search(raw):
            # Raw 8-bit bytes in a header (UTF-8 or another charset without RFC 2047, or
            # inside encoded words): decoded best-effort from the bytes (plugins.email.headers).
            raw = decode_raw_header(
                raw.encode("ascii", "surrogateescape"), self._charsets(), self._sample()
            )
        try:
            text = str(policy.default.header_fetch_parse(name, raw))
        except Exception:
            text = decode_header(raw)
        if "\ufffd" in text and "=?" in raw and raw.isascii():
            # An encoded word in a charset it does not hold (or an unknown one).
            text = decode_raw_header(raw.encode("ascii"), self._charsets(), self._sample())
        return " ".join(text.split())

    def _charsets(self) -> list[str]:
        """Charsets the message declares (its parts', then its encoded words')."""
        if self._declared is None:
            body: list[str] = []
            for part in self.msg.walk():
                try:
                    charset = part.get_content_charset()
                except Exception:
                    charset = None
                if charset:
                    body.append(charset)
            values = [v.encode("ascii", "surrogateescape") for vs in self._raw.values() for v in vs]
            self._declared = declared_charsets(values, body)
        return self._declared

    def _sample(self) -> bytes:
        """The start of the body, to detect a header's charset with more text than its own."""
        end = self.raw.find(b"\n\n")
        end = self.raw.find(b"\r\n\r\n") if end < 0 else end
        return self.raw[end : end + 4096] if end >= 0 else b""

    def header(self, name: str) -> str:
        """The first value of a header, decoded, one line; "" when absent."""
        values = self.headers(name)
        return values[0] if values else ""

    def headers(self, name: str) -> list[str]:
        """Every value of a header (e.g. several From lines), decoded (once)."""
        key = name.lower()
        decoded = self._decoded.get(key)
        if decoded is None:
            decoded = [self._decode(name, v) for v in self._raw.get(key, [])]
            self._decoded[key] = decoded
        return decoded

    def raw_header(self, name: str) -> str:
        """The undecoded header (for Message-IDs, where decoding only does harm); every
        occurrence joined, since a few mailers repeat References."""
        return " ".join(" ".join(self._raw.get(name.lower(), [])).split())

    def addresses(self, name: str) -> list[tuple[str, str]]:
        """(display name, lower-cased address) pairs of an address header."""
        values = self.headers(name)
        pairs = email.utils.getaddresses(values) if values else []
        out = []
        for display, addr in pairs:
            addr = addr.strip().strip("<>").lower()
            if valid_address(addr):
                out.append((display.strip(), addr))
        if not out:
            # Best effort where the list does not parse (two addresses without a comma, a
            # stray bracket): any "<mailbox>" or bare mailbox in the text.
            for value in values:
                for addr in _LOOSE_ADDRESS.findall(value):
                    addr = addr.strip("<>").lower()
                    if valid_address(addr):
                        out.append(("", addr))
        return out


# RFC 5321 mailboxes (with RFC 6531's UTF-8): a dot-atom or quoted-string local part, at a
# host name (dotless ones too: root@localhost, as cron and monitoring mail comes), an IDN, or
# an address literal.
_ATEXT = r"[^\s\x00-\x1f\x7f()<>\[\]:;@\\,.\"]"
_LOCAL = re.compile(rf'^(?:{_ATEXT}+(?:\.{_ATEXT}+)*|"(?:[^"\\\r\n]|\\.)*")$')
_LABEL = re.compile(r"^(?!-)[^\s\x00-\x2c./:-@\[-\^`{-\x7f]{1,63}(?<!-)$")
_LITERAL = re.compile(r"^\[(?:\d{1,3}(?:\.\d{1,3}){3}|IPv6:[0-9a-f:.]+)\]$", re.I)


_RAW_HEAD_END = re.compile(rb"\r?\n\r?\n")


def raw_head_addresses(raw: bytes, name: str) -> list[str]:
    """Mailboxes of a header found in the raw head when the parser lost it: a malformed line
    above it ("quite Delivered-To: ...") makes the parser take the rest for the body."""
    head = _RAW_HEAD_END.split(raw[:65536], maxsplit=1)[0].decode("utf-8", "replace")
    line = re.compile(rf"^{re.escape(name)}:[ \t]*(.*)$", re.I | re.M)
    out = []
    for value in line.findall(head):
        for _, addr in email.utils.getaddresses([value]):
            addr = addr.strip().strip("<>").lower()
            if valid_address(addr):
                out.append(addr)
    return out


def valid_address(addr: str) -> bool:
    """An RFC 5321 mailbox: ``local@domain``, the local part a dot-atom or a quoted string, the
    domain a host name (dotless allowed), an internationalised one, or an address literal."""
    local, at, domain = addr.rpartition("@")
    if not (at and local and domain) or len(addr) > 254 or len(local) > 64:
        return False
    if not _LOCAL.match(local):
        return False
    if _LITERAL.match(domain):
        return True
    return all(_LABEL.match(label) for label in domain.rstrip(".").split("."))


def decode_header(value: object) -> str:
    """A compat32 header value (str or Header) as text, RFC 2047 words decoded leniently."""
    if value is None:
        return ""
    try:
        parts = email.header.decode_header(str(value))
    except Exception:
        return str(value)
    out = []
    for chunk, charset in parts:
        if isinstance(chunk, bytes):
            out.append(decode_bytes(chunk, charset))
        else:
            out.append(chunk)
    return "".join(out)


def charset_name(charset: str | None) -> str:
    """A Python codec for a declared charset; utf-8 when it is unknown."""
    name = (charset or "").strip().strip('"').lower()
    if name.startswith("charset="):
        name = name[len("charset=") :].strip('"')
    name = CHARSET_ALIASES.get(name, name) or "utf-8"
    try:
        codecs.lookup(name)
    except LookupError:
        return "utf-8"
    return name


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Bytes in a declared charset; falls back to UTF-8, then Windows-1252, never raises."""
    name = charset_name(charset)
    try:
        return data.decode(name)
    except (UnicodeDecodeError, LookupError):
        pass
    except Exception:
        pass
    for fallback in ("utf-8", "cp1252"):
        try:
            return data.decode(fallback)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", errors="replace")


def part_text(part: email.message.Message) -> str:
    """A text part's content, transfer-decoded and charset-decoded."""
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if not isinstance(data, bytes):
        payload = part.get_payload()
        return payload if isinstance(payload, str) else ""
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = None
    return decode_bytes(data, charset).replace("\r\n", "\n")


def content_type(part: email.message.Message) -> str:
    try:
        return part.get_content_type()
    except Exception:
        return "application/octet-stream"


def disposition(part: email.message.Message) -> str:
    try:
        return (part.get_content_disposition() or "").lower()
    except Exception:
        return ""


def filename(part: email.message.Message) -> str:
    name: str | None
    try:
        name = part.get_filename()
    except Exception:
        name = None
    if name is None:
        try:
            param = part.get_param("name")
            name = (
                email.utils.collapse_rfc2231_value(param)
                if isinstance(param, tuple)
                else param
                if isinstance(param, str)
                else None
            )
        except Exception:
            name = None
    return decode_header(name) if name else ""


def walk(msg: email.message.Message) -> list[email.message.Message]:
    """Every part, without descending into attached messages (those are attachments)."""
    out: list[email.message.Message] = []
    stack = [msg]
    while stack and len(out) < 2000:
        part = stack.pop(0)
        out.append(part)
        if part.is_multipart() and content_type(part) != "message/rfc822":
            try:
                children = part.get_payload()
            except Exception:
                children = []
            if isinstance(children, list):
                stack[0:0] = [c for c in children if isinstance(c, email.message.Message)]
    return out

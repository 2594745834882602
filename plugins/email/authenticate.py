"""Who really sent a mail: the hub's own SPF, DKIM and DMARC-alignment check, or a trusted
relay's ``Authentication-Results``. A From header alone proves nothing.

A mail is *verified* when its From domain is aligned with an authenticated domain:

- the ``d=`` of a DKIM signature that verifies over the raw bytes (dkimpy; a signature with an
  ``l=`` body length is not counted: text could be appended below the signed part), or
- the MAIL FROM domain (the HELO name when MAIL FROM is empty) for which SPF passes for the SMTP
  peer's address (pyspf; SMTP only: IMAP has no peer), or
- what the topmost ``Authentication-Results`` header of a relay the tenant trusts
  (``trusted_authserv_ids``) says: ``dmarc=pass`` for the From domain, or an aligned
  ``dkim=pass`` / ``spf=pass``. Headers below it with the same authserv-id are ignored (a sender
  can write any header; the relay adds its own on top). Over SMTP the header counts only on a
  connection from ``trusted_relay_networks``, since anyone connecting to the hub could write it.

Alignment is relaxed (the same organisational domain, by the public suffix list of
``publicsuffixlist``) unless the From domain's DMARC record asks for strict (``adkim=s`` /
``aspf=s``). Whether the verified sender may act as staff is the core's decision
(``core.intake.authenticated``), which also wants the agent's own signed reply address.

DNS goes through one dnspython resolver: the system's, or ``HUB_DNS_NAMESERVERS``
(``host[:port]``, comma-separated) when the operator names one.
"""

from __future__ import annotations

import email.message
import email.policy
import ipaddress
import logging
import os
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.utils import getaddresses
from typing import Any

import authres
import dkim
import dns.exception
import dns.nameserver
import dns.resolver
import spf
from dkim.util import parse_tag_value
from publicsuffixlist import PublicSuffixList

from plugins.email.settings import EmailSettings

log = logging.getLogger(__name__)
DNS_LIFETIME = 5.0  # seconds for one lookup, retries included
MAX_SIGNATURES = 5
_psl = PublicSuffixList()
_resolvers: dict[str, dns.resolver.Resolver] = {}
DNS_CACHE_SIZE = 10_000
_lock = threading.Lock()


@dataclass(frozen=True)
class SmtpPeer:
    """What the SMTP server saw of the sending side."""

    ip: str
    helo: str = ""
    mail_from: str | None = None


@dataclass(frozen=True)
class Verdict:
    """The outcome for one tenant: whether ``from_address`` is authenticated, and why."""

    verified: bool
    summary: str
    from_address: str | None
    unverified_policy: str = "accept"


# ------------------------------------------------------------------ DNS


def resolver() -> dns.resolver.Resolver:
    """The resolver for authentication look-ups (``HUB_DNS_NAMESERVERS`` or the system's)."""
    spec = os.environ.get("HUB_DNS_NAMESERVERS", "").strip()
    found = _resolvers.get(spec)
    if found is not None:
        return found
    with _lock:
        if spec:
            res = dns.resolver.Resolver(configure=False)
            res.nameservers = [_nameserver(item) for item in spec.split(",") if item.strip()]
        else:
            res = dns.resolver.Resolver()
        res.lifetime = DNS_LIFETIME
        res.timeout = min(2.0, DNS_LIFETIME)
        # Answers (and NXDOMAIN) kept for their TTL: a burst of mail from one domain costs one
        # look-up of its SPF, DKIM key and DMARC policy, not one per message.
        res.cache = dns.resolver.LRUCache(DNS_CACHE_SIZE)
        _resolvers[spec] = res
    return res


def _nameserver(item: str) -> dns.nameserver.Nameserver:
    host, port = item.strip(), 53
    match = re.fullmatch(r"\[?([^\]]+?)\]?:(\d+)", host)
    if match and (host.startswith("[") or host.count(":") == 1):
        host, port = match.group(1), int(match.group(2))
    return dns.nameserver.Do53Nameserver(host, port)


def txt(name: str | bytes) -> list[bytes]:
    """The TXT strings at ``name`` (each record's parts joined); empty when there are none."""
    if isinstance(name, bytes):
        name = name.decode("ascii", "replace")
    try:
        answer = resolver().resolve(name, "TXT", raise_on_no_answer=False, search=False)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    return [b"".join(r.strings) for r in answer] if answer.rrset is not None else []


def _dkim_txt(name: str | bytes, timeout: float = 5) -> bytes | None:
    """dkimpy's ``dnsfunc``: the key record, or None."""
    try:
        records = txt(name)
    except (dns.exception.DNSException, OSError) as exc:
        raise dkim.DnsTimeoutError(str(exc)) from exc
    return records[0] if records else None


def _spf_lookup(name: str, qtype: str, strict: bool = True, timeout: float = 20) -> list[Any]:
    """pyspf's ``DNSLookup`` (the shape of its dnspython one), through ``resolver()``."""
    out: list[Any] = []
    try:
        answer = resolver().resolve(
            name, qtype, raise_on_no_answer=False, search=False, lifetime=min(timeout, DNS_LIFETIME)
        )
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return out
    except (dns.exception.Timeout, dns.resolver.NoNameservers) as exc:
        raise spf.TempError(f"DNS {exc}") from exc
    for rdata in answer if answer.rrset is not None else []:
        if qtype in ("A", "AAAA"):
            out.append(((name, qtype), rdata.address))
        elif qtype == "MX":
            out.append(((name, qtype), (rdata.preference, rdata.exchange)))
        elif qtype == "PTR":
            out.append(((name, qtype), rdata.target.to_text(True)))
        elif qtype in ("TXT", "SPF"):
            out.append(((name, qtype), rdata.strings))
    return out


# pyspf reads its DNS function from a module global: route it through our resolver.
spf.DNSLookup = _spf_lookup


# ------------------------------------------------------------------ alignment


def org_domain(domain: str) -> str:
    """The organisational (registrable) domain: one label under the public suffix."""
    domain = domain.strip(".").lower()
    return _psl.privatesuffix(domain) or domain


def aligned(from_domain: str, other: str, *, strict: bool) -> bool:
    """DMARC identifier alignment of ``other`` with the From domain."""
    a, b = from_domain.strip(".").lower(), other.strip(".").lower()
    if not a or not b:
        return False
    return a == b if strict else org_domain(a) == org_domain(b)


def dmarc_modes(from_domain: str) -> tuple[bool, bool]:
    """(strict DKIM, strict SPF) from the DMARC record of the From domain or its
    organisational domain; relaxed when there is none or it cannot be read."""
    for name in dict.fromkeys((from_domain, org_domain(from_domain))):
        try:
            records = [r for r in txt(f"_dmarc.{name}") if r.lower().startswith(b"v=dmarc1")]
        except (dns.exception.DNSException, OSError):
            return False, False
        if records:
            tags = _tags(records[0])
            return tags.get("adkim") == "s", tags.get("aspf") == "s"
    return False, False


def _tags(record: bytes) -> dict[str, str]:
    out = {}
    for part in record.decode("ascii", "replace").split(";"):
        key, _, value = part.partition("=")
        out[key.strip().lower()] = value.strip().lower()
    return out


def _domain(address: str | None) -> str:
    return (address or "").strip().strip("<>").rpartition("@")[2].lower()


# ------------------------------------------------------------------ checks


def dkim_domains(raw: bytes) -> list[str]:
    """The ``d=`` domains of the DKIM signatures that verify (without ``l=``)."""
    out: list[str] = []
    try:
        checker = dkim.DKIM(raw, logger=log)
        signatures = [v for k, v in checker.headers if k.lower() == b"dkim-signature"]
    except Exception:
        return out
    for index, header in enumerate(signatures[:MAX_SIGNATURES]):
        try:
            tags = parse_tag_value(re.sub(rb"\s+", b"", header))
            if b"l" in tags:
                continue
            if checker.verify(idx=index, dnsfunc=_dkim_txt):
                out.append(tags[b"d"].decode("ascii", "replace").lower())
        except Exception as exc:
            log.debug("dkim: signature %d did not verify: %s", index, exc)
    return out


def spf_result(peer: SmtpPeer) -> tuple[str, str]:
    """(SPF result, the domain it is for): MAIL FROM's domain, or HELO's when it is empty."""
    sender = (peer.mail_from or "").strip("<>")
    domain = _domain(sender) if "@" in sender else ""
    if not domain:
        domain = peer.helo.strip().lower()
        sender = f"postmaster@{domain}"
    if not domain or not peer.ip:
        return "none", domain
    try:
        result, _ = spf.check2(i=peer.ip, s=sender, h=peer.helo or domain, querytime=10)
    except Exception as exc:
        log.debug("spf: check failed: %s", exc)
        result = "permerror"
    return str(result), domain


def relay_results(
    msg: email.message.Message, trusted: Iterable[str]
) -> authres.AuthenticationResultsHeader | None:
    """The topmost ``Authentication-Results`` header with a trusted authserv-id."""
    wanted = {t.lower() for t in trusted}
    if not wanted:
        return None
    for value in msg.get_all("Authentication-Results") or []:
        try:
            header = authres.AuthenticationResultsHeader.parse(
                "Authentication-Results: " + re.sub(r"\s+", " ", str(value))
            )
        except Exception:
            continue
        if str(header.authserv_id).lower() in wanted:
            return header
    return None


def _relay_verdict(header: authres.AuthenticationResultsHeader, from_domain: str) -> str | None:
    """Why the relay's results authenticate the From domain, or None."""

    def prop(result: Any, ptype: str, name: str) -> str:
        for p in result.properties:
            if p.type == ptype and p.name == name:
                return str(p.value or "").lower()
        return ""

    for result in header.results:
        if str(result.result).lower() != "pass":
            continue
        method = str(result.method).lower()
        if method == "dmarc" and prop(result, "header", "from").strip(".") == from_domain:
            return "dmarc=pass"
        if method == "dkim":
            d = prop(result, "header", "d") or _domain(prop(result, "header", "i"))
            if aligned(from_domain, d, strict=False):
                return f"dkim=pass d={d}"
        if method == "spf":
            d = _domain(prop(result, "smtp", "mailfrom")) or prop(result, "smtp", "helo")
            if aligned(from_domain, d, strict=False):
                return f"spf=pass {d}"
    return None


def _peer_trusted(peer: SmtpPeer | None, networks: Iterable[str]) -> bool:
    """A relay's header counts on IMAP (the provider adds it on top) and, over SMTP, only on a
    connection from one of the trusted relay networks."""
    if peer is None:
        return True
    try:
        ip = ipaddress.ip_address(peer.ip)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(n, strict=False) for n in networks)


def verify(raw: bytes, settings: EmailSettings, peer: SmtpPeer | None = None) -> Verdict:
    """Authenticate one message for one tenant (``peer`` is None for IMAP). Never raises."""
    policy = settings.unverified_requester_mail
    msg = BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
    froms = [a for _, a in getaddresses([str(v) for v in msg.get_all("From") or []]) if a]
    if len(froms) != 1 or "@" not in froms[0]:
        return Verdict(False, "From does not name exactly one address", None, policy)
    address = froms[0].strip().lower()
    from_domain = _domain(address)
    notes: list[str] = []
    try:
        header = relay_results(msg, settings.trusted_authserv_ids)
        if header is not None:
            if not _peer_trusted(peer, settings.trusted_relay_networks):
                notes.append(f"{header.authserv_id}: not from a trusted relay network")
            else:
                why = _relay_verdict(header, from_domain)
                if why:
                    return Verdict(True, f"{header.authserv_id}: {why}", address, policy)
                notes.append(f"{header.authserv_id}: no aligned pass")
        strict_dkim, strict_spf = dmarc_modes(from_domain)
        # dkimpy reads the whole message: only when there is a signature to verify.
        domains = dkim_domains(raw) if msg.get("DKIM-Signature") is not None else []
        for d in domains:
            if aligned(from_domain, d, strict=strict_dkim):
                return Verdict(True, f"dkim=pass d={d} (aligned)", address, policy)
        notes.append(
            f"dkim=pass d={','.join(domains)} (not aligned)"
            if domains
            else "dkim: no valid signature"
        )
        if peer is not None:
            result, domain = spf_result(peer)
            if result == "pass" and aligned(from_domain, domain, strict=strict_spf):
                return Verdict(True, f"spf=pass {domain} for {peer.ip} (aligned)", address, policy)
            notes.append(
                f"spf={result} {domain}".strip() + (" (not aligned)" if result == "pass" else "")
            )
    except Exception as exc:
        log.warning("email: authenticating a message failed: %s", exc)
        notes.append("check failed")
    return Verdict(False, "; ".join(notes)[:500], address, policy)

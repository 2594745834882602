"""Reply trimming: the lines a sender wrote, without the quoted history and its attribution.

Line based and language neutral where it can be. Three things end a reply's own text:

- an Outlook-style header block (``From:`` / ``De :`` / ``Von:`` ... followed by ``Sent:``,
  ``To:``, ``Subject:`` lines in any order and language), or an "Original Message" separator;
- an attribution ("On <date>, <who> wrote:", in many languages, possibly wrapped over up to
  three lines) followed by unquoted text, as clients that do not prefix quotes with ``>`` send;
- nothing else: ``>`` quoted blocks are dropped with the attribution just above them, and the
  sender's lines below and between them (bottom posting, inline answers) are kept.

A sender's own line ending in a colon ("I wanted to respond to your points:") is kept: an
attribution needs a date, an address or a verb of writing ("wrote", "schrieb", "a écrit" ...).
A forwarded message (``---------- Forwarded message ---------``, "Begin forwarded message:")
is kept whole from its marker on: the forwarded content is the request.
"""

from __future__ import annotations

import re

# Verbs of writing that end attributions ("... wrote:"), in the languages we know of.
_VERBS = (
    r"wrote|writes|has written|schrieb|schreef|heeft geschreven|a [ée]crit|escribi[óo]|"
    r"het volgende geschreven|geschreven|escreveu|ha scritto|scrisse|napisa[łl](?:\(a\)|a)?|pisze|skrev|skriver|kirjoitti|"
    r"написал(?:\(а\)|а)?|написав|написала|пише|írta|yazd[ıi]|a scris|napsal(?:\(a\)|a)?|"
    r"έγραψε|כתב|كتب|đã viết|menulis|ha escrit|escrit|"
    r"写道|寫道|작성(?:함)?|쓴 글|이 씀|のメッセージ|より|ने लिखा|লিখেছেন|wrote ----|пишет|كَتَب|"
    r"எழுதியது|எழுதப்பட்டது|tarihinde şunu yazdı"
)
_VERB = re.compile(rf"(?:^|[\s,:>)\"'-])(?:{_VERBS})(?:\s*-{{2,}})?\s*[:：]?\s*$", re.I)
_VERB_ANYWHERE = re.compile(rf"(?:^|[\s,>)\"'-])(?:{_VERBS})(?:$|[\s:：,-])", re.I)
_BRACKETED_EMAIL = re.compile(r"<[^<>\s]*@|\([^()\s]+@[^()\s]+\)|mailto:", re.I)
_EMAIL = re.compile(r"[^\s<>()\"]+@[^\s<>()\"]+|mailto:", re.I)
_DATE = re.compile(
    r"\b\d{1,2}[:.]\d{2}\b|\b(?:19|20)\d{2}\b|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{4}年|"
    r"\b\d{1,2}\.\s*\d{1,2}\.\s*\d{1,2}\.",
)
_OPENERS = re.compile(
    r"^\s*[-*>]*\s*(?:(?:on|le|am|el|em|il|in data|op|den|dnia|w dniu|в|у|від|dne|το|在|於)\b|"
    r"(?:ma|ti|ke|to|pe|la|su)\.?\s+\d)",  # Finnish weekdays: "pe 20. lokakuuta 2017"
    re.I,
)

# Outlook-style header block labels: the sender's and the others (date, recipients, subject).
FROM_LABELS = (
    r"from|de|von|van|da|od|fr[åa]n|fra|от|від|lähettäjä|feladó|kimden|afzender|"
    r"发件人|寄件者|差出人|보낸 사람|من|مِن|מאת|mittente|remitente|expéditeur|z|dari|từ|से|থেকে|"
    r"அனுப்புநர்|gönderen|de la|saatja|šalje|nadawca|送信元"
)
_OTHER_LABELS = (
    r"sent|date|to|cc|bcc|subject|reply-to|gesendet|datum|an|betreff|envoy[ée](?: le)?|"
    r"[àa]|objet|sujet|copie [àa]|cc ?:|message du|enviado(?: el)?|enviada|fecha|para|"
    r"asunto|assunto|data|inviato|oggetto|a|verzonden|aan|onderwerp|onderwerp|wys[łl]ano|"
    r"do|temat|data|skickat|till|[äa]mne|sendt|til|emne|dato|l[äa]hetetty|vastaanottaja|"
    r"aihe|отправлено|кому|тема|дата|надіслано|elküldve|címzett|tárgy|gönderildi|kime|"
    r"konu|tarih|odesláno|komu|předmět|发送时间|收件人|主题|日期|寄件日期|收件者|主旨|"
    r"送信日時|宛先|件名|보낸 날짜|받는 사람|제목|تاريخ|إلى|الموضوع|נשלח|אל|נושא|"
    r"trimis|către|subiect|gửi|tới|chủ đề|đã gửi|dikirim|kepada|perihal|terkirim|subjek|"
    r"तारीख|को|सीसी|सबजेक्ट|विषय|प्रति|পাঠানো হয়েছে|প্রতি|সিসি|বিষয়|அனுப்பியது|பெறுநர்|நகல்|"
    r"பொருள்|المُرسل|نسخة كربونية|gönderilme|gönderilen|gönderildi|kopya|送信日"
)
_LABEL = r"^\s*[*_]?\s*(?:{})\s*[*_]?\s*[:：]"
_FROM_LINE = re.compile(_LABEL.format(FROM_LABELS), re.I)
_OTHER_LINE = re.compile(_LABEL.format(_OTHER_LABELS), re.I)

_ORIGINAL = re.compile(
    r"^\s*[-_=*]{2,}\s*(original message|reply message|antwort nachricht|original|urspr[üu]ngliche nachricht|"
    r"message d'origine|mensaje original|messaggio originale|oorspronkelijk bericht|"
    r"oprindelig (?:besked|meddelelse)|opprinnelig melding|ursprungligt meddelande|"
    r"alkuperäinen viesti|wiadomo[śs][ćc] oryginalna|oryginalna wiadomo[śs][ćc]|"
    r"mensagem original|исходное сообщение|původní zpráva|原始邮件|原始郵件|元のメッセージ|"
    r"eredeti üzenet|orijinal mesaj|mesaj original|tin nhắn gốc|pesan asli|"
    r"الرسالة الأصلية|الرسالة الأصليَّة|मूल संदेश|पुराना मैसेज|pesan orisinal|özgün ileti|"
    r"உண்மை தகவல்|correo original|courriel initial|元メール|원본 메시지|thư gốc|原始消息|"
    r"original message|orijinal ileti)\s*[-_=*]{2,}\s*$",
    re.I,
)
# Forward markers, a table by client and language (Gmail, Thunderbird, Yahoo, HubSpot, Apple
# Mail, Mailmate; the localised ones as crisp-oss/email-forward-parser lists them, MIT).
# Between rules ("-------- Forwarded Message --------", Yahoo may go on with the header block on
# the same line):
_FORWARD_RULED = (
    "forwarded message",
    "original message follows",
    "weitergeleitete nachricht",
    "message transf[ée]r[ée]",
    "message transmis",
    "mensaje reenviado",
    "messaggio inoltrato",
    "doorgestuurd bericht",
    "videresendt (?:besked|meddelelse|melding)",
    "vidarebefordrat meddelande",
    "przekazana wiadomo[śs][ćc]",
    "wiadomo[śs][ćc] przesłana dalej",
    "treść przekazanej wiadomości",
    "mensagem (?:encaminhada|reencaminhada)",
    "mesaj redirecționat",
    "пересланное сообщение",
    "пересылаемое сообщение",
    "перенаправленное сообщение",
    "перенаправлене повідомлення",
    "переслане повідомлення",
    "přeposlaná zpráva",
    "preposlaná správa(?: --- forwarded message)?",
    "proslijeđena poruka",
    "továbbított üzenet",
    "edelleenlähetetty viesti",
    "välitetty viesti / fwd\\.msg",
    "iletilmiş mesaj",
    "iletilen ileti",
    "転送されたメッセージ",
    "メッセージを転送",
    "转发的邮件",
    "已转发邮件",
)
# Ending in a colon on a line of their own ("Begin forwarded message:"):
_FORWARD_COLON = (
    "begin forwarded message",
    "forwarded message",
    "anfang der weitergeleiteten nachricht",
    "d[ée]but du message r[ée]exp[ée]di[ée]",
    "inicio del mensaje reenviado",
    "začátek přeposílané zprávy",
    "start på videresendt besked",
    "välitetty viesti alkaa",
    "započni proslijeđenu poruku",
    "továbbított levél kezdete",
    "inizio messaggio inoltrato",
    "begin doorgestuurd bericht",
    "videresendt melding",
    "początek przekazywanej wiadomości",
    "início da mensagem (?:encaminhada|reencaminhada)",
    "începe mesajul redirecționat",
    "начало переадресованного сообщения",
    "začiatok preposlanej správy",
    "vidarebefordrat mejl",
    "İleti başlangıcı",
    "початок листа, що пересилається",
)
_FORWARD = re.compile(
    rf"^\s*(?:[-_=*]{{2,}}\s*(?:{'|'.join(_FORWARD_RULED)})\s*[-_=*]{{2,}}(?:\s.*)?|"
    rf"(?:{'|'.join(_FORWARD_COLON)})\s*:)\s*$",
    re.I,
)
_RULE = re.compile(r"^\s*[-_=*]{3,}\s*$")


_DECORATION = re.compile(r"^\s*>{2,}.*<{2,}\s*$")  # ">>> http://www.example.com <<<"
_SHARED_LINE = re.compile(r"^(.*?[^\s-])\s*-{2,}\s*(\S.*)$")


_INITIALS_QUOTE = re.compile(r"^\s*[A-Za-z]{1,3}>")  # "C> quoted", as Usenet readers quote
# Gmail's "2016-03-03 17:21 GMT+01:00 Some One" and "2013/7/20 Bob <bob@x>" (no colon)
_DATE_FIRST = re.compile(
    r"^\s*\d{4}[/.-]\d{1,2}[/.-]\d{1,2}\b.*(?:GMT[+-]\d|<[^<>\s]+@[^<>\s]+>\s*$)"
)


def is_forward_marker(line: str) -> bool:
    """Whether ``line`` starts a forwarded message ("---------- Forwarded message ---------")."""
    stripped = line.strip()
    return (
        bool(stripped)
        and (stripped[0] in "-_=*" or stripped[-1] == ":")
        and bool(_FORWARD.match(line))
    )


def _quoted(line: str) -> bool:
    stripped = line.lstrip()
    if stripped.startswith(">"):
        return not _DECORATION.match(line)
    return ">" in stripped[1:4] and bool(_INITIALS_QUOTE.match(line))


_INLINE_ON = re.compile(r"^(.*[^\s-])\s+(On\s.*)$")  # "reply On <date>, <who> wrote:"
_QUOTED_END = re.compile(rf"^\s*>\s*(?:(?:{_VERBS})\s*)?[:：]\s*$", re.I)


def _split_shared_lines(lines: list[str]) -> list[str]:
    """ "reply text--- On <date>, <who> wrote:" on one line (as some clients join them) becomes
    the reply's line and the attribution's; an attribution's end wrapped onto a line of its own
    that starts like a quote (">:", "> wrote:", after "<address") is joined back to it."""
    out: list[str] = []
    for index, line in enumerate(lines):
        if (
            line.lstrip().startswith(">")
            and _QUOTED_END.match(line)
            and out
            and out[-1].strip()
            and not _quoted(out[-1])
        ):
            out[-1] = out[-1].rstrip() + " " + line.strip()
            continue
        shared = _SHARED_LINE.match(line) if "--" in line else None
        if shared and _OPENERS.match(shared.group(2)) and _attribution_kind(shared.group(2)):
            out += [shared.group(1), shared.group(2)]
            continue
        inline = _INLINE_ON.match(line) if " On " in line else None
        if (
            inline
            and index + 1 < len(lines)
            and _quoted(lines[index + 1])
            and _attribution_kind(inline.group(2)) == "strong"
        ):
            out += [inline.group(1), inline.group(2)]
            continue
        out.append(line)
    return out


def _join_wrapped_quotes(lines: list[str]) -> list[str]:
    """A single unquoted line between two quoted ones is the quote's own line, wrapped by the
    sending client without its ``>`` ("> ... pharetra d" / "ignissim odio?" / ">")."""
    out = list(lines)
    for i in range(1, len(lines) - 1):
        if (
            lines[i].strip()
            and not _quoted(lines[i])
            and _quoted(lines[i - 1])
            and _quoted(lines[i + 1])
        ):
            out[i] = "> " + lines[i]
    return out


# Direction marks and embeddings Gmail and Outlook put around right-to-left attributions.
_BIDI = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _ends_like_attribution(text: str) -> bool:
    text = _BIDI.sub("", text).rstrip()[-120:]
    if text.endswith(">") and _EMAIL.search(text) and _VERB_ANYWHERE.search(text):
        return True  # "Den 15. jun. 2016 kl. 20.42 skrev Jeff <jeff@x<mailto:jeff@x>>"
    return text.endswith((":", "：")) or bool(_VERB.search(text)) or bool(_DATE_FIRST.match(text))


def _attribution_kind(text: str) -> str | None:
    """ "strong" (a date or an address with a verb or another of them, ending the line as an
    attribution does), "weak" (a verb of writing only: an attribution when quoted lines follow),
    or None."""
    text = _BIDI.sub("", text)
    if not _ends_like_attribution(text):
        return None
    email = bool(_EMAIL.search(text))
    # An attribution's address is bracketed ("Bob <bob@x>", "(bob@x)", "[mailto:bob@x]"); a
    # sender's "meet at 10:00 with bob@x.com:" is not an attribution.
    bracketed = bool(_BRACKETED_EMAIL.search(text))
    date = bool(_DATE.search(text))
    verb = bool(_VERB_ANYWHERE.search(text))
    if (bracketed and date) or (email and verb) or (date and verb) or _DATE_FIRST.match(text):
        return "strong"
    if verb:
        return "weak"
    return None


def _continues(previous: str, first: str) -> bool:
    """Whether ``previous`` is the start of an attribution wrapped onto ``first``."""
    prev = previous.strip()
    return bool(
        _DATE.search(prev)
        or _EMAIL.search(prev)
        or prev.endswith(("<", "("))
        or first.lstrip().startswith(("<", "(", ">:"))
        or _OPENERS.match(prev)
    )


def _join(lines: list[str]) -> str:
    """Wrapped attribution lines as one ("... <" + "address>" becomes "... <address>")."""
    return re.sub(r"<\s+", "<", " ".join(line.strip() for line in lines))


def _attribution_at(
    lines: list[str], end: int, before_quote: bool = False
) -> tuple[int, str] | None:
    """The attribution ending on line ``end``: (first line, kind), wrapped over up to three
    non-blank lines; the shortest strong reading, extended back over its wrapped start. Just
    above a quote, "<date> <who> <address>" without a colon is one too (old Gmail)."""
    if not lines[end].strip() or _quoted(lines[end]):
        return None
    if before_quote:  # old Gmail and Android: "2013/11/1 John Smith <\njohn@smith.org>"
        for start in (end, end - 1):
            if start < 0 or not lines[start].strip() or _quoted(lines[start]):
                break
            last = _join(lines[start : end + 1])
            if last.endswith(">") and _EMAIL.search(last) and _DATE.search(last):
                return start, "strong"
    if not _ends_like_attribution(lines[end]):
        return None
    best: tuple[int, str] | None = None
    for start in range(end, max(end - 3, -1), -1):
        if not lines[start].strip() or _quoted(lines[start]):
            break
        kind = _attribution_kind(_join(lines[start : end + 1]))
        if kind == "strong":
            best = (start, kind)
            break
        if kind == "weak" and best is None:
            best = (start, kind)
    if best is None:
        return None
    start, kind = best
    while (
        start > 0
        and end - start < 2
        and lines[start - 1].strip()
        and not _quoted(lines[start - 1])
        and _continues(lines[start - 1], lines[start])
    ):
        start -= 1
    if (
        start > 1
        and lines[start].lstrip().startswith("<")
        and not lines[start - 1].strip()
        and _OPENERS.match(lines[start - 2])
        and _DATE.search(lines[start - 2])
    ):
        start -= 2
    return start, kind


def _header_block_at(lines: list[str], index: int) -> bool:
    """Whether an Outlook-style header block starts on line ``index``."""
    line = lines[index]
    head = line[:48]
    if ":" not in head and "：" not in head:
        return False
    if _FROM_LINE.match(line):
        window = lines[index + 1 : index + 6]
        return any(_OTHER_LINE.match(nxt) for nxt in window)
    if _OTHER_LINE.match(line):
        nxt = lines[index + 1] if index + 1 < len(lines) else ""
        if (
            _DATE.search(line)
            and (_OTHER_LINE.match(nxt) or _FROM_LINE.match(nxt))
            and _EMAIL.search(nxt)
        ):
            return True
        window = lines[index : index + 5]
        labelled = [nxt for nxt in window if _OTHER_LINE.match(nxt) or _FROM_LINE.match(nxt)]
        return len(labelled) >= 3 and any(_FROM_LINE.match(nxt) for nxt in window)
    return False


def _next_content(lines: list[str], index: int) -> int:
    while index < len(lines) and not lines[index].strip():
        index += 1
    return index


def _trim_tail(kept: list[str]) -> list[str]:
    """Blank lines, rule lines ("____", "-----") and header labels left just above a cut."""
    while kept and (
        not any(c.isalnum() for c in kept[-1].replace("\u1427", ""))  # rules, Gmail's "ᐧ"
        or (_OTHER_LINE.match(kept[-1]) and not kept[-1].split(":", 1)[-1].strip())
    ):
        kept.pop()
    return kept


def trim(text: str) -> str:
    """The sender's own lines of ``text`` (see the module docstring)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for index, line in enumerate(lines):
        if is_forward_marker(line):
            # The forwarded message stays as it came (its wrapped quotes are not rejoined).
            head, cut = _trim(_join_wrapped_quotes(_split_shared_lines(lines[:index])))
            if cut:  # the forward is part of the quoted history
                return "\n".join(head).strip()
            return "\n".join([*head, *([""] if head else []), *lines[index:]]).strip()
    return "\n".join(_trim(_join_wrapped_quotes(_split_shared_lines(lines)))[0]).strip()


def _trim(lines: list[str]) -> tuple[list[str], bool]:
    """The kept lines, and whether the quoted history was cut off (rather than run out)."""
    kept: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if _quoted(line):
            # A quoted block: drop it and the attribution above it (kept lines end there).
            _drop_attribution(kept)
            while index < len(lines) and (_quoted(lines[index]) or not lines[index].strip()):
                index += 1
            if kept and index < len(lines):
                kept.append("")
            continue
        if (line.lstrip()[:1] in ("-", "_", "=", "*") and _ORIGINAL.match(line)) or (
            _header_block_at(lines, index)
        ):
            return _trim_tail(kept), True
        found = _attribution_at(lines, index) if line.strip() else None
        if found is not None and found[1] == "strong":
            above = len(kept) - (
                index - found[0]
            )  # the attribution's earlier lines are kept[above:]
            following = _next_content(lines, index + 1)
            if not any(k.strip() for k in kept[:above]):
                # Nothing above it: the attribution heads the mail; what follows is kept.
                del kept[above:]
                index += 1
                continue
            if following >= len(lines) or not _quoted(lines[following]):
                # Quoted history without ">" marks (or nothing): the rest is the old mail.
                del kept[above:]
                return _trim_tail(kept), True
        kept.append(line)
        index += 1
    return _trim_tail(kept), False


def _drop_attribution(kept: list[str]) -> None:
    """Remove the attribution (if any) at the end of ``kept``, before a quoted block."""
    while kept and not kept[-1].strip():
        kept.pop()
    if not kept:
        return
    found = _attribution_at(kept, len(kept) - 1, before_quote=True)
    if found is not None:
        del kept[found[0] :]
    while kept and not kept[-1].strip():
        kept.pop()

"""Header decoding, best effort: raw 8-bit subjects in the body's charset, encoded words with
raw 8-bit bytes inside, a detected charset when nothing is declared, and a marked replacement
when nothing fits; in 20 charsets, each with the text it must decode to."""

from __future__ import annotations

import base64

import pytest

from plugins.email.headers import decode_raw_header
from plugins.email.parsing import parse

SUBJECTS = [
    ("koi8-r", "Не работает принтер в офисе"),
    ("koi8-u", "Не працює принтер у їдальні"),
    ("windows-1251", "Заявка на доступ к серверу"),
    ("iso-8859-5", "Счёт за услуги связи"),
    ("iso-8859-2", "Zażółć gęślą jaźń: awaria"),
    ("windows-1250", "Prosím o pomoc s fakturou č. 12"),
    ("iso-8859-7", "Πρόβλημα με τον λογαριασμό"),
    ("iso-8859-8", "בעיה בהתחברות לחשבון"),
    ("windows-1256", "مشكلة في تسجيل الدخول"),
    ("iso-8859-9", "Şifremi unuttum, yardım lütfen"),
    ("shift_jis", "ログインできません"),
    ("euc-jp", "請求書の再発行について"),
    ("gb2312", "无法登录账户"),
    ("big5", "無法登入帳戶"),
    ("euc-kr", "로그인이 안 됩니다"),
    ("tis-620", "เข้าสู่ระบบไม่ได้"),
    ("iso-8859-15", "Facture à 50 € refusée"),
    ("iso-8859-1", "Grüße aus Köln, Störung"),
    ("windows-1257", "Neveikia prisijungimas ąčęėįšųūž"),
    ("iso-8859-4", "Kļūda pieslēdzoties"),
]


def _mail(subject: bytes, charset: str | None, body: str = "Bitte helfen.") -> bytes:
    ctype = f"text/plain; charset={charset}" if charset else "text/plain"
    data = body.encode(charset) if charset else body.encode("latin-1", "replace")
    return (
        b"From: a@x.test\r\nSubject: "
        + subject
        + f"\r\nMIME-Version: 1.0\r\nContent-Type: {ctype}\r\n\r\n".encode()
        + data
    )


@pytest.mark.parametrize(("charset", "text"), SUBJECTS, ids=[c for c, _ in SUBJECTS])
def test_raw_8bit_subject_in_the_body_charset(charset: str, text: str) -> None:
    assert parse(_mail(text.encode(charset), charset, text)).message.subject == text


@pytest.mark.parametrize(("charset", "text"), SUBJECTS, ids=[c for c, _ in SUBJECTS])
def test_encoded_words_in_each_charset(charset: str, text: str) -> None:
    word = base64.b64encode(text.encode(charset)).decode()
    subject = f"=?{charset}?B?{word}?=".encode()
    assert parse(_mail(subject, None)).message.subject == text


@pytest.mark.parametrize(("charset", "text"), SUBJECTS, ids=[c for c, _ in SUBJECTS])
def test_encoded_words_carrying_raw_8bit_bytes(charset: str, text: str) -> None:
    # Q-encoding with the 8-bit bytes left raw inside the encoded word, as some mailers send.
    raw = text.encode(charset).replace(b" ", b"_").replace(b"?", b"=3F")
    subject = b"Re: =?" + charset.encode() + b"?Q?" + raw + b"?="
    assert parse(_mail(subject, None)).message.subject == "Re: " + text


def test_undeclared_8bit_subject_uses_the_detected_charset_of_the_message() -> None:
    text = "Не работает доступ к почте, помогите пожалуйста"
    body = "Здравствуйте! С утра не могу открыть почту, пишет ошибку сервера. Спасибо."
    raw = (
        b"From: a@x.test\r\nSubject: " + text.encode("cp1251") + b"\r\n\r\n" + body.encode("cp1251")
    )
    assert parse(raw).message.subject == text


def test_what_cannot_be_read_is_marked_not_dropped() -> None:
    out = decode_raw_header(b"Invoice \x81\x8d\x8f\x90\x9d", hints=[])
    assert out.startswith("Invoice ") and len(out) > len("Invoice ")
    assert decode_raw_header(b"=?x-unknown-charset?Q?caf=C3=A9?=", hints=[]) == "café"
    # A word whose bytes are not in its declared charset is read in a detected one.
    assert decode_raw_header(b"=?utf-8?B?/w==?=", hints=["koi8-r"]) == "Ъ"


def test_utf8_raw_subject_and_words_separated_by_space_are_joined() -> None:
    assert decode_raw_header("Grüße ✓".encode(), hints=[]) == "Grüße ✓"
    assert decode_raw_header(b"=?utf-8?Q?a?= =?utf-8?Q?b?=", hints=[]) == "ab"

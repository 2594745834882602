"""Templates to mail parts, in Jinja2's sandbox: the text unescaped, the HTML autoescaped, the
subject one line without controls (no header can be injected), every variable checked.

A template's source comes from an admin; the variables' values (a ticket's subject, a comment)
come from anyone, and are values, never template source: ``{{ 7*7 }}`` in a ticket subject stays
those characters.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

from core.errors import Invalid
from core.mail_templates.catalog import KINDS, TRANSLATED, sample

SUBJECT_MAX = 250
SOURCE_MAX = 20_000

_text_env = ImmutableSandboxedEnvironment(
    autoescape=False, undefined=StrictUndefined, keep_trailing_newline=False
)
_html_env = ImmutableSandboxedEnvironment(autoescape=True, undefined=StrictUndefined)
_CONTROLS = re.compile("[\x00-\x1f\x7f\x80-\x9f\u2028\u2029]")
_URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)]")


@dataclass(frozen=True)
class RenderedMail:
    """A mail's parts; ``fallback`` tells that the tenant's template failed and the built-in
    one was used (``error`` says why)."""

    subject: str
    text: str
    html: str
    fallback: bool = False
    error: str = ""


@dataclass(frozen=True)
class Source:
    """A kind's template sources: subject, text body, HTML body (None: made from the text)."""

    subject: str
    text: str
    html: str | None = None


def one_line(value: str) -> str:
    """A header value without CR, LF or other controls: whatever a stored row or a template
    holds, a mail header is never broken or injected."""
    return " ".join(_CONTROLS.sub(" ", value).split())


def builtin(kind: str, locale: str = "en") -> Source:
    """The hub's own wording of a kind, in ``locale`` where it is translated (else English)."""
    translated = TRANSLATED.get(locale, {}).get(kind)
    if translated is not None:
        return Source(*translated)
    spec = KINDS[kind]
    return Source(spec.subject, spec.text)


def render(
    kind: str, source: Source, variables: dict[str, Any], *, lang: str = "en"
) -> RenderedMail:
    """Render a kind's sources; raises ``TemplateError`` (or ``Invalid``) when they fail."""
    subject = one_line(_text_env.from_string(source.subject).render(variables))[:SUBJECT_MAX]
    text = _text_env.from_string(source.text).render(variables).strip() + "\n"
    if source.html is not None:
        body = _html_env.from_string(source.html).render(variables)
    else:
        body = text_to_html(text)
    return RenderedMail(subject=subject, text=text, html=document(subject, body, lang=lang))


def text_to_html(text: str) -> str:
    """Paragraphs of escaped text; every URL a link whose text is the URL itself."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    out = []
    for p in paragraphs:
        lines = [_linkify(line) for line in p.split("\n")]
        out.append("<p>" + "<br>\n".join(lines) + "</p>")
    return "\n".join(out)


def _linkify(line: str) -> str:
    parts, last = [], 0
    for m in _URL.finditer(line):
        parts.append(html.escape(line[last : m.start()]))
        url = html.escape(m.group(0))
        parts.append(f'<a href="{url}">{url}</a>')
        last = m.end()
    parts.append(html.escape(line[last:]))
    return "".join(parts)


def document(title: str, body: str, *, lang: str = "en") -> str:
    """A whole, accessible HTML document: a language, a title, a main landmark, no remote
    resource and no script."""
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{html.escape(lang)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n</head>\n"
        '<body style="font-family: sans-serif; line-height: 1.5; color: #1a1a1a; '
        'background: #ffffff; overflow-wrap: anywhere; word-break: break-word;">\n'
        f"<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


class _Unsafe(HTMLParser):
    """Finds what an HTML part must not hold: scripts, frames, forms, styles sheets, event
    handlers, ``javascript:`` links and remote resources (images, stylesheets)."""

    FORBIDDEN = frozenset(
        {"script", "iframe", "frame", "object", "embed", "form", "link", "meta", "base", "style"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.FORBIDDEN:
            self.problems.append(f"<{tag}> is not allowed in a mail")
        for name, value in attrs:
            v = (value or "").strip().lower()
            if name.startswith("on"):
                self.problems.append(f"the {name} attribute is not allowed (no scripts)")
            elif name in ("src", "srcset", "background", "poster") and not v.startswith("cid:"):
                self.problems.append(f"<{tag} {name}=...>: no remote images or media")
            elif name == "href" and v.startswith(("javascript:", "data:", "vbscript:")):
                self.problems.append("links must be http, https or mailto")


def _check_html(source: str) -> None:
    finder = _Unsafe()
    finder.feed(source)
    finder.close()
    if finder.problems:
        raise Invalid("; ".join(dict.fromkeys(finder.problems)), field="html_body")


def validate(kind: str, source: Source) -> None:
    """Refuse a template that does not parse, names a variable its kind lacks, fails on sample
    values, or (HTML) holds scripts or remote resources; the message names the valid variables."""
    if kind not in KINDS:
        raise Invalid(f"kind must be one of: {', '.join(KINDS)}", field="kind")
    allowed = KINDS[kind].variables
    names = ", ".join(sorted(allowed))
    fields = {"subject": source.subject, "text_body": source.text, "html_body": source.html}
    for field_name, text in fields.items():
        if text is None:
            continue
        if len(text) > SOURCE_MAX:
            raise Invalid(f"{field_name} is longer than {SOURCE_MAX} characters", field=field_name)
        if field_name != "html_body" and not text.strip():
            raise Invalid(f"{field_name} must not be empty", field=field_name)
        env = _html_env if field_name == "html_body" else _text_env
        try:
            parsed = env.parse(text)
        except TemplateSyntaxError as exc:
            where = f" (line {exc.lineno})" if exc.lineno else ""
            raise Invalid(f"{field_name}: {exc.message}{where}", field=field_name) from exc
        unknown = sorted(meta.find_undeclared_variables(parsed) - set(allowed))
        if unknown:
            raise Invalid(
                f"{field_name}: unknown variable {', '.join(unknown)}; "
                f"the variables of this mail are: {names}",
                field=field_name,
            )
    if source.html is not None:
        _check_html(source.html)
    try:
        render(kind, source, sample(kind))
    except (TemplateError, TypeError, ValueError, ArithmeticError, LookupError) as exc:
        raise Invalid(
            f"the template fails with sample values: {exc}; the variables of this mail are: "
            f"{names}",
            field="text_body",
        ) from exc

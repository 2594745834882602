"""The password policy: what a password set anywhere (API, console, CLI, demo) must satisfy.

Long enough (``MIN_LENGTH``, 12), not the account's own address, and not one of the most common
passwords. A refusal is ``Invalid`` on the ``password`` field (422) with a message naming every
rule it breaks; the password itself never appears in it.

The common passwords are ``common_passwords.txt`` beside this module: the 10,000 most frequent of
the list Django ships (``django/contrib/auth/common-passwords.txt.gz``, Django 5.2, BSD-3-Clause
licence; compiled by Royce Williams from public breach corpora), one lower-case password a line,
most frequent first. The short ones fail the length rule anyway; they are kept so that the list
stays the source's top 10,000 whatever the minimum length.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from core.errors import Invalid

MIN_LENGTH = 12
MAX_LENGTH = 1000
COMMON_FILE = Path(__file__).with_name("common_passwords.txt")


@cache
def common_passwords() -> frozenset[str]:
    """The common-password list, read once (compared case-insensitively)."""
    return frozenset(COMMON_FILE.read_text(encoding="utf-8").split())


def check_password(password: str, *, email: str = "") -> None:
    """Raise ``Invalid`` (field ``password``) when the password breaks a rule."""
    if len(password) > MAX_LENGTH:
        raise Invalid(
            f"the password must be at most {MAX_LENGTH} characters long", field="password"
        )
    reasons = []
    if len(password) < MIN_LENGTH:
        reasons.append(f"the password must be at least {MIN_LENGTH} characters long")
    folded = password.strip().casefold()
    address = email.strip().casefold()
    if address and folded in (address, address.partition("@")[0]):
        reasons.append("the password must not be the account's email address")
    elif folded in common_passwords() or len(set(folded)) <= 1:
        reasons.append("the password is one of the most common passwords; choose another")
    if reasons:
        raise Invalid("; ".join(reasons), field="password")

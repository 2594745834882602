"""The password policy: what a password set anywhere (API, console, CLI, demo) must satisfy.

Long enough (``MIN_LENGTH``, 10 by default), not the account's own address, and not one of the
passwords every guessing list starts with. A refusal is ``Invalid`` on the ``password`` field
(422) with a message naming the rule; the password itself never appears in it.
"""

from __future__ import annotations

from core.errors import Invalid

MIN_LENGTH = 10
MAX_LENGTH = 1000

# The most common passwords of public breach lists that are long enough to pass the length rule
# (shorter ones fail it anyway), compared case-insensitively.
COMMON = frozenset(
    """
1234567890 0123456789 0987654321 1234554321 1122334455 1111111111 0000000000 2222222222
123456789a 123456789q a123456789 q123456789 12345678910 123123123123 123456123456
1q2w3e4r5t 1q2w3e4r5t6y 1qaz2wsx3edc qwertyuiop qwertyuiop1 qwerty1234 qwerty12345
qwerty123456 asdfghjkl1 asdfghjkl; zxcvbnm123 1qazxsw23edc qazwsxedcrfv
password12 password123 password1234 password12345 password123! passw0rd123 p@ssw0rd123
passwordpassword mypassword mypassword1 administrator admin12345 admin123456 adminadmin
iloveyou12 iloveyou123 letmein123 welcome123 welcome1234 changeme123 trustno1234
football123 baseball123 basketball superman123 princess123 sunshine123 starwars123
dragon1234 monkey1234 michael123 jennifer123 abcdefghij abcdefghijk abc1234567
abcd123456 1234abcd12 aaaaaaaaaa zaq12wsxcde computer123 whatever123 internet123
""".split()
)


def check_password(password: str, *, email: str = "") -> None:
    """Raise ``Invalid`` (field ``password``) when the password breaks a rule."""
    if len(password) < MIN_LENGTH:
        raise Invalid(
            f"the password must be at least {MIN_LENGTH} characters long", field="password"
        )
    if len(password) > MAX_LENGTH:
        raise Invalid(
            f"the password must be at most {MAX_LENGTH} characters long", field="password"
        )
    folded = password.strip().casefold()
    address = email.strip().casefold()
    if address and folded in (address, address.partition("@")[0]):
        raise Invalid("the password must not be the account's email address", field="password")
    if folded in COMMON or len(set(folded)) == 1:
        raise Invalid(
            "the password is one of the most common passwords; choose another", field="password"
        )

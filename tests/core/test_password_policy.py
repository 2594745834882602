"""The password policy's data: 12 characters, the shipped common-password list, every reason."""

from __future__ import annotations

import pytest

from core import password_policy
from core.errors import Invalid


def test_the_list_is_the_sources_top_ten_thousand() -> None:
    common = password_policy.common_passwords()
    assert len(common) == 10_000
    assert {"123456", "password", "qwerty"} <= common


@pytest.mark.parametrize("password", ["1qaz2wsx3edc", "QWERTYUIOP123", "q1w2e3r4t5y6"])
def test_a_long_common_password_is_refused(password: str) -> None:
    assert len(password) >= password_policy.MIN_LENGTH
    with pytest.raises(Invalid) as caught:
        password_policy.check_password(password)
    assert "most common" in caught.value.message and password not in caught.value.message


def test_a_short_common_password_gets_both_reasons() -> None:
    with pytest.raises(Invalid) as caught:
        password_policy.check_password("password1")
    assert "at least 12 characters" in caught.value.message
    assert "most common" in caught.value.message


def test_eleven_characters_are_too_few_twelve_are_enough() -> None:
    with pytest.raises(Invalid, match="at least 12 characters"):
        password_policy.check_password("tz9!kq3mvrb")
    password_policy.check_password("tz9!kq3mvrbw")

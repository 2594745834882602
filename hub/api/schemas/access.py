"""Single sign-on settings, the two-factor policy, and a person's own two-factor."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from hub.api.schemas.common import Strict

Role = Literal["end_user", "agent", "admin", "manager"]


class SsoUpdate(Strict):
    """Fields left out (or null) keep their value; ``client_secret`` is write-only."""

    enabled: bool | None = None
    issuer: str | None = Field(default=None, max_length=500)
    client_id: str | None = Field(default=None, max_length=255)
    client_secret: str | None = Field(default=None, max_length=2000)
    label: str | None = Field(default=None, max_length=100)
    allowed_domains: list[str] | None = Field(default=None, max_length=50)
    default_role: Role | None = None
    require_sso_for_staff: bool | None = None


class SsoPublic(BaseModel):
    enabled: bool
    issuer: str
    client_id: str
    client_secret_set: bool
    label: str
    allowed_domains: list[str]
    default_role: str
    require_sso_for_staff: bool
    redirect_uri: str
    login_url: str


class TwoFactorPolicy(Strict):
    required_for_staff: bool


class TwoFactorPolicyPublic(BaseModel):
    required_for_staff: bool
    sessions_ended: int = 0


class TwoFactorStatusPublic(BaseModel):
    enabled: bool
    pending: bool
    recovery_codes_left: int
    required: bool


class TwoFactorEnrolmentPublic(BaseModel):
    secret: str
    otpauth_uri: str


class TwoFactorCode(Strict):
    code: str = Field(min_length=1, max_length=40)


class TwoFactorDisable(Strict):
    code: str | None = Field(default=None, max_length=40)
    password: str | None = Field(default=None, max_length=1024)


class RecoveryCodesPublic(BaseModel):
    recovery_codes: list[str]


class TwoFactorLogin(Strict):
    """The second step of an API sign-in: the ``pending`` token the first step answered."""

    pending: str = Field(min_length=1, max_length=2000)
    code: str = Field(min_length=1, max_length=40)

"""Errors the services raise; the HTTP layer maps each to one status code."""

from __future__ import annotations


class HubError(Exception):
    """Base of every error a service raises on purpose, with a message fit for the caller."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(HubError):
    """No such object for this caller (other tenants' objects are never acknowledged)."""

    status = 404
    code = "not_found"


class Forbidden(HubError):
    """The caller sees the object but its role may not do this."""

    status = 403
    code = "forbidden"


class Invalid(HubError):
    """The request is well-formed but breaks a rule (a transition, a limit, a value)."""

    status = 422
    code = "invalid"


class Conflict(HubError):
    """The change clashes with the current state (a duplicate, a merge loop)."""

    status = 409
    code = "conflict"


class TooLarge(HubError):
    """Over a configured size limit."""

    status = 413
    code = "too_large"


class Unauthenticated(HubError):
    """No valid credentials."""

    status = 401
    code = "unauthenticated"


class Unavailable(HubError):
    """A service the request needs is down (a scanner, a relay): try again later."""

    status = 503
    code = "unavailable"


class ScanUnavailable(Unavailable):
    """The malware scanner could not be reached or failed: the tenant's setting decides whether
    the file is refused (503, SMTP 451) or kept held until a rescan succeeds."""

"""The errors of an outbound Bot Connector or token endpoint call."""

from __future__ import annotations


class ConnectorError(Exception):
    """A Bot Connector or token endpoint call failed."""


class ConnectorUnavailable(ConnectorError):
    """Network error or 5xx: worth retrying."""


class ConnectorRejected(ConnectorError):
    """A 4xx answer: the request itself is refused."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status

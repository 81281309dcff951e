"""Why a use case refuses: the errors the API, the console and the commands turn into answers.

Each names what an HTTP client would get (``clearance.entrypoints.http.errors`` is the one map);
a command prints the message.
"""

from __future__ import annotations

from clearance.messages import DeadLetterCode

__all__ = ["NotAllowed", "NotFound", "Refused", "Stale"]


class Refused(ValueError):
    """The request cannot be processed as sent (HTTP 422): what is wrong, the JSON path of the
    field to fix, and the code a dead letter of the same record would carry."""

    def __init__(self, message: str, path: str, code: DeadLetterCode | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.code = code


class NotAllowed(PermissionError):
    """The caller's key does not allow this (HTTP 403)."""


class NotFound(LookupError):
    """No such parcel (HTTP 404)."""


class Stale(ValueError):
    """The decision acted on is no longer the parcel's current one (HTTP 409)."""

"""The kinds of failure every package's domain errors derive from.

Domain code (validation, the services, the stores, the loader) raises its own
errors, each a subclass of one kind below; it never decides an HTTP status. The
one table from kind to answer is `ugc.problems`, used by every route, framework
or direct, so the same error gets the same answer everywhere, and a service can
be called from the CLI, a consumer or a test without HTTP.

The message of every error here is written for the person who reads the answer.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any


class NotSetUp(Exception):
    """A step an operator must take before this can run (a migration, a topic);
    the message names it. Never a client's fault: a process says it and stops."""


class UgcError(Exception):
    """Base of every error a client is told about; the message is shown to them."""


class Malformed(UgcError):
    """The request cannot be read at all (broken JSON, gzip, a bad header)."""


class Unauthenticated(UgcError):
    """No usable credential: missing, expired, badly signed or malformed."""


class Forbidden(UgcError):
    """The caller is known but may not do this."""


class NotFound(UgcError):
    pass


class Conflict(UgcError):
    """It exists already, or the state does not allow the change."""


class TooSlow(UgcError):
    """The request did not arrive within the time it was allowed."""


class TooLarge(UgcError):
    pass


class Unsupported(UgcError):
    """A content type or encoding this service does not read."""


class Invalid(UgcError):
    """The request was read, but fields in it are wrong: `errors` names each one
    as `{field, reason}` (and `index` where a batch holds several items)."""

    def __init__(self, detail: str, errors: Sequence[Mapping[str, Any]] = ()) -> None:
        super().__init__(detail)
        self.errors = [dict(e) for e in errors]

    @classmethod
    def field(cls, field: str, reason: str) -> Invalid:
        """One field wrong, in the shape validation errors have."""
        return cls(INVALID_FIELDS, [{"field": field, "reason": reason}])


class InvalidCursor(Invalid):
    """A page cursor that this API did not make, or one that has expired."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, [{"field": "cursor", "reason": detail}])


INVALID_FIELDS = "The request has invalid fields; see `errors`."


class OverQuota(UgcError):
    """Past the caller's quota; they may try again after `wait_s`."""

    def __init__(self, wait_s: float, what: str) -> None:
        self.retry_after_s = max(1, math.ceil(wait_s))  # whole seconds, rounded up
        super().__init__(f"Too many {what} in a short time; retry in {self.retry_after_s} s.")


class Unavailable(UgcError):
    """Something this service depends on did not answer in time; worth a retry.
    `retry_after_s` None: the service's usual wait."""

    def __init__(self, detail: str, *, retry_after_s: int | None = None) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s

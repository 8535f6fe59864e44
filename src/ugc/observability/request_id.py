"""`X-Request-Id`: taken from the caller (nginx sets it) or made here, returned on
every response and kept in a context variable for logs and Kafka headers."""

from __future__ import annotations

import itertools
import os
import re
from contextvars import ContextVar

HEADER = "x-request-id"
_SAFE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

# New ids: a random prefix per process and a counter; unique without a syscall
# per request.
_PREFIX = os.urandom(8).hex()
_counter = itertools.count(1)


def current_request_id() -> str | None:
    return request_id_var.get()


def accept_or_make(incoming: str | None) -> str:
    """The caller's id when it is a sane token, otherwise a new one."""
    if incoming and _SAFE.match(incoming):
        return incoming
    return f"{_PREFIX}{next(_counter):016x}"

"""What can go wrong with content, in the domain's words; the API maps them to HTTP."""

from __future__ import annotations


class ContentError(Exception):
    """Base of the content errors; the message is shown to the client."""


class NotFound(ContentError):
    pass


class AlreadyExists(ContentError):
    pass


class NotYours(ContentError):
    pass


class InvalidCursor(ContentError):
    pass


class StoreUnavailable(ContentError):
    pass

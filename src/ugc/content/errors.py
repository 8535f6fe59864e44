"""What can go wrong with content, in the domain's words; each is a kind of
`ugc.errors`, which `ugc.problems` answers."""

from __future__ import annotations

from ugc import errors


class ContentError(errors.UgcError):
    """Base of the content errors; the message is shown to the client."""


class NotFound(ContentError, errors.NotFound):
    pass


class AlreadyExists(ContentError, errors.Conflict):
    pass


class NotYours(ContentError, errors.Forbidden):
    pass


class StoreUnavailable(ContentError, errors.Unavailable):
    """The content database did not answer in time."""

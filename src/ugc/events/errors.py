"""What can go wrong when events come in, in the events' own words; each is a kind
of `ugc.errors`, which `ugc.problems` answers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ugc.errors import Invalid, Malformed, TooLarge, TooSlow, Unavailable, Unsupported


class BodyMalformed(Malformed):
    """The body cannot be read: broken JSON or gzip, or cut short."""


class BodyTooLarge(TooLarge):
    pass


class BodyTooSlow(TooSlow):
    """A body read before anyone was authenticated took longer than a beacon's may."""


class BodyNotSupported(Unsupported):
    """A content type or encoding the intake does not read."""


class EventsMisshapen(Invalid):
    """The body is JSON, but not an event or `{"events": [...]}`."""


class NoValidEvent(Invalid):
    """Every event of the request was refused; `errors` says why for each."""

    def __init__(self, errors: Sequence[Mapping[str, Any]]) -> None:
        super().__init__("No event in the request is valid; see `errors`.", errors)


class PublishUnavailable(Unavailable):
    """The broker did not acknowledge in time; nothing may be reported as accepted."""

    def __init__(self, cause: str) -> None:
        super().__init__(
            "The event broker did not confirm the events in time; nothing was accepted. "
            "Retry later with the same event_id values."
        )
        self.cause = cause

"""The versioned event contract shared by the API, the Kafka messages and the ETL.

A client sends an `Event` (one of the typed models below, chosen by `type`). The
server stamps it into an `EventRecord`: the flat JSON object that is the Kafka
message value and, field for field, a row of the ClickHouse events table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, TypeAlias, get_args
from uuid import UUID

import orjson
import uuid_utils
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

SCHEMA_VERSION = 1

UtcDatetime = Annotated[AwareDatetime, AfterValidator(lambda moment: moment.astimezone(UTC))]
Seconds = Annotated[float, Field(ge=0, le=7 * 24 * 3600, allow_inf_nan=False)]
ShortText = Annotated[str, Field(min_length=1, max_length=200)]
Url = Annotated[str, Field(min_length=1, max_length=2048)]
Quality = Annotated[str, Field(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9_.-]+$")]


class _EventBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: UUID | None = Field(
        default=None,
        description="Client-made UUID; a retry with the same id is stored once. "
        "The server assigns a time-ordered UUID when it is absent.",
    )
    timestamp: UtcDatetime | None = Field(
        default=None, description="When it happened, by the client's clock."
    )
    sent_at: UtcDatetime | None = Field(
        default=None,
        description="When the client sent it, by the same clock; corrects clock skew.",
    )


class _PlaybackEvent(_EventBase):
    film_id: UUID
    position_sec: Seconds
    duration_sec: Seconds | None = None


class ViewProgress(_PlaybackEvent):
    """Periodic heartbeat of where the viewer is in the film."""

    type: Literal["view_progress"]


class Play(_PlaybackEvent):
    type: Literal["play"]


class Pause(_PlaybackEvent):
    type: Literal["pause"]


class Stop(_PlaybackEvent):
    type: Literal["stop"]


class End(_PlaybackEvent):
    """The viewer reached the end of the film."""

    type: Literal["end"]


class Seek(_EventBase):
    type: Literal["seek"]
    film_id: UUID
    from_sec: Seconds
    to_sec: Seconds
    duration_sec: Seconds | None = None


class QualityChange(_PlaybackEvent):
    type: Literal["quality_change"]
    from_quality: Quality
    to_quality: Quality


class Click(_EventBase):
    type: Literal["click"]
    element: ShortText
    page: Url
    film_id: UUID | None = None


class PageView(_EventBase):
    type: Literal["page_view"]
    page: Url
    referrer: Url | None = None
    film_id: UUID | None = None


class Search(_EventBase):
    type: Literal["search"]
    query: Annotated[str, Field(min_length=1, max_length=500)]
    results: Annotated[int, Field(ge=0)] | None = None


Event: TypeAlias = Annotated[
    ViewProgress | Play | Pause | Seek | Stop | End | QualityChange | Click | PageView | Search,
    Field(discriminator="type"),
]
EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)

_SERVER_FIELDS = ("schema_version", "user_id", "received_at", "occurred_at")
_EVENT_MODELS: tuple[type[_EventBase], ...] = get_args(get_args(Event)[0])
EVENT_TYPES: tuple[str, ...] = tuple(
    get_args(m.model_fields["type"].annotation)[0] for m in _EVENT_MODELS
)

# Every column a record may carry (absent fields are null): what the server adds,
# then every field of every event type. The loader inserts exactly these columns,
# so a field added to a model without its ClickHouse column fails loudly in tests.
RECORD_FIELDS: tuple[str, ...] = tuple(
    dict.fromkeys([*_SERVER_FIELDS, *(f for m in _EVENT_MODELS for f in m.model_fields)])
)


class EventBatch(BaseModel):
    """The documented shape of a batch request (validation is per event)."""

    events: list[Event] = Field(min_length=1)


def iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with microseconds, as ClickHouse parses it."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def occurred_at(event: Event, received_at: datetime) -> datetime:
    """The event time on the server's clock.

    With both `timestamp` and `sent_at` the client's clock offset cancels out
    (`received_at - (sent_at - timestamp)`); without `sent_at` the client clock
    is trusted; without `timestamp` the event happened when it arrived.
    """
    if event.timestamp is None:
        return received_at
    if event.sent_at is None:
        return event.timestamp
    return received_at - (event.sent_at - event.timestamp)


@dataclass(frozen=True, slots=True)
class Arrival:
    """Who sent a request's events and when they arrived; shared by all its events.

    `head` is the start of every record's JSON: the fields the server adds.
    """

    user_id: str
    received_at: datetime
    head: bytes
    occurred_now: bytes
    _iso: str = ""

    @classmethod
    def now(cls, user_id: str) -> Arrival:
        return cls.at(user_id, datetime.now(UTC))

    @classmethod
    def at(cls, user_id: str, moment: datetime) -> Arrival:
        iso = moment.isoformat(timespec="microseconds")
        received = b'"' + iso.encode() + b'"'
        head = b'{"schema_version":%d,"user_id":%b,"received_at":%b' % (
            SCHEMA_VERSION,
            orjson.dumps(user_id),
            received,
        )
        return cls(user_id, moment, head, b',"occurred_at":' + received + b",", iso)

    def occurred(self, index: int) -> bytes:
        """`occurred_at` of the index-th event of the request when it has no timestamp.

        The events of one request are in the order the client sent them; each
        gets one more microsecond, so "the last position" is never a tie.
        """
        if index == 0:
            return self.occurred_now
        micros = self.received_at.microsecond + index
        if micros < 1_000_000:  # the common case: rewrite the fraction in place
            iso = f"{self._iso[:20]}{micros:06d}{self._iso[26:]}"
        else:
            iso = (self.received_at + timedelta(microseconds=index)).isoformat(
                timespec="microseconds"
            )
        return b',"occurred_at":"' + iso.encode() + b'",'


def encode_record(event: Event, arrival: Arrival, index: int = 0) -> bytes:
    """The Kafka record of an accepted event: its fields plus what the server knows.

    Built by joining JSON fragments: the model serialises itself in Rust, and the
    server's fields are added around it, which costs far less than a dict per event.
    """
    fields = type(event).__pydantic_serializer__.to_json(event, exclude_none=True)
    if event.timestamp is None:
        when = arrival.occurred(index)
    else:
        when = b',"occurred_at":"' + iso_utc(occurred_at(event, arrival.received_at)).encode()
        when += b'",'
    if event.event_id is None:
        made = str(uuid_utils.uuid7()).encode()
        return arrival.head + b',"event_id":"' + made + b'"' + when + fields[1:]
    return arrival.head + when + fields[1:]


_REQUEST_ADAPTER: TypeAdapter[Event | EventBatch] = TypeAdapter(Event | EventBatch)


def json_schema() -> dict[str, Any]:
    """JSON Schema of a request body: one event or a batch. Served by the API."""
    schema = _REQUEST_ADAPTER.json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"ugc player events, schema version {SCHEMA_VERSION}",
        "x-schema-version": SCHEMA_VERSION,
        **schema,
    }

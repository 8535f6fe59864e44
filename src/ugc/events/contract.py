"""The versioned event contract shared by the API, the Kafka messages and the ETL.

A client sends an `Event` (one of the typed dicts below, chosen by `type`). The
server stamps it into a record (`records`): the flat JSON object that is one
line of a Kafka message value and, field for field, a row of the ClickHouse
events table; `RECORD_FIELDS` names those fields.

The events of one request share a Kafka message, one JSON object a line (as
Snowplow's collector writes a request's payload): the user, the key and the
headers are the same for all of them, and a message carries far less overhead
through the producer, the broker and the loader than an event each would.

Events are validated into plain dicts rather than model instances: the intake
validates hundreds of thousands of them a second, and a dict is both cheaper to
make and what orjson writes fastest.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, NotRequired, TypeAlias, get_args, get_type_hints
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    with_config,
)
from typing_extensions import TypedDict

SCHEMA_VERSION = 1

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def _plausible_utc(moment: datetime) -> datetime:
    """In UTC, and within the years a player's clock can claim (ClickHouse stores
    1900-2299; the clock-skew arithmetic needs room on both sides)."""
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:
        moment = EARLIEST - timedelta(days=1)  # a year-1 or year-9999 time with an offset
    if not EARLIEST <= moment < LATEST:
        raise ValueError(
            f"must be between {EARLIEST.date().isoformat()} and {LATEST.date().isoformat()} UTC"
        )
    return moment


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_plausible_utc)]
MAX_SECONDS = 7 * 24 * 3600
Seconds = Annotated[float, Field(ge=0, le=MAX_SECONDS, allow_inf_nan=False)]
ShortText = Annotated[str, Field(min_length=1, max_length=200)]
Url = Annotated[str, Field(min_length=1, max_length=2048)]
Quality = Annotated[str, Field(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9_.-]+$")]


@with_config(ConfigDict(extra="forbid"))  # subclasses inherit it
class _EventBase(TypedDict):
    event_id: NotRequired[
        Annotated[
            UUID | None,
            Field(
                description="Client-made UUID; a retry with the same id is stored once. "
                "The server assigns a time-ordered UUID when it is absent."
            ),
        ]
    ]
    timestamp: NotRequired[
        Annotated[UtcDatetime | None, Field(description="When it happened, by the client's clock.")]
    ]
    sent_at: NotRequired[
        Annotated[
            UtcDatetime | None,
            Field(description="When the client sent it, by the same clock; corrects clock skew."),
        ]
    ]


Credits = Annotated[
    float,
    Field(
        gt=0,
        le=MAX_SECONDS,
        allow_inf_nan=False,
        description="Where the end credits start (the player has it from the catalogue): "
        "reaching it completes the viewing, instead of a share of the length.",
    ),
]


class _PositionEvent(_EventBase):
    """An event at one position of the film being played."""

    film_id: UUID
    position_sec: Seconds
    duration_sec: NotRequired[Seconds | None]
    credits_sec: NotRequired[Credits | None]


class ViewProgress(_PositionEvent):
    """Periodic heartbeat of where the viewer is in the film."""

    type: Literal["view_progress"]


class Play(_PositionEvent):
    type: Literal["play"]


class Pause(_PositionEvent):
    type: Literal["pause"]


class Stop(_PositionEvent):
    type: Literal["stop"]


class End(_PositionEvent):
    """The viewer reached the end of the film."""

    type: Literal["end"]


class Seek(_EventBase):
    type: Literal["seek"]
    film_id: UUID
    from_sec: Seconds
    to_sec: Seconds
    duration_sec: NotRequired[Seconds | None]
    credits_sec: NotRequired[Credits | None]


class QualityChange(_PositionEvent):
    type: Literal["quality_change"]
    from_quality: Quality
    to_quality: Quality


class Click(_EventBase):
    type: Literal["click"]
    element: ShortText
    page: Url
    film_id: NotRequired[UUID | None]


class PageView(_EventBase):
    type: Literal["page_view"]
    page: Url
    referrer: NotRequired[Url | None]
    film_id: NotRequired[UUID | None]


class Search(_EventBase):
    type: Literal["search"]
    query: Annotated[str, Field(min_length=1, max_length=500)]
    results: NotRequired[Annotated[int, Field(ge=0, le=2**32 - 1)] | None]


Event: TypeAlias = Annotated[
    ViewProgress | Play | Pause | Seek | Stop | End | QualityChange | Click | PageView | Search,
    Field(discriminator="type"),
]
EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)

# `seq`: the event's index in its request, which orders events of the same time.
_SERVER_FIELDS = ("schema_version", "user_id", "received_at", "occurred_at", "seq")
_EVENT_TYPES: tuple[Any, ...] = get_args(get_args(Event)[0])
EVENT_TYPES: tuple[str, ...] = tuple(get_args(get_type_hints(t)["type"])[0] for t in _EVENT_TYPES)
# Playback: the events of a film being played, the ones that must name their film
# (seek included). Analytics count a viewer of a film by these; the warehouse's
# views filter on the same list (a test holds the SQL to it).
PLAYBACK_TYPES: tuple[str, ...] = tuple(
    name
    for name, kind in zip(EVENT_TYPES, _EVENT_TYPES, strict=True)
    if get_type_hints(kind).get("film_id") is UUID  # not optional
)

# Every column a record may carry (absent fields are null): what the server adds,
# then every field of every event type. The loader inserts exactly these columns,
# so a field added to an event without its ClickHouse column fails loudly in tests.
RECORD_FIELDS: tuple[str, ...] = tuple(
    dict.fromkeys([*_SERVER_FIELDS, *(f for t in _EVENT_TYPES for f in get_type_hints(t))])
)


class EventBatch(BaseModel):
    """A batch request. The intake validates a batch whole when every event is
    valid, and event by event, to say what is wrong with each, when not."""

    model_config = ConfigDict(extra="forbid")

    events: list[Event] = Field(min_length=1)


def occurred_at(event: Event, received_at: datetime) -> datetime:
    """The event time on the server's clock.

    With both `timestamp` and `sent_at` the client's clock offset cancels out
    (`received_at - (sent_at - timestamp)`); without `sent_at` the client clock
    is trusted; without `timestamp` the event happened when it arrived.
    """
    timestamp = event.get("timestamp")
    if timestamp is None:
        return received_at
    sent_at = event.get("sent_at")
    if sent_at is None:
        return timestamp
    return received_at - (sent_at - timestamp)


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

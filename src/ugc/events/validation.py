"""Validating a request body event by event.

One bad event never sinks the batch: each is validated alone, and the answer
lists the rejected ones by index with the field and the reason. A body whose
events are all valid, the common case by far, takes one pass of pydantic's own
JSON parser instead: no intermediate dicts, and nothing to walk twice.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from ugc.events.body import parse_json
from ugc.events.contract import EVENT_ADAPTER, EVENT_TYPES, Event, EventBatch
from ugc.events.errors import BodyMalformed, BodyTooLarge, EventsMisshapen
from ugc.problems import field_errors


@dataclass(frozen=True, slots=True)
class Rejection:
    index: int
    field: str
    reason: str
    kind: str = "invalid"  # the validation error's type: a bounded metrics label

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "field": self.field, "reason": self.reason}


@dataclass(slots=True)
class ValidatedEvents:
    """A request's events that passed, and why each other one did not."""

    events: list[Event] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)

    @property
    def rejected_count(self) -> int:
        return len({r.index for r in self.rejections})


class AcceptedEvents(BaseModel):
    """The answer to a request with events."""

    accepted: int = Field(description="Events the broker acknowledged.")
    rejected: int = Field(description="Events refused; see `errors`.")
    errors: list[dict[str, Any]] = Field(description="`{index, field, reason}` per problem.")


# What a batch body starts with; anything else is taken for one event. A wrong
# guess costs a second pass, never a wrong answer.
_BATCH_START = re.compile(rb'\s*\{\s*"events"\s*:')


def validate_body(data: bytes, *, max_events: int) -> ValidatedEvents:
    """The events of a raw JSON body (one event or a batch), and every rejection."""
    try:
        if _BATCH_START.match(data):
            events = EventBatch.model_validate_json(data).events
        else:
            events = [EVENT_ADAPTER.validate_json(data)]
    except ValidationError:
        # Something is wrong: the slow path says exactly what, event by event.
        items, _ = split_body(parse_json(data), max_events=max_events)
        return validate_events(items)
    if len(events) > max_events:
        raise _too_many(len(events), max_events)
    return ValidatedEvents(events=events)


def validate_beacon(data: bytes, *, max_events: int) -> tuple[ValidatedEvents, str | None]:
    """A body from sendBeacon, which cannot set headers: the events, and the access
    token when the envelope carries one (`{"access_token": ..., "events": [...]}`),
    taken out before the events are read, so it goes nowhere else."""
    body = parse_json(data)
    token = body.pop("access_token", None) if isinstance(body, dict) else None
    if token is not None and (not isinstance(token, str) or not token.strip()):
        raise BodyMalformed("The beacon's `access_token` must be the token, a string.")
    items, _ = split_body(body, max_events=max_events)
    return validate_events(items), token


def split_body(body: Any, *, max_events: int) -> tuple[Sequence[Any], bool]:
    """The raw events of a body, and whether it was a batch."""
    if isinstance(body, dict) and "events" in body and "type" not in body:
        unknown = sorted(str(key) for key in body if key != "events")
        if unknown:
            raise EventsMisshapen(
                "A batch holds only `events`; remove the other keys.",
                [{"field": key, "reason": "unknown key"} for key in unknown],
            )
        items = body["events"]
        if not isinstance(items, list):
            raise EventsMisshapen("`events` must be a list of event objects.")
        if not items:
            raise EventsMisshapen("`events` is empty; send at least one event.")
        if len(items) > max_events:
            raise _too_many(len(items), max_events)
        return items, True
    if isinstance(body, dict):
        return [body], False
    raise EventsMisshapen('The body must be an event object or {"events": [...]}.')


def _too_many(count: int, max_events: int) -> BodyTooLarge:
    return BodyTooLarge(f"A batch holds at most {max_events} events; this one has {count}.")


def validate_events(items: Sequence[Any]) -> ValidatedEvents:
    """All valid events, and for each invalid one its index, field and reason."""
    try:
        # One call for the whole batch is the common case and the fast one.
        return ValidatedEvents(events=_EVENT_LIST.validate_python(items))
    except ValidationError:
        return _validate_one_by_one(items)


def _validate_one_by_one(items: Sequence[Any]) -> ValidatedEvents:
    checked = ValidatedEvents()
    for index, item in enumerate(items):
        if isinstance(item, dict) and "user_id" in item:
            checked.rejections.append(
                Rejection(
                    index, "user_id", "user_id comes from the access token; remove it", "user_id"
                )
            )
            continue
        try:
            checked.events.append(EVENT_ADAPTER.validate_python(item))
        except ValidationError as exc:
            checked.rejections.extend(_rejections(index, exc))
    return checked


_EVENT_LIST: TypeAdapter[list[Event]] = TypeAdapter(list[Event])
_TAG_ERRORS = {"union_tag_invalid", "union_tag_not_found"}


def _rejections(index: int, exc: ValidationError) -> list[Rejection]:
    found = []
    for error in exc.errors(include_url=False):
        if error["type"] in _TAG_ERRORS:
            reason = f"unknown or missing event type; expected one of: {', '.join(EVENT_TYPES)}"
            found.append(Rejection(index, "type", reason, "unknown_type"))
            continue
        # The first location part is the union tag (the event type); drop it.
        (named,) = field_errors([error], skip=1, whole="(event)")
        found.append(Rejection(index, named["field"], named["reason"], str(error["type"])))
    return found

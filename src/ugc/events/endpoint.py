"""POST /api/v1/events straight on ASGI.

This is the hottest path of the platform, so it bypasses the framework's
routing and dependency machinery; what it does is all in the modules it calls
(body, intake, service), and its OpenAPI entry is published with the app.
"""

from __future__ import annotations

import functools
import operator
from collections import Counter
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.types import Receive, Scope

from ugc.auth import TokenVerifier
from ugc.events.body import (
    BodyLimits,
    check_content_type,
    check_declared_length,
    decode_content,
    too_large,
)
from ugc.events.intake import Intake, validate_body
from ugc.events.publisher import EventPublisher, PublishUnavailable
from ugc.events.service import stamp, unavailable
from ugc.observability.metrics import EVENTS_ACCEPTED, EVENTS_REJECTED
from ugc.observability.request_id import current_request_id
from ugc.problems import Problem
from ugc.web import DirectEndpoint, request_headers

PATH = "/api/v1/events"


@dataclass(slots=True)
class IntakeEndpoint(DirectEndpoint):
    verifier: TokenVerifier
    limits: BodyLimits
    max_events: int
    retry_after_s: int
    publisher: EventPublisher | None = None  # set by the app's lifespan

    async def handle(self, scope: Scope, receive: Receive) -> tuple[int, bytes]:
        headers = request_headers(scope, _WANTED)
        principal = self.verifier.principal(headers.get(b"authorization"))
        scope["ugc.user_id"] = principal.user_id  # for the access log
        beacon = check_content_type(headers.get(b"content-type"))
        raw = await _read_body(receive, headers.get(b"content-length"), self.limits)
        data = decode_content(raw, headers.get(b"content-encoding"), self.limits)
        intake = validate_body(data, max_events=self.max_events)
        tally = _Tally.of(intake)
        errors = [r.as_dict() for r in intake.rejections]
        if not intake.events:
            tally.count()
            raise Problem(422, "No event in the request is valid; see `errors`.", errors=errors)
        outgoing = stamp(intake.events, user_id=principal.user_id, request_id=current_request_id())
        # Only the records wait for the broker: the body and the events go now.
        del raw, data, intake
        assert self.publisher is not None, "the lifespan sets the publisher"
        # Straight to the publisher (one coroutine less); `problem_for` maps its failure.
        await self.publisher.publish(outgoing.key, outgoing.values, outgoing.headers)
        tally.count()
        if beacon:
            return 204, b""
        result = {"accepted": tally.accepted, "rejected": tally.rejected, "errors": errors}
        return 202, orjson.dumps(result)

    def problem_for(self, exc: Exception) -> Problem | None:
        if isinstance(exc, PublishUnavailable):
            return unavailable(self.retry_after_s)
        return None


@dataclass(slots=True)  # not frozen: one is made per request, and frozen costs 4x
class _Tally:
    """What a request adds to the event counters, once its fate is known."""

    accepted: int
    rejected: int
    by_type: tuple[tuple[str, int], ...]
    by_reason: tuple[tuple[str, int], ...]

    @classmethod
    def of(cls, intake: Intake) -> _Tally:
        events = intake.events
        kinds = set(map(_TYPE, events))
        if len(kinds) == 1:  # a player's batch is mostly one session's progress beats
            by_type: tuple[tuple[str, int], ...] = ((kinds.pop(), len(events)),)
        else:
            by_type = tuple(Counter(map(_TYPE, events)).items())
        if not intake.rejections:
            return cls(len(events), 0, by_type, ())
        by_reason = tuple(Counter(r.kind for r in intake.rejections).items())
        return cls(len(events), intake.rejected_count, by_type, by_reason)

    def count(self) -> None:
        for kind, number in self.by_type:
            _accepted(kind).inc(number)
        for reason, number in self.by_reason:
            EVENTS_REJECTED.labels(reason).inc(number)


_TYPE = operator.itemgetter("type")
_WANTED = frozenset({b"authorization", b"content-type", b"content-encoding", b"content-length"})


@functools.cache  # `labels()` takes a lock on every call; event types are a fixed few
def _accepted(kind: str) -> Any:
    return EVENTS_ACCEPTED.labels(kind)


async def _read_body(receive: Receive, content_length: str | None, limits: BodyLimits) -> bytes:
    """The raw body, refused with 413 as soon as it passes the wire limit."""
    check_declared_length(content_length, limits)
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Problem(400, "The client went away before sending the whole body.")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limits.max_body_bytes:
            raise too_large(limits.max_body_bytes, "request body")
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


def openapi_path(batch_schema_ref: str) -> dict[str, Any]:
    """The OpenAPI entry of this endpoint, merged into the app's schema."""
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    errors = {
        "400": "Malformed JSON or gzip, or a decompression bomb.",
        "401": "Missing, expired, badly signed or malformed access token.",
        "413": "Body or batch over the limits.",
        "415": "Unsupported Content-Type or Content-Encoding.",
        "422": "No event in the request is valid; `errors` says why for each.",
        "503": "The broker did not acknowledge in time; nothing accepted; retry.",
    }
    responses: dict[str, Any] = {
        "202": {
            "description": "Every accepted event is in Kafka.",
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/IntakeResult"}}
            },
        },
        "204": {"description": "Accepted from sendBeacon (text/plain body)."},
    }
    responses |= {code: {"description": text, "content": problem} for code, text in errors.items()}
    return {
        "post": {
            "tags": ["events"],
            "summary": "Send one player event or a batch of up to 1,000",
            "description": "JSON, gzip allowed (`Content-Encoding: gzip`); `text/plain` from "
            "sendBeacon answers 204. Invalid events are listed by index; the valid ones are "
            "accepted. The user is the token's subject.",
            "security": [{"bearer": []}],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": batch_schema_ref}},
                    "text/plain": {"schema": {"type": "string"}},
                },
            },
            "responses": responses,
        }
    }

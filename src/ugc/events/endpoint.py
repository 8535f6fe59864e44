"""POST /api/v1/events straight on ASGI.

This is the hottest path of the platform, so it bypasses the framework's
routing and dependency machinery; what it does is all in the modules it calls
(body, validation, service), and its OpenAPI operation is declared here.

It pays: `make bench-ingest` (f) serves the same `handle` on the framework's
router beside it, and the direct route served 2.35 times as many single-event
requests (5,999 against 2,518 a second, 2026-12-03).
"""

from __future__ import annotations

import asyncio

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope

from ugc.events.body import (
    BEACON_READ_S,
    EventBodyLimits,
    anonymous_limits,
    check_content_type,
    check_declared_length,
    decode_content,
    too_large,
)
from ugc.events.contract import EventBatch
from ugc.events.errors import BodyMalformed, BodyTooSlow
from ugc.events.service import EventAcceptor
from ugc.events.validation import AcceptedEvents, validate_beacon, validate_body
from ugc.observability.request_id import current_request_id
from ugc.web.direct import DirectEndpoint, request_headers
from ugc.web.kit import ServiceKit
from ugc.web.openapi import Operation, operation, ref

PATH = "/api/v1/events"
_WANTED = frozenset({b"authorization", b"content-type", b"content-encoding", b"content-length"})


class EventsEndpoint(DirectEndpoint):
    __slots__ = ("acceptor", "limits", "max_events")

    def __init__(
        self,
        kit: ServiceKit,
        *,
        acceptor: EventAcceptor,
        limits: EventBodyLimits,
        max_events: int,
    ) -> None:
        super().__init__(kit)
        self.acceptor = acceptor
        self.limits = limits
        self.max_events = max_events

    async def handle(self, scope: Scope, receive: Receive) -> tuple[int, bytes]:
        headers = request_headers(scope, _WANTED)
        authorization = headers.get(b"authorization")
        beacon = check_content_type(headers.get(b"content-type"))
        # A bad token is refused before the body is read, unless the body is a
        # beacon's, which may carry the token itself.
        early = self.principal(scope, authorization) if authorization or not beacon else None
        if early is not None:
            self.acceptor.admit(early.user_id)
        length, encoding = headers.get(b"content-length"), headers.get(b"content-encoding")
        if early is None:  # nobody known yet: no more is read than a beacon can send
            limits = anonymous_limits(encoding, self.limits)
            try:
                async with asyncio.timeout(BEACON_READ_S):
                    raw = await _read_body(receive, length, limits)
            except TimeoutError:
                raise BodyTooSlow(
                    f"A body carrying its token must arrive within {BEACON_READ_S:g} s."
                ) from None
        else:
            raw = await _read_body(receive, length, self.limits)
        data = decode_content(raw, encoding, self.limits)
        del raw
        if beacon:
            checked, token = validate_beacon(data, max_events=self.max_events)
            # The header wins when both are there.
            principal = early or self.principal(scope, f"Bearer {token}" if token else None)
        else:
            checked = validate_body(data, max_events=self.max_events)
            assert early is not None
            principal = early
        del data  # only the records wait for the broker
        tally = await self.acceptor.accept(
            checked, user_id=principal.user_id, request_id=current_request_id()
        )
        if beacon:
            return 204, b""
        errors = [r.as_dict() for r in checked.rejections]
        result = {"accepted": tally.accepted, "rejected": tally.rejected, "errors": errors}
        return 202, orjson.dumps(result)


def routed(events: EventsEndpoint) -> APIRouter:
    """The same endpoint as a framework route, for `make bench-ingest` to measure
    what the direct route saves: the framework's routing, middleware and
    dependency machinery around the same `handle`."""
    framework = APIRouter(tags=["events"])

    @framework.post(PATH, include_in_schema=False)
    async def post_events(request: Request) -> Response:
        # Read through the request, as the framework's other readers (Sentry's
        # integration among them) do: they would leave nothing for a raw receive.
        body = await request.body()

        async def whole() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        status, answer = await events.handle(request.scope, whole)
        return Response(answer, status_code=status, media_type="application/json")

    return framework


async def _read_body(
    receive: Receive, content_length: str | None, limits: EventBodyLimits
) -> bytes:
    """The raw body, refused as soon as it passes the wire limit."""
    check_declared_length(content_length, limits)
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise BodyMalformed("The client went away before sending the whole body.")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limits.max_body_bytes:
            raise too_large(limits.max_body_bytes, "request body")
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


OPERATION: Operation = operation(
    "POST",
    summary="Send one player event or a batch of up to 1,000",
    tags=["events"],
    description="JSON, gzip allowed (`Content-Encoding: gzip`); `text/plain` from "
    "sendBeacon answers 204 and may carry the token as `access_token` in its body. "
    "Invalid events are listed by index; the valid ones are accepted. The user is the "
    "token's subject.",
    request_body={
        "required": True,
        "content": {
            "application/json": {"schema": ref(EventBatch)},
            "text/plain": {"schema": {"type": "string"}},
        },
    },
    answers={
        202: ("Every accepted event is in Kafka.", AcceptedEvents),
        204: ("Accepted from sendBeacon (text/plain body).", None),
    },
    problems={
        400: "Malformed JSON or gzip, or a decompression bomb.",
        408: "A body carrying its own token (a beacon's) did not arrive within 2 s.",
        401: "Missing, expired, badly signed or malformed access token.",
        403: "The account was erased at its owner's request: its tokens are refused.",
        413: "Body or batch over the limits.",
        415: "Unsupported Content-Type or Content-Encoding.",
        422: "No event in the request is valid; `errors` says why for each.",
        429: "Over the user's events a second (or burst); retry after `Retry-After`.",
        503: "The broker did not acknowledge in time, or the server is at capacity; "
        "nothing accepted; retry after `Retry-After` with the same event ids.",
    },
    models=[EventBatch],
)

"""HTTP routes of the event intake: parse, validate, publish, answer."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from ugc.events.body import (
    BodyLimits,
    check_content_type,
    check_declared_length,
    decode_content,
    parse_json,
    too_large,
)
from ugc.events.contract import EventBatch, ViewProgress, encode_record, json_schema, stamp
from ugc.events.intake import Intake, split_body, validate_events
from ugc.events.publisher import EventPublisher, OutboundMessage, PublishUnavailable
from ugc.observability.request_id import current_request_id
from ugc.problems import Problem
from ugc.web import CurrentUser, json_response

router = APIRouter(prefix="/api/v1", tags=["events"])

_SCHEMA_HEADER = ("ugc-schema", b"1")
_CONTENT_TYPE_HEADER = ("content-type", b"application/json")


class IntakeResult(BaseModel):
    accepted: int = Field(description="Events the broker acknowledged.")
    rejected: int = Field(description="Events refused; see `errors`.")
    errors: list[dict[str, Any]] = Field(description="`{index, field, reason}` per problem.")


async def _publisher(request: Request) -> EventPublisher:
    publisher: EventPublisher = request.app.state.publisher
    return publisher


Publisher = Annotated[EventPublisher, Depends(_publisher)]


async def read_body(request: Request, limits: BodyLimits) -> bytes:
    """The raw body, refused with 413 as soon as it passes the wire limit."""
    check_declared_length(request.headers.get("content-length"), limits)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limits.max_body_bytes:
            raise too_large(limits.max_body_bytes, "request body")
        chunks.append(chunk)
    return b"".join(chunks)


async def publish_events(
    publisher: EventPublisher, intake: Intake, user_id: str, retry_after_s: int
) -> None:
    received_at = datetime.now(UTC)
    key = user_id.encode()
    headers = [_SCHEMA_HEADER, _CONTENT_TYPE_HEADER]
    request_id = current_request_id()
    if request_id:
        headers.append(("x-request-id", request_id.encode()))
    messages = [
        OutboundMessage(
            key,
            encode_record(stamp(event, user_id=user_id, received_at=received_at)),
            tuple(headers),
        )
        for event in intake.events
    ]
    try:
        await publisher.publish(messages)
    except PublishUnavailable:
        raise Problem(
            503,
            "The event broker did not confirm the events in time; nothing was accepted. "
            "Retry later with the same event_id values.",
            headers={"Retry-After": str(retry_after_s)},
        ) from None


@router.post(
    "/events",
    status_code=202,
    summary="Send one player event or a batch",
    response_model=IntakeResult,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/EventBatch"}},
                "text/plain": {"schema": {"type": "string"}},
            },
        }
    },
    responses={
        204: {"description": "Accepted from sendBeacon (text/plain)."},
        400: {"description": "Malformed JSON or gzip, or a decompression bomb."},
        401: {"description": "Missing or invalid access token."},
        413: {"description": "Body or batch over the limits."},
        415: {"description": "Unsupported Content-Type or Content-Encoding."},
        422: {"description": "No event in the request is valid."},
        503: {"description": "The broker did not acknowledge in time; retry."},
    },
)
async def post_events(request: Request, user: CurrentUser, publisher: Publisher) -> Response:
    settings = request.app.state.settings
    limits: BodyLimits = request.app.state.body_limits
    beacon = check_content_type(request.headers.get("content-type"))
    raw = await read_body(request, limits)
    body = parse_json(decode_content(raw, request.headers.get("content-encoding"), limits))
    items, _ = split_body(body, max_events=settings.max_events_per_batch)
    intake = validate_events(items)
    errors = [r.as_dict() for r in intake.rejections]
    if not intake.events:
        raise Problem(422, "No event in the request is valid; see `errors`.", errors=errors)
    await publish_events(publisher, intake, user.user_id, settings.retry_after_s)
    if beacon:
        return Response(status_code=204)
    result = {"accepted": len(intake.events), "rejected": intake.rejected_count, "errors": errors}
    return json_response(result, status=202)


class LegacyViewProgress(BaseModel):
    """The prototype's body; the user always comes from the token."""

    model_config = ConfigDict(extra="ignore")

    film_id: UUID
    viewed_frame: int = Field(ge=0, description="Position in the film, in seconds.")
    user_id: str | None = Field(
        default=None, description="Ignored unless it differs from the token."
    )


@router.post(
    "/view_progress/save",
    summary="The prototype's endpoint, kept for its clients",
    response_model=IntakeResult,
    deprecated=True,
)
async def save_view_progress(
    request: Request, payload: LegacyViewProgress, user: CurrentUser, publisher: Publisher
) -> Response:
    if payload.user_id is not None and payload.user_id != user.user_id:
        raise Problem(403, "user_id in the body is not the user of the access token.")
    event = ViewProgress(
        type="view_progress", film_id=payload.film_id, position_sec=payload.viewed_frame
    )
    await publish_events(
        publisher, Intake(events=[event]), user.user_id, request.app.state.settings.retry_after_s
    )
    return json_response({"accepted": 1, "rejected": 0, "errors": []})


@router.get("/events/schema", summary="JSON Schema of the event contract")
async def get_schema() -> Response:
    return json_response(json_schema())


# Registers the batch model in the OpenAPI components for the request body above.
_ = EventBatch

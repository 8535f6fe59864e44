"""Framework routes of the events API: the prototype's endpoint and the schema.

POST /api/v1/events itself is served by `endpoint.EventsEndpoint`.
"""

from __future__ import annotations

import functools
from typing import Annotated
from uuid import UUID

import orjson
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from ugc.errors import Forbidden
from ugc.events.contract import MAX_SECONDS, ViewProgress, json_schema
from ugc.events.service import EventAcceptor, EventsState
from ugc.events.validation import AcceptedEvents, ValidatedEvents
from ugc.observability.request_id import current_request_id
from ugc.web.dependencies import CurrentUser, json_response, state_of
from ugc.web.openapi import problems

router = APIRouter(prefix="/api/v1", tags=["events"])


async def _acceptor(request: Request) -> EventAcceptor:
    return state_of(request, EventsState).acceptor


Acceptor = Annotated[EventAcceptor, Depends(_acceptor)]


class LegacyViewProgress(BaseModel):
    """The prototype's body; the user always comes from the token."""

    model_config = ConfigDict(extra="ignore")

    film_id: UUID
    viewed_frame: int = Field(ge=0, le=MAX_SECONDS, description="Position in the film, in seconds.")
    user_id: str | None = Field(default=None, description="Refused when it is not the token's.")


@router.post(
    "/view_progress/save",
    summary="The prototype's endpoint, kept for its clients",
    response_model=AcceptedEvents,
    deprecated=True,
    responses=problems(
        400,
        401,
        413,
        422,
        429,
        503,
        s403="A user_id in the body that is not the access token's, or an erased account.",
    ),
)
async def save_view_progress(
    payload: LegacyViewProgress, user: CurrentUser, acceptor: Acceptor
) -> Response:
    if payload.user_id is not None and payload.user_id != user.user_id:
        raise Forbidden("user_id in the body is not the user of the access token.")
    event = ViewProgress(
        type="view_progress", film_id=payload.film_id, position_sec=float(payload.viewed_frame)
    )
    tally = await acceptor.accept(
        ValidatedEvents(events=[event]), user_id=user.user_id, request_id=current_request_id()
    )
    return json_response({"accepted": tally.accepted, "rejected": 0, "errors": []})


@router.get("/events/schema", summary="JSON Schema of the event contract")
async def get_schema() -> Response:
    return Response(_schema_body(), media_type="application/json")


@functools.cache  # the contract is fixed for the life of the process
def _schema_body() -> bytes:
    return orjson.dumps(json_schema())

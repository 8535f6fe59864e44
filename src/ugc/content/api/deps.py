"""What the content routes share: the service, the write quota, path and query types."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Path, Query, Request
from pydantic import BaseModel
from starlette.responses import Response

from ugc.auth import Principal
from ugc.content.service import ContentService
from ugc.errors import OverQuota
from ugc.web.dependencies import CurrentUser, state_of
from ugc.web.openapi import problems
from ugc.web.quota import TokenBuckets

# What every content route may answer, and what a write may answer besides.
READS = problems(401, 422, 503)
WRITES = problems(400, 413, 429)


@dataclass(frozen=True, slots=True)
class ContentState:
    """What the content routes read of their service."""

    content: ContentService
    write_quota: TokenBuckets  # per user, in this process


async def _content(request: Request) -> ContentService:
    return state_of(request, ContentState).content


Content = Annotated[ContentService, Depends(_content)]


async def _write_allowed(request: Request, user: CurrentUser) -> Principal:
    state = state_of(request, ContentState)
    await state.content.check_writer(user.user_id)
    wait = state.write_quota.take(user.user_id)
    if wait is not None:
        raise OverQuota(wait, "changes")
    return user


Writer = Annotated[Principal, Depends(_write_allowed)]
FilmId = Annotated[UUID, Path(description="The film's UUID")]
ReviewIdPath = Annotated[
    str, Path(pattern=r"^[0-9a-f]{24}$", description="The review's id: 24 hex characters")
]
Limit = Annotated[int, Query(ge=1, le=100, description="Page size, at most 100")]


def json_model(model: BaseModel) -> Response:
    """The hot reads answer directly: the store built the model, so validating it
    again on the way out (FastAPI's response_model) would only cost time."""
    return Response(model.__pydantic_serializer__.to_json(model), media_type="application/json")

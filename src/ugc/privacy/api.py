"""The privacy API: a viewer's export and erasure, and the `privacy` role's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Request
from starlette.responses import JSONResponse, StreamingResponse

from ugc.auth import PRIVACY_ROLE, Principal, subject_rule, user_id_of
from ugc.errors import Forbidden, Invalid, NotFound
from ugc.privacy.erasures import Erasures
from ugc.privacy.export import Export, chunked, gzipped
from ugc.privacy.models import Erasure, ErasureIn
from ugc.web.dependencies import CurrentUser, kit_of, state_of
from ugc.web.openapi import problems

router = APIRouter(prefix="/api/v1", tags=["privacy"], responses=problems(401, 422, 503))
_NOT_PRIVACY = f"Another user's data needs the {PRIVACY_ROLE!r} role."


@dataclass(frozen=True, slots=True)
class PrivacyState:
    erasures: Erasures
    export: Export


def _state(request: Request) -> PrivacyState:
    return state_of(request, PrivacyState)


State = Annotated[PrivacyState, Depends(_state)]


def _user_id(request: Request, value: str, field: str) -> str:
    verifier = kit_of(request).verifier
    who = user_id_of(value, verifier.subject_format)
    if who is None:
        raise Invalid.field(field, f"must be a user id: {subject_rule(verifier.subject_format)}")
    return who


async def _whose(
    request: Request,
    user_ref: Annotated[
        str, Path(min_length=1, max_length=128, description="`me`, or a user id (privacy role)")
    ],
    user: CurrentUser,
) -> str:
    if user_ref == "me":
        return user.user_id
    who = _user_id(request, user_ref, "user_ref")
    if who != user.user_id and not user.has_role(PRIVACY_ROLE):
        raise Forbidden(_NOT_PRIVACY)
    return who


async def _privacy_officer(user: CurrentUser) -> Principal:
    if not user.has_role(PRIVACY_ROLE):
        raise Forbidden(f"This needs the {PRIVACY_ROLE!r} role.")
    return user


Officer = Annotated[Principal, Depends(_privacy_officer)]
_NDJSON: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "One JSON record a line, each with its `kind`; the last is the summary.",
        "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
    }
}


@router.get(
    "/users/{user_ref}/export",
    summary="Everything held about a user, as NDJSON (gzip when accepted)",
    responses=_NDJSON | problems(s403=_NOT_PRIVACY),
    response_class=StreamingResponse,
)
async def export(
    who: Annotated[str, Depends(_whose)],
    state: State,
    accept_encoding: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """Lines of `kind` `rating`, `review`, `vote`, `bookmark`, `report`, `event` and
    `hidden_row` (a film hidden from Continue Watching), then one `summary` with the
    counts per kind and `complete` (false, with `missing`, when the warehouse did
    not answer). Streamed: any number of events in constant memory. With
    `Accept-Encoding: gzip` the stream is gzip-compressed."""
    lines = state.export.lines(who)
    headers = {
        "Content-Disposition": f'attachment; filename="ugc-export-{who}.ndjson"',
        "Cache-Control": "no-store",
        "Vary": "Accept-Encoding",
    }
    if accept_encoding and "gzip" in accept_encoding.lower():
        headers["Content-Encoding"] = "gzip"
        body = gzipped(lines)
    else:
        body = chunked(lines)
    return StreamingResponse(body, media_type="application/x-ndjson", headers=headers)


def _accepted(erasure: Erasure) -> JSONResponse:
    return JSONResponse(
        erasure.model_dump(mode="json"),
        status_code=202,
        headers={"Location": f"/api/v1/privacy/erasures/{erasure.id}"},
    )


_ERASURE_ANSWER: dict[int | str, dict[str, Any]] = {
    202: {"model": Erasure, "description": "Accepted: follow `Location`."}
}


@router.delete(
    "/users/me",
    summary="Erase everything held about me",
    status_code=202,
    responses=_ERASURE_ANSWER,
    response_model=Erasure,
)
async def erase_me(user: CurrentUser, state: State) -> JSONResponse:
    """Starts the erasure and answers at once; `GET /api/v1/privacy/erasures/{id}`
    follows it to its receipt. From the start, this account's tokens are refused
    by the events API and nothing it sent loads any more. Asking again answers the
    same erasure."""
    erasure = await state.erasures.request(user_id=user.user_id, requested_by=user.user_id)
    return _accepted(erasure)


@router.post(
    "/privacy/erasures",
    summary="Erase everything held about a user (privacy role)",
    status_code=202,
    responses=_ERASURE_ANSWER | problems(400, 413, s403="This needs the 'privacy' role."),
    response_model=Erasure,
)
async def request_erasure(
    request: Request, body: ErasureIn, user: Officer, state: State
) -> JSONResponse:
    who = _user_id(request, body.user_id, "user_id")
    return _accepted(await state.erasures.request(user_id=who, requested_by=user.user_id))


@router.get(
    "/privacy/erasures/{erasure_id}",
    summary="An erasure's state and, when done, its receipt per store",
    responses=problems(s404="No erasure has this id."),
)
async def get_erasure(
    erasure_id: Annotated[str, Path(pattern=r"^[0-9a-f-]{36}$")], user: CurrentUser, state: State
) -> Erasure:
    """The user it erased and the `privacy` role may read it; to anyone else it
    does not exist."""
    erasure = await state.erasures.get(erasure_id)
    if erasure.user_id != user.user_id and not user.has_role(PRIVACY_ROLE):
        raise NotFound("No erasure has this id.")
    return erasure

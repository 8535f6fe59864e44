"""GET /sdk/tracker.js: the browser tracker, served by the events API itself, so a
player always gets the tracker that speaks this API's contract."""

from __future__ import annotations

import hashlib
from importlib import resources

from fastapi import APIRouter, Request
from starlette.responses import Response

router = APIRouter(tags=["sdk"])

_SOURCE = (resources.files("ugc.events") / "sdk" / "tracker.js").read_bytes()
_ETAG = '"' + hashlib.sha256(_SOURCE).hexdigest()[:32] + '"'
_HEADERS = {"ETag": _ETAG, "Cache-Control": "public, max-age=3600"}
JAVASCRIPT = "text/javascript; charset=utf-8"


@router.get(
    "/sdk/tracker.js",
    summary="The browser tracker (plain JavaScript, no dependencies)",
    response_class=Response,
    responses={
        200: {
            "description": "The tracker.",
            "content": {JAVASCRIPT: {"schema": {"type": "string"}}},
        },
        304: {"description": "Not changed since the ETag you have."},
    },
)
async def tracker(request: Request) -> Response:
    if _ETAG in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=_HEADERS)
    return Response(_SOURCE, media_type=JAVASCRIPT, headers=_HEADERS)

"""The page `ugc dev` serves at `/`: a player wired with the browser tracker, beside
the viewer's resume point, Continue Watching and history (analytics), the film's
ratings and reviews (content).

It needs a token for its viewer, and there is no auth service locally, so this
service also signs one at `/demo/token`. That is why it exists in `ugc dev` only
and refuses to be built in production.

The clip is a 6-minute test pattern made with ffmpeg, shipped so the page needs no
network, and long enough to be a film (Continue Watching leaves out anything under
`UGC_RESUME_MIN_LENGTH_S`, 300 s): `ffmpeg -f lavfi -i
"smptebars=size=320x180:rate=10:duration=360" -vf "drawtext=text='ugc demo
%{pts\\:hms}':fontcolor=white:box=1:boxcolor=black@0.6:fontsize=18:x=10:y=10"
-c:v libvpx -b:v 8k -crf 50 -g 200 -an clip.webm`.
"""

from __future__ import annotations

import uuid
from importlib import resources
from pathlib import Path

from fastapi import APIRouter, Query
from starlette.responses import FileResponse, HTMLResponse, Response

from ugc.auth import issue_token, load_keys
from ugc.settings import Settings
from ugc.web.dependencies import json_response
from ugc.web.kit import ServiceKit
from ugc.web.service import Service, assemble

_ASSETS = Path(str(resources.files("ugc.devstack") / "demo"))
TOKEN_TTL_S = 3600


def demo_service(settings: Settings) -> Service:
    if settings.environment == "production":
        raise RuntimeError("the demo page signs tokens; it runs in `ugc dev` only")
    keys = load_keys(settings)
    router = APIRouter(include_in_schema=False)

    @router.get("/")
    async def page() -> Response:
        return HTMLResponse((_ASSETS / "index.html").read_text())

    @router.get("/demo/clip.webm")
    async def clip() -> Response:
        return FileResponse(_ASSETS / "clip.webm", media_type="video/webm")

    @router.get("/demo/token")
    async def token(viewer: uuid.UUID = Query()) -> Response:  # noqa: B008 - FastAPI's way
        signed = issue_token(
            keys,
            subject=str(viewer),
            roles=[],
            ttl_s=TOKEN_TTL_S,
            user_claim=settings.jwt.user_claim,
            roles_claim=settings.jwt.roles_claim,
        )
        return json_response({"token": signed, "user_id": str(viewer), "expires_in": TOKEN_TTL_S})

    return assemble(
        ServiceKit.of(settings, "demo"),
        description="The local demo page.",
        routers=[router],
        docs=False,
    )

"""Each service's API docs, served by the service itself: Swagger UI's script and
styles come from the fastapi-offline package, under the service's own docs path,
so `/docs/<service>` works in a closed network (a cinema's staging often is one)
and behind nginx, which routes `/docs/<service>...` to that service."""

from __future__ import annotations

from importlib import resources

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

_ASSETS = resources.files("fastapi_offline") / "static"


def offline_docs(app: FastAPI, name: str) -> None:
    """GET /docs/<name>, with its assets under /docs/<name>/assets."""
    assets = f"/docs/{name}/assets"
    app.mount(assets, StaticFiles(directory=str(_ASSETS)), name=f"docs-assets-{name}")

    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=f"/openapi/{name}.json",
            title=f"ugc {name} API",
            swagger_js_url=f"{assets}/swagger-ui-bundle.js",
            swagger_css_url=f"{assets}/swagger-ui.css",
            swagger_favicon_url=f"{assets}/favicon.png",
        )

    app.add_api_route(f"/docs/{name}", docs, methods=["GET"], include_in_schema=False)

"""The content study: MongoDB through the project's stores, PostgreSQL through a
repository written for the study."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ugc.research.content.store import ContentStore
from ugc.research.postgres import DEFAULT_URL, scratch_database

if TYPE_CHECKING:
    from rich.progress import Progress

    from ugc.research.content.study import ContentPlan


async def research_content(
    data_dir: Path,
    progress: Progress,
    plan: ContentPlan,
    *,
    mongo_url: str | None,
    postgres_url: str | None,
) -> dict[str, Any]:
    """The content study on fresh stores: its results."""
    from ugc.research.content.study import study  # noqa: PLC0415

    async with open_content_stores(
        data_dir, mongo_url=mongo_url, postgres_url=postgres_url or DEFAULT_URL
    ) as stores:
        return await study(stores, plan, progress)


@asynccontextmanager
async def open_content_stores(
    data_dir: Path, *, mongo_url: str | None, postgres_url: str
) -> AsyncIterator[list[ContentStore]]:
    """Both stores, empty; without `mongo_url`, the local MongoDB-protocol server
    is started on a data directory of its own under `data_dir`, removed afterwards."""
    import shutil  # noqa: PLC0415
    import tempfile  # noqa: PLC0415

    from ugc.devstack.processes import free_port  # noqa: PLC0415
    from ugc.devstack.servers import LocalDocumentStore  # noqa: PLC0415
    from ugc.research.content.mongo import MongoContent  # noqa: PLC0415
    from ugc.research.content.postgres import PostgresContent  # noqa: PLC0415

    async with AsyncExitStack() as stack:
        if mongo_url is None:
            work = Path(tempfile.mkdtemp(prefix="content-", dir=data_dir))
            stack.callback(shutil.rmtree, work, ignore_errors=True)
            local = LocalDocumentStore(free_port(), work / "data", work / "logs")
            local.start()
            stack.callback(local.stop)
            mongo = MongoContent.connect(local.url, "local MongoDB-protocol server (SecantusDB)")
        else:
            mongo = MongoContent.connect(mongo_url, "server")
        stack.push_async_callback(mongo.close)
        url = await stack.enter_async_context(scratch_database(postgres_url, "content"))
        postgres = await PostgresContent.connect(url)
        stack.push_async_callback(postgres.close)
        yield [mongo, postgres]

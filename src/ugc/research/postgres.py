"""A database of the study's own on a PostgreSQL server, dropped afterwards."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@asynccontextmanager
async def scratch_database(url: str, purpose: str) -> AsyncIterator[str]:
    """The URL of a new database on the server at `url`; dropped on the way out."""
    from psycopg import AsyncConnection, sql  # noqa: PLC0415 - the research extra
    from psycopg.conninfo import make_conninfo  # noqa: PLC0415

    name = f"ugc_research_{purpose}_{secrets.token_hex(4)}"
    admin = await AsyncConnection.connect(url, autocommit=True)
    try:
        await admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield make_conninfo(url, dbname=name)
        finally:
            await admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
    finally:
        await admin.close()

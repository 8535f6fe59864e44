"""ClickHouse servers over HTTP (clickhouse-connect), for production: one, or every
replica of a cluster.

`UGC_CLICKHOUSE_URL` may list several servers, comma-separated. Calls go to the
first that answers; a server that does not (refused, timed out, read-only) is
passed over for `DOWN_FOR_S` and the call goes on to the next, so the APIs and
the loader keep working while a replica is down. Rows a server refuses as bad
are bad on every server: that error is raised at once. A cluster's tables are
Distributed and Replicated, so any replica takes any insert (deduplicated by
its token across replicas) and answers any query.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from ugc.warehouse.sink import INSERT_SETTINGS, RowsRefused, SinkError

log = logging.getLogger(__name__)

DOWN_FOR_S = 30.0
Connect = Callable[[str], Awaitable[Any]]


def _connect_with_clickhouse_connect(url: str) -> Awaitable[Any]:
    import clickhouse_connect  # noqa: PLC0415 - only this sink needs it

    return clickhouse_connect.get_async_client(dsn=url, compress="lz4")


class ClickHouseHttpSink:
    def __init__(
        self,
        urls: str | Sequence[str],
        *,
        connect: Connect = _connect_with_clickhouse_connect,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        listed = urls.split(",") if isinstance(urls, str) else list(urls)
        self._urls = [u.strip() for u in listed if u.strip()]
        if not self._urls:
            raise ValueError("no ClickHouse URL given")
        self._connect = connect
        self._clock = clock
        self._clients: dict[str, Any] = {}
        self._down_until: dict[str, float] = {}

    def _order(self) -> list[str]:
        """The servers to try: those not known to be down first, in the given order."""
        now = self._clock()
        up = [u for u in self._urls if self._down_until.get(u, 0.0) <= now]
        return up + [u for u in self._urls if u not in up]

    async def _on_each(self, call: Callable[[Any], Awaitable[Any]]) -> Any:
        last: SinkError | None = None
        for url in self._order():
            try:
                client = self._clients.get(url)
                if client is None:
                    client = self._clients[url] = await self._connect(url)
                result = await call(client)
            except Exception as exc:
                error = SinkError.from_exception(exc)
                if isinstance(error, RowsRefused):
                    raise error from exc
                self._down_until[url] = self._clock() + DOWN_FOR_S
                self._clients.pop(url, None)
                log.warning("ClickHouse at %s did not answer: %s", _shown(url), error)
                last = error
                continue
            self._down_until.pop(url, None)
            return result
        assert last is not None
        raise last

    async def insert_json_rows(
        self,
        table: str,
        columns: Sequence[str],
        rows: bytes,
        *,
        dedup_token: str,
        settings: Mapping[str, object] | None = None,
    ) -> None:
        settings = {
            **INSERT_SETTINGS,
            **(settings or {}),
            "insert_deduplication_token": dedup_token,
        }
        await self._on_each(
            lambda client: client.raw_insert(
                table, column_names=list(columns), insert_block=rows, settings=settings,
                fmt="JSONEachRow",
            )
        )  # fmt: skip

    async def query(
        self, sql: str, parameters: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        result = await self._on_each(lambda client: client.query(sql, parameters=parameters))
        return list(result.named_results())

    async def execute(self, sql: str) -> None:
        await self._on_each(lambda client: client.command(sql))

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()
        self._clients.clear()


def _shown(url: str) -> str:
    """The URL without its password, for logs."""
    scheme, _, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    return f"{scheme}://{credentials.split(':')[0]}@{host}" if at else url

"""A ClickHouse server or cluster over HTTP (clickhouse-connect), for production."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ugc.warehouse.sink import INSERT_SETTINGS, SinkError


class ClickHouseHttpSink:
    """A ClickHouse server or cluster over HTTP (production)."""

    def __init__(self, url: str) -> None:
        import clickhouse_connect  # noqa: PLC0415 - only this sink needs it

        self._url = url
        self._connect = clickhouse_connect.get_async_client
        self._client: Any = None

    async def _client_ready(self) -> Any:
        if self._client is None:
            self._client = await self._connect(dsn=self._url, compress="lz4")
        return self._client

    async def insert_json_rows(
        self, table: str, columns: Sequence[str], rows: bytes, *, dedup_token: str
    ) -> None:
        client = await self._client_ready()
        settings = {**INSERT_SETTINGS, "insert_deduplication_token": dedup_token}
        try:
            await client.raw_insert(
                table, column_names=list(columns), insert_block=rows, settings=settings,
                fmt="JSONEachRow",
            )  # fmt: skip
        except Exception as exc:
            raise SinkError.from_exception(exc) from exc

    async def query(
        self, sql: str, parameters: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        client = await self._client_ready()
        try:
            result = await client.query(sql, parameters=parameters)
        except Exception as exc:
            raise SinkError.from_exception(exc) from exc
        return list(result.named_results())

    async def execute(self, sql: str) -> None:
        client = await self._client_ready()
        try:
            await client.command(sql)
        except Exception as exc:
            raise SinkError.from_exception(exc) from exc

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()

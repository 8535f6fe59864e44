"""A fake of ClickHouse's bookkeeping for migrations: it records the statements
sent and answers what a migration reads (the applied record, whether it exists,
the cluster's shard count). Nothing else of ClickHouse."""

from __future__ import annotations

import re
from typing import Any


class MigrationSink:
    def __init__(self, applied: set[str] | None = None, *, shards: int | None = None) -> None:
        self.executed: list[str] = []
        self.applied = applied  # None: no record table yet
        self.shards = shards

    async def execute(self, sql: str) -> None:
        self.executed.append(sql)
        if recorded := re.search(r"INSERT INTO \w+\.schema_migrations .*'(.+)'", sql):
            self.applied = (self.applied or set()) | {recorded.group(1)}

    async def query(
        self, sql: str, parameters: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        if "system.clusters" in sql:
            assert self.shards is not None, "this fake was given no cluster"
            return [{"shards": self.shards}]
        if "system.tables" in sql:
            return [{"n": int(self.applied is not None)}]
        return [{"version": version} for version in sorted(self.applied or ())]

    async def insert_json_rows(self, *args: object, **kwargs: object) -> None:
        raise AssertionError("a migration inserts no rows but its record")

    async def close(self) -> None:
        pass

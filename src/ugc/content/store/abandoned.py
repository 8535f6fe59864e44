"""Transactions a timeout left open on the server, ended as soon as it answers.

When MongoDB stops answering in the middle of a transaction, the call gives up
at its deadline (503 to the client) but the server still has the transaction
open: once it answers again it carries out what it had received, and the
documents touched stay locked until the server's transaction lifetime runs out
(a minute on MongoDB), so every write to the same film or user fails meanwhile.
The session of such a transaction is killed instead (`killSessions`, which
aborts its transactions), retried in the background until the server takes it.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import Mapping
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.errors import InvalidOperation, PyMongoError

log = logging.getLogger(__name__)

# Past this, the server has expired the transaction by itself (MongoDB's default
# transactionLifetimeLimitSeconds is 60).
GIVE_UP_AFTER_S = 120.0
_PAUSE_S = 0.25


class AbandonedTransactions:
    def __init__(self, client: AsyncMongoClient[Any], *, timeout_s: float) -> None:
        self._client = client
        self._timeout_s = timeout_s
        self._pending: dict[bytes, tuple[Mapping[str, Any], float]] = {}
        self._reaper: asyncio.Task[None] | None = None

    def abandon(self, session_id: Mapping[str, Any]) -> None:
        """Kill this session as soon as the server answers."""
        self._pending[bytes(session_id["id"])] = (session_id, time.monotonic())
        if self._reaper is None or self._reaper.done():
            # A context of its own: the failed call's deadline must not bound the reaper.
            self._reaper = asyncio.get_running_loop().create_task(
                self._reap(), name="mongo-abandoned", context=contextvars.Context()
            )

    async def _reap(self) -> None:
        while self._pending:
            now = time.monotonic()
            for key, (_, since) in list(self._pending.items()):
                if now - since > GIVE_UP_AFTER_S:
                    del self._pending[key]
            sessions = {key: lsid for key, (lsid, _) in self._pending.items()}
            if not sessions:
                return
            try:
                async with asyncio.timeout(self._timeout_s):
                    await self._client.admin.command("killSessions", list(sessions.values()))
            except InvalidOperation:
                self._pending.clear()  # the client is closed: the service is stopping
                return
            except (PyMongoError, TimeoutError):
                await asyncio.sleep(_PAUSE_S)
                continue
            for key in sessions:
                self._pending.pop(key, None)
            log.info("killed %d MongoDB sessions left open by timeouts", len(sessions))

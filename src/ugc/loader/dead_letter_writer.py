"""Rows ClickHouse refuses go to the dead-letter topic, with where they came from."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from ugc.loader.batch import Record
from ugc.loader.insert import backoff, pause_unless_stopped
from ugc.loader.ports import DeadLetterSink, DeadLetterUnavailable
from ugc.observability.metrics import LOADER_DEAD_LETTERED

log = logging.getLogger(__name__)

REASON = "ugc-dead-letter-reason"
SOURCE_TOPIC = "ugc-source-topic"
SOURCE_PARTITION = "ugc-source-partition"
SOURCE_OFFSET = "ugc-source-offset"
SOURCE_LINE = "ugc-source-line"
REQUEST_ID = "x-request-id"


class DeadLetters:
    """Sends refused rows, waiting out a dead-letter topic that does not take them
    (with backoff, until it does or the loader stops): a row is never dropped, and
    the batch it came from is not committed until its dead letters are written."""

    def __init__(
        self,
        sink: DeadLetterSink,
        *,
        stopping: asyncio.Event,
        retry_cap_s: float,
        on_sent: Callable[[], None] = lambda: None,
    ) -> None:
        self._sink = sink
        self._stopping = stopping
        self._cap = retry_cap_s
        self._on_sent = on_sent

    async def send(self, record: Record, line: int, value: bytes, reason: str) -> None:
        """One refused row (line `line` of `record`), with the reason and its source."""
        headers = [
            (REASON, reason.encode()[:4000]),
            (SOURCE_TOPIC, record.topic.encode()),
            (SOURCE_PARTITION, str(record.partition).encode()),
            (SOURCE_OFFSET, str(record.offset).encode()),
            (SOURCE_LINE, str(line).encode()),
        ]
        headers += [(k, v) for k, v in record.headers if k == REQUEST_ID]
        attempt = 0
        while True:
            try:
                await self._sink.send(value, key=record.key, headers=headers)
                break
            except DeadLetterUnavailable as exc:
                attempt += 1
                pause = backoff(attempt, self._cap)
                log.warning(
                    "dead letter of %s:%d@%d not written (attempt %d), retrying in %.1f s: %s",
                    record.topic, record.partition, record.offset, attempt, pause, exc,
                )  # fmt: skip
                await pause_unless_stopped(self._stopping, pause)
        self._on_sent()
        LOADER_DEAD_LETTERED.inc()
        request_id = next((v.decode() for k, v in record.headers if k == REQUEST_ID), None)
        log.warning(
            "dead-lettered %s:%d@%d line %d (request %s): %s",
            record.topic, record.partition, record.offset, line, request_id, reason,
            extra={"http.request.id": request_id} if request_id else None,
        )  # fmt: skip

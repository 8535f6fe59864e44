"""What the loader has done: counters for tests and benchmarks, metrics and log lines."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from ugc.loader.batch import Batch, Partition, request_ids
from ugc.observability.metrics import LOADER_BATCH_ROWS, LOADER_INSERT, LOADER_LAG, LOADER_ROWS

log = logging.getLogger(__name__)


@dataclass
class LoaderStats:
    batches: int = 0
    rows: int = 0
    dead_lettered: int = 0
    insert_failures: int = 0
    offset_resets: int = 0
    last_batch_rows: int = 0
    last_insert_s: float = 0.0
    lag: dict[int, int] = field(default_factory=dict)

    def loaded(
        self, batch: Batch, insert_s: float, highwater: Callable[[Partition], int | None]
    ) -> None:
        """A batch is in and committed: count it, and how far behind each partition is."""
        self.batches += 1
        self.rows += batch.events
        self.last_batch_rows = batch.events
        self.last_insert_s = insert_s
        for tp, records in batch.parts.items():
            end = highwater(tp)
            if end is not None:
                self.lag[tp[1]] = max(0, end - (records[-1].offset + 1))
                LOADER_LAG.labels(str(tp[1])).set(self.lag[tp[1]])
        LOADER_ROWS.inc(batch.events)
        LOADER_BATCH_ROWS.observe(batch.events)
        LOADER_INSERT.observe(insert_s)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("batch request ids: %s", " ".join(sorted(request_ids(batch.records))))
        log.info(
            "loaded %d rows in %.0f ms; lag by partition %s",
            batch.events, insert_s * 1000, dict(sorted(self.lag.items())),
        )  # fmt: skip

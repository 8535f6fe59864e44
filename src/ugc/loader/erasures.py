"""The warehouse side of erasures, done by the loader between its own inserts.

The loader drops every record of an erased user from the moment its suppression
is read (`dropped`). A user erased while batches of theirs are being inserted
is removed from the warehouse once those inserts are in (`Loader.run` drains
them first), so nothing of theirs lands after the removal, whatever was in
Kafka, in a dead-letter replay, or read again after a crash. Each removal is
recorded in the warehouse (`erased_viewers`), so a loader that restarts removes
only what is not recorded as removed; a removal cut short is run again whole.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

from ugc.events.suppressions import Suppressions
from ugc.loader.batch import Record
from ugc.warehouse.erasure import WarehouseErasure
from ugc.warehouse.sink import SinkError

log = logging.getLogger(__name__)


class Erasures:
    def __init__(
        self, suppressions: Suppressions, warehouse: WarehouseErasure, *, physical_s: float
    ) -> None:
        self._suppressions = suppressions
        self._warehouse = warehouse
        self._physical_s = physical_s
        self._erased: dict[str, dict[str, Any]] | None = None  # as recorded; None: not read
        self._seen = -1  # suppressions read when the work was last looked at
        self.removed = 0

    def dropped(self, record: Record) -> bool:
        return self._suppressions.erased_key(record.key)

    def filter(self) -> Any:
        """What `Batch.of` drops records by: None while nobody is erased."""
        return self.dropped if len(self._suppressions) else None

    def has_work(self) -> bool:
        """A suppression not yet carried out, or masked rows due to go from disk."""
        if not len(self._suppressions):
            self._seen = 0  # nobody erased: nothing to wait for, no insert held up
        return len(self._suppressions) != self._seen or self._physical_due()

    async def work(self) -> None:
        """Carry out what `has_work` found; on a warehouse error, try again later."""
        try:
            if self._erased is None:
                self._erased = await self._warehouse.erased()
            if len(self._suppressions) != self._seen:
                count = len(self._suppressions)
                for suppression in self._suppressions.all():
                    recorded = self._erased.get(suppression.user_id)
                    if recorded is not None and recorded["masked_at"]:
                        continue
                    started = time.monotonic()
                    receipt = await self._warehouse.erase(
                        suppression.user_id, suppression.erasure_id
                    )
                    self.removed += 1
                    log.info(
                        "erasure %s: warehouse rows removed in %.2f s: %s",
                        suppression.erasure_id, time.monotonic() - started, receipt,
                    )  # fmt: skip
                    self._erased = await self._warehouse.erased()
                self._seen = count
            if self._physical_due():
                made = await self._warehouse.make_physical(self._erased)
                log.info("erased rows of %d viewers rewritten out of the parts on disk", made)
                self._erased = await self._warehouse.erased()
        except SinkError as exc:
            log.warning("erasure work left for later, the warehouse did not answer: %s", exc)

    def _physical_due(self) -> bool:
        """Masked rows are made physical once the oldest waited half the allowed
        time, leaving the other half for the rewrite itself."""
        if not self._erased:
            return False
        waiting = [
            row["masked_at"]
            for row in self._erased.values()
            if row["masked_at"] and not row["physical_at"]
        ]
        if not waiting:
            return False
        oldest = datetime.fromisoformat(min(waiting)).replace(tzinfo=UTC)
        waited = (datetime.now(UTC) - oldest).total_seconds()
        return waited >= self._physical_s / 2

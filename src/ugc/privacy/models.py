"""What the privacy API takes and answers."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class ErasureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: str = Field(description="The user to erase, as the tokens name them.")


class ErasureState(StrEnum):
    pending = "pending"
    done = "done"


class StoreReceipt(BaseModel):
    """What one store removed, and when."""

    removed: dict[str, int] = Field(description="Records removed, by kind or table.")
    at: datetime = Field(description="When they were gone from every read.")
    physical_at: datetime | None = Field(
        default=None,
        description="The warehouse: when the rows were also gone from the files on disk.",
    )


class Erasure(BaseModel):
    id: str
    user_id: str
    state: ErasureState
    requested_at: datetime
    suppressed_at: datetime | None = Field(
        description="Since then the user's tokens are refused and their events never load."
    )
    stores: dict[str, StoreReceipt] = Field(
        description="`content` (MongoDB) and `warehouse` (ClickHouse), as each is done."
    )
    done_at: datetime | None = None
    waiting_for: str | None = Field(
        default=None, description="While pending: the step it waits for."
    )

"""A backup folder made and restored: the content database, the warehouse, and a
manifest of what they held, against which a restore is checked."""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pymongo import AsyncMongoClient

from ugc import __version__
from ugc.backup import documents, tables
from ugc.content.store.mongo import Document, connect
from ugc.settings import Settings
from ugc.warehouse.connect import open_sink

MANIFEST = "manifest.json"


@dataclass(frozen=True, slots=True)
class Manifest:
    name: str
    created_at: str
    release: str
    mongo_database: str
    # Read at one point in time (a replica set); else while nothing wrote.
    mongo_point_in_time: bool
    collections: dict[str, int]
    clickhouse_database: str
    clickhouse_destination: str
    tables: dict[str, int]
    # What the restore could not check: empty when every count matched.
    mismatches: list[str] = field(default_factory=list)

    def write(self, folder: Path) -> None:
        (folder / MANIFEST).write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        try:
            found = json.loads((folder / MANIFEST).read_text())
        except FileNotFoundError:
            raise NotABackup(f"{folder} holds no {MANIFEST}: it is not a ugc backup") from None
        return cls(**found)


class NotABackup(ValueError):
    """The folder is not a complete backup."""


class NotEmpty(ValueError):
    """The restore would write over data, and replacing it was not asked for."""


def name_now() -> str:
    return "ugc-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def back_up(settings: Settings, folder: Path, *, mongo_url: str) -> Manifest:
    """Both stores into `folder` (which must not exist yet, or be empty)."""
    if folder.exists() and any(folder.iterdir()):
        raise NotEmpty(f"{folder} is not empty: name a new folder for the backup")
    (folder / "mongo").mkdir(parents=True, exist_ok=True)
    manifest = asyncio.run(_back_up(settings, folder.resolve(), mongo_url=mongo_url))
    manifest.write(folder)
    return manifest


async def _back_up(settings: Settings, folder: Path, *, mongo_url: str) -> Manifest:
    name = folder.name
    client: AsyncMongoClient[Document] = connect(mongo_url, timeout_s=600)
    try:
        point_in_time = await documents.point_in_time(client)
        collections = await documents.dump(client, settings.mongo.database, folder / "mongo")
    finally:
        await client.close()
    warehouse = settings.clickhouse
    destination = tables.Destination.of(warehouse, folder, name)
    async with open_sink(warehouse, settings.data_dir, backups=folder) as sink:
        counts = await tables.row_counts(sink, warehouse)
        await tables.back_up(sink, warehouse, destination)
    return Manifest(
        name=name,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        release=__version__,
        mongo_database=settings.mongo.database,
        mongo_point_in_time=point_in_time,
        collections=collections,
        clickhouse_database=warehouse.database,
        clickhouse_destination=destination.expression,
        tables=counts,
    )


def restore(settings: Settings, folder: Path, *, mongo_url: str, replace: bool) -> Manifest:
    """The backup in `folder` into the configured stores; the manifest, with any
    count that differs from the backup's in `mismatches`."""
    manifest = Manifest.read(folder)
    dumped = sorted((folder / "mongo").glob("*.bson"))
    return asyncio.run(
        _restore(settings, folder.resolve(), manifest, dumped, mongo_url=mongo_url, replace=replace)
    )


async def _restore(
    settings: Settings,
    folder: Path,
    manifest: Manifest,
    dumped: list[Path],
    *,
    mongo_url: str,
    replace: bool,
) -> Manifest:
    warehouse = settings.clickhouse
    source = tables.Destination(manifest.clickhouse_destination)
    if source.expression.startswith("File("):  # embedded: wherever the folder is now
        source = tables.Destination.of(warehouse, folder, manifest.name)
    client: AsyncMongoClient[Document] = connect(mongo_url, timeout_s=600)
    try:
        try:
            await documents.load(client, settings.mongo.database, dumped, replace=replace)
        except FileExistsError:
            raise NotEmpty(
                f"MongoDB database {settings.mongo.database} holds documents: "
                "restore with --replace to drop them first"
            ) from None
        collections = await documents.counted(client, settings.mongo.database)
    finally:
        await client.close()
    async with open_sink(warehouse, settings.data_dir, backups=folder) as sink:
        try:
            await tables.restore(sink, warehouse, source, replace=replace)
        except FileExistsError:
            raise NotEmpty(
                f"ClickHouse database {warehouse.database} holds rows: "
                "restore with --replace to drop them first"
            ) from None
        counts = await tables.row_counts(sink, warehouse)
    mismatches = [
        f"{kind} {name}: {want} backed up, {have.get(name, 0)} restored"
        for kind, wanted, have in (
            ("collection", manifest.collections, collections),
            ("table", manifest.tables, counts),
        )
        for name, want in wanted.items()
        if have.get(name, 0) != want
    ]
    return Manifest(**(asdict(manifest) | {"mismatches": mismatches}))

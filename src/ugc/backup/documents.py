"""The content database as files: every collection read at one point in time.

A collection is dumped as its documents' raw BSON, one after another (the format
of `mongodump`'s `.bson` files, readable by `bsondump`), without decoding them.
On a replica set the reads of every collection share one snapshot
(`snapshot=True`, a point-in-time read), so counters and the documents they count
agree while the platform keeps writing.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import cast

from bson import CodecOptions
from bson.raw_bson import RawBSONDocument
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure

from ugc.content.store.mongo import Document, create_indexes

_RAW: CodecOptions[RawBSONDocument] = CodecOptions(document_class=RawBSONDocument)
_BATCH = 1_000
_SNAPSHOT_UNAVAILABLE = 246  # a standalone server


def _raw(client: AsyncMongoClient[Document], database: str) -> AsyncDatabase[RawBSONDocument]:
    """The database, its documents left as BSON (pymongo types the codec's class
    as the client's, hence the cast)."""
    return cast("AsyncDatabase[RawBSONDocument]", client.get_database(database, codec_options=_RAW))


async def dump(client: AsyncMongoClient[Document], database: str, into: Path) -> dict[str, int]:
    """Every collection of `database` into `into/<name>.bson` (`into` exists); the
    count of each."""
    db = _raw(client, database)
    counts: dict[str, int] = {}
    async with client.start_session(snapshot=await point_in_time(client)) as session:
        names = sorted(await db.list_collection_names(session=session))
        for name in names:
            if name.startswith("system."):
                continue
            count = 0
            with (into / f"{name}.bson").open("wb") as out:
                async for doc in db[name].find({}, session=session, batch_size=_BATCH):
                    out.write(doc.raw)
                    count += 1
            counts[name] = count
    return counts


async def point_in_time(client: AsyncMongoClient[Document]) -> bool:
    """Whether the server reads at one point in time (a replica set does). A
    standalone server does not: its copy is consistent only while nothing writes,
    as with the local server of a stopped `ugc dev`."""
    try:
        async with client.start_session(snapshot=True) as session:
            await client.admin.command("listDatabases", nameOnly=True, session=session)
            await client["admin"]["system.version"].find_one({}, session=session)
    except OperationFailure as exc:
        if exc.code == _SNAPSHOT_UNAVAILABLE:
            return False
        raise
    return True


def documents_in(path: Path) -> Iterator[RawBSONDocument]:
    """The documents of a dumped collection, as they were written."""
    data = path.read_bytes()
    offset = 0
    while offset < len(data):
        (size,) = struct.unpack_from("<i", data, offset)
        yield RawBSONDocument(data[offset : offset + size])
        offset += size


async def holds_data(db: AsyncDatabase[Document]) -> bool:
    for name in await db.list_collection_names():
        if not name.startswith("system.") and await db[name].find_one({}) is not None:
            return True
    return False


async def load(
    client: AsyncMongoClient[Document], database: str, dumped: list[Path], *, replace: bool
) -> dict[str, int]:
    """The dumped collections (their files) into `database`, then its indexes; the
    count of each. The database is dropped first with `replace`; else it must hold
    no documents."""
    db = client[database]
    if replace:
        await client.drop_database(database)
    elif await holds_data(db):
        raise FileExistsError(database)
    raw = _raw(client, database)
    counts: dict[str, int] = {}
    for path in dumped:
        batch: list[RawBSONDocument] = []
        count = 0
        for doc in documents_in(path):
            batch.append(doc)
            if len(batch) == _BATCH:
                await raw[path.stem].insert_many(batch)
                count, batch = count + len(batch), []
        if batch:
            await raw[path.stem].insert_many(batch)
            count += len(batch)
        counts[path.stem] = count
    await create_indexes(db)
    return counts


async def counted(client: AsyncMongoClient[Document], database: str) -> dict[str, int]:
    db = client[database]
    return {
        name: await db[name].count_documents({})
        for name in sorted(await db.list_collection_names())
        if not name.startswith("system.")
    }

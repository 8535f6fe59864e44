"""`ugc backup` and `ugc restore` as an operator runs them, on the local engines: the
content database (the local MongoDB-protocol server) and the embedded warehouse
(chdb's own BACKUP and RESTORE) to a folder and back, every count compared."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from ugc.content.models import ReviewIn, VoteValue
from ugc.content.service import ContentService
from ugc.content.store import open_stores
from ugc.content.store.mongo import connect, create_indexes
from ugc.devstack.servers import LocalDocumentStore

pytestmark = pytest.mark.integration

FILM = uuid.UUID("6b0b7e92-07e4-48ad-b93c-808a0d3c1f2e")
TEXT = "A film worth every minute of it, and then some."


def ugc(data_dir: Path, mongo: tuple[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "UGC_ENVIRONMENT": "test",
        "UGC_DATA_DIR": str(data_dir),
        "UGC_MONGO_URL": mongo[0],
        "UGC_MONGO_DATABASE": mongo[1],
        "COLUMNS": "200",
    }
    return subprocess.run(
        [sys.executable, "-m", "ugc", *args],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def clickhouse(data_dir: Path, sql: str) -> str:
    """SQL on the data directory's embedded ClickHouse, in a process of its own (chdb
    opens one directory per process)."""
    code = (
        "import asyncio, json, sys\n"
        "from pathlib import Path\n"
        "from ugc.warehouse.embedded import ChdbSink\n"
        "async def main():\n"
        "    sink = ChdbSink(Path(sys.argv[1]) / 'clickhouse')\n"
        "    print(json.dumps(await sink.query(sys.argv[2])))\n"
        "    await sink.close()\n"
        "asyncio.run(main())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(data_dir), sql],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return done.stdout


def events_in(data_dir: Path) -> int:
    return int(json.loads(clickhouse(data_dir, "SELECT count() AS n FROM ugc.events"))[0]["n"])


SEED = (
    "INSERT INTO ugc.events (event_id, type, user_id, film_id, schema_version, received_at, "
    "occurred_at, position_sec) SELECT generateUUIDv4(), 'heartbeat', toString(number % 7), "
    f"toUUID('{FILM}'), 1, now64(6), now64(6), number FROM numbers({{n}})"
)


async def content_counts(url: str, database: str) -> dict[str, int]:
    client = connect(url, timeout_s=30)
    try:
        db = client[database]
        names = sorted(n for n in await db.list_collection_names() if not n.startswith("system."))
        return {name: await db[name].count_documents({}) for name in names}
    finally:
        await client.close()


async def test_a_backup_restores_every_row_and_document_and_refuses_to_overwrite(
    document_store: LocalDocumentStore, tmp_path: Path
) -> None:
    data = tmp_path / "platform"
    mongo = (document_store.url, f"t_{uuid.uuid4().hex[:12]}")
    client = connect(mongo[0], timeout_s=30)
    await create_indexes(client[mongo[1]])
    content = ContentService(open_stores(client, mongo[1]))
    reviews = []
    for n in range(5):
        user = f"viewer-{n}"
        await content.rate(user_id=user, film_id=FILM, score=n + 5)
        await content.bookmark(user_id=user, film_id=FILM)
        reviews.append(
            await content.write_review(user_id=user, film_id=FILM, review=ReviewIn(text=TEXT))
        )
    await content.vote(review_id=reviews[0].id, user_id="viewer-1", value=VoteValue.like)
    assert ugc(data, mongo, "migrate").returncode == 0
    clickhouse(data, SEED.format(n=500))
    backed_up = await content_counts(*mongo)

    folder = tmp_path / "backups" / "first"
    made = ugc(data, mongo, "backup", "--to", str(folder))
    assert made.returncode == 0, made.stdout + made.stderr
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["tables"]["events"] == 500
    assert manifest["collections"]["ratings"] == 5
    assert manifest["collections"]["review_votes"] == 1
    assert {k: v for k, v in manifest["collections"].items() if v} == {
        k: v for k, v in backed_up.items() if v
    }
    again = ugc(data, mongo, "backup", "--to", str(folder))
    assert again.returncode == 1
    assert "not empty" in again.stderr

    # Life goes on after the backup; restoring over it must be asked for.
    await content.rate(user_id="late-viewer", film_id=FILM, score=9)
    clickhouse(data, SEED.format(n=20))
    refused = ugc(data, mongo, "restore", str(folder))
    assert refused.returncode == 1
    assert "--replace" in refused.stderr
    assert "Traceback" not in refused.stderr

    restored = ugc(data, mongo, "restore", str(folder), "--replace")
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "every count matches" in restored.stdout + restored.stderr
    assert events_in(data) == 500
    assert await content_counts(*mongo) == backed_up
    # The restored store works: its unique index still holds one rating per viewer.
    assert (await content.rating_summary(film_id=FILM, user_id="viewer-0")).count == 5
    await client.close()

    # A new host: an empty data directory and database, restored without --replace.
    elsewhere = (document_store.url, f"t_{uuid.uuid4().hex[:12]}")
    moved = tmp_path / "moved"
    folder.rename(moved)
    fresh = ugc(tmp_path / "new-host", elsewhere, "restore", str(moved))
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    assert events_in(tmp_path / "new-host") == 500
    assert await content_counts(*elsewhere) == backed_up

    not_one = ugc(data, mongo, "restore", str(tmp_path))
    assert not_one.returncode == 1
    assert "not a ugc backup" in not_one.stderr

"""The content repository written for the study on PostgreSQL: the operations of
the project's MongoDB stores, with the same transactional counters.

Writers of one counter row take turns on it (`SELECT ... FOR UPDATE`), as the
MongoDB stores take turns per document in the process; ids are `bigserial`s
given in the order MongoDB's ObjectIds grow, so newest-first pages agree.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from ugc.content.rules import RANKING_CAP
from ugc.research.content.data import Content
from ugc.research.content.postgres_schema import COUNTERS, INDEXES, TABLES
from ugc.research.content.store import PAGE, Params, Write, distribution, page_of

CLIENTS = 32
_COPY_ROWS = 50_000
_REVIEW = "user_id, text, likes, dislikes, score, author_score"


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";\n") if s.strip()]


class PostgresContent:
    name = "PostgreSQL"
    design = (
        "tables for the collections, counters in film_stats and user_stats rows, "
        "B-tree indexes as on MongoDB (built after the bulk load) plus the unique keys; "
        "writes in READ COMMITTED transactions that lock the counter row first"
    )

    def __init__(self, pool: AsyncConnectionPool[AsyncConnection[Any]]) -> None:
        self._pool = pool

    @classmethod
    async def connect(cls, url: str) -> PostgresContent:
        pool: AsyncConnectionPool[AsyncConnection[Any]] = AsyncConnectionPool(
            url, min_size=CLIENTS, max_size=CLIENTS, open=False, kwargs={"autocommit": True}
        )
        await pool.open(wait=True)
        return cls(pool)

    async def load(self, content: Content, advance: Callable[[int], Any]) -> None:
        now = datetime.now(UTC)
        async with self._pool.connection() as db:
            for statement in _statements(TABLES):
                await db.execute(statement)
            ratings = [(u, f, s, now, now) for u, f, s in content.ratings]
            await _copy(db, "ratings (user_id, film_id, score, created_at, updated_at)",
                        ratings, advance)  # fmt: skip
            reviews = [
                (i + 1, f, u, text, False, 0, 0, 0, now, now)
                for i, (u, f, text) in enumerate(content.reviews)
            ]
            await _copy(db, "reviews (id, film_id, user_id, text, spoiler, likes, dislikes, "
                        "score, created_at, updated_at)", reviews, advance)  # fmt: skip
            votes = [(i + 1, voter, value) for i, voter, value in content.votes]
            await _copy(db, "review_votes (review_id, user_id, value)", votes, advance)
            marks = [(u, f, now) for u, f in content.bookmarks]
            await _copy(db, "bookmarks (user_id, film_id, created_at)", marks, advance)
            for statement in _statements(INDEXES) + _statements(COUNTERS):
                await db.execute(statement)

    async def ask(self, query: str, params: Params) -> Any:
        user, film = params.user, params.film
        async with self._pool.connection() as db:
            if query == "liked films of a user":
                rows = await _all(db, "SELECT film_id, score FROM ratings WHERE user_id = %s "
                                  "ORDER BY id DESC LIMIT %s", user, PAGE + 1)  # fmt: skip
                total = await _one(db, "SELECT ratings FROM user_stats WHERE user_id = %s", user)
                items = [[str(f), s] for f, s in rows[:PAGE]]
                return page_of(items, total or 0, len(rows) > PAGE)
            if query == "ratings of a film":
                rows = await _all(db, "SELECT score, count(*) FROM ratings WHERE film_id = %s "
                                  "GROUP BY score", film)  # fmt: skip
                return distribution(dict(rows))
            if query == "bookmarks of a user":
                rows = await _all(db, "SELECT film_id FROM bookmarks WHERE user_id = %s "
                                  "ORDER BY id DESC LIMIT %s", user, PAGE + 1)  # fmt: skip
                total = await _one(db, "SELECT bookmarks FROM user_stats WHERE user_id = %s", user)
                return page_of([str(f) for (f,) in rows[:PAGE]], total or 0, len(rows) > PAGE)
            if query == "average rating of a film":
                return await _summary(db, user, film)
            if query == "reviews of a film, newest first":
                rows = await _all(db, f"SELECT {_REVIEW} FROM reviews WHERE film_id = %s "
                                  "ORDER BY id DESC LIMIT %s", film, PAGE + 1)  # fmt: skip
                return await _reviews_page(
                    db, film, [list(r) for r in rows[:PAGE]], len(rows) > PAGE
                )
            if query == "reviews of a film, by score":
                return await _first_by_score(db, film)
        raise ValueError(f"no such query: {query}")

    async def write(self, change: Write) -> None:
        async with self._pool.connection() as db, db.transaction():
            if change.kind == "rate a film":
                await _rate(db, change)
            elif change.kind == "vote on a review":
                await _vote(db, change)
            elif change.kind == "bookmark a film":
                await _bookmark(db, change)
            else:
                raise ValueError(f"no such write: {change.kind}")

    async def describe(self) -> dict[str, Any]:
        async with self._pool.connection() as db:
            settings = await _all(
                db, "SELECT name, setting, unit FROM pg_settings WHERE name = ANY(%s)",
                ["shared_buffers", "synchronous_commit", "fsync", "work_mem",
                 "default_transaction_isolation", "max_connections"],
            )  # fmt: skip
            version = await _one(db, "SHOW server_version")
        return {
            "server": "server",
            "version": version,
            "settings": {n: f"{s}{' ' + u if u else ''}" for n, s, u in settings},
            "clients": CLIENTS,
        }

    async def close(self) -> None:
        await self._pool.close()


async def _copy(
    db: AsyncConnection[Any],
    target: str,
    rows: list[tuple[Any, ...]],
    advance: Callable[[int], Any],
) -> None:
    for start in range(0, len(rows), _COPY_ROWS):
        block = rows[start : start + _COPY_ROWS]
        async with db.cursor() as cursor, cursor.copy(f"COPY {target} FROM STDIN") as copy:
            for row in block:
                await copy.write_row(row)
        advance(len(block))


async def _all(db: AsyncConnection[Any], text: str, *params: Any) -> list[tuple[Any, ...]]:
    cursor = await db.execute(text, params)
    return await cursor.fetchall()


async def _one(db: AsyncConnection[Any], text: str, *params: Any) -> Any:
    row = await (await db.execute(text, params)).fetchone()
    return row[0] if row else None


async def _summary(db: AsyncConnection[Any], user: str, film: Any) -> dict[str, Any]:
    found = await _all(db, "SELECT count, sum, dist FROM film_stats WHERE film_id = %s", film)
    count, total, dist = found[0] if found else (0, 0, [0] * 11)
    mine = await _one(db, "SELECT score FROM ratings WHERE user_id = %s AND film_id = %s",
                      user, film)  # fmt: skip
    return {
        "count": count,
        "average": round(total / count, 2) if count else None,
        "distribution": distribution(dict(enumerate(dist))),
        "my_score": mine,
    }


async def _reviews_page(
    db: AsyncConnection[Any], film: Any, items: list[list[Any]], more: bool
) -> Any:
    total = await _one(db, "SELECT reviews FROM film_stats WHERE film_id = %s", film)
    return page_of(items, total or 0, more)


async def _first_by_score(db: AsyncConnection[Any], film: Any) -> Any:
    """As ReviewPages: the ranking's ids (up to the cap) kept for later pages when
    there are more than a page of them, then the first page's reviews by id."""
    ranking = [i for (i,) in await _all(
        db, "SELECT id FROM reviews WHERE film_id = %s ORDER BY score DESC, id DESC LIMIT %s",
        film, RANKING_CAP,
    )]  # fmt: skip
    if len(ranking) > PAGE:
        await db.execute(
            "INSERT INTO review_rankings (film_id, ids) VALUES (%s, %s)", (film, ranking)
        )
    shown = ranking[:PAGE]
    rows = await _all(db, f"SELECT id, {_REVIEW} FROM reviews WHERE id = ANY(%s)", shown)
    by_id = {row[0]: list(row[1:]) for row in rows}
    return await _reviews_page(
        db, film, [by_id[i] for i in shown if i in by_id], len(ranking) > PAGE
    )


async def _rate(db: AsyncConnection[Any], change: Write) -> None:
    film, user, score = change.film, change.user, change.value
    await db.execute("INSERT INTO film_stats (film_id) VALUES (%s) ON CONFLICT DO NOTHING", (film,))
    await db.execute("SELECT 1 FROM film_stats WHERE film_id = %s FOR UPDATE", (film,))
    before = await _one(db, "SELECT score FROM ratings WHERE user_id = %s AND film_id = %s",
                        user, film)  # fmt: skip
    now = datetime.now(UTC)
    if before is None:
        await db.execute(
            "INSERT INTO ratings (user_id, film_id, score, created_at, updated_at) "
            "VALUES (%s, %s, %s, %s, %s)", (user, film, score, now, now),
        )  # fmt: skip
        await db.execute(
            "INSERT INTO user_stats (user_id, ratings) VALUES (%s, 1) "
            "ON CONFLICT (user_id) DO UPDATE SET ratings = user_stats.ratings + 1", (user,),
        )  # fmt: skip
    else:
        await db.execute(
            "UPDATE ratings SET score = %s, updated_at = %s WHERE user_id = %s AND film_id = %s",
            (score, now, user, film),
        )
    await db.execute(
        "UPDATE film_stats SET count = count + %(new)s, sum = sum + %(score)s - %(old)s, "
        "dist = ARRAY(SELECT d + (CASE WHEN i - 1 = %(score)s THEN 1 ELSE 0 END)"
        " - (CASE WHEN i - 1 = %(before)s THEN 1 ELSE 0 END)"
        " FROM unnest(dist) WITH ORDINALITY AS u(d, i) ORDER BY i) WHERE film_id = %(film)s",
        {"new": int(before is None), "score": score, "old": before or 0,
         "before": -1 if before is None else before, "film": film},
    )  # fmt: skip
    await db.execute(
        "UPDATE reviews SET author_score = %s WHERE film_id = %s AND user_id = %s",
        (score, film, user),
    )


async def _vote(db: AsyncConnection[Any], change: Write) -> None:
    review = await _one(db, "SELECT id FROM reviews WHERE film_id = %s AND user_id = %s "
                        "FOR UPDATE", change.film, change.author)  # fmt: skip
    assert review is not None, "votes go to reviews of the study's data"
    before = await _one(db, "SELECT value FROM review_votes WHERE review_id = %s AND user_id = %s",
                        review, change.user)  # fmt: skip
    previous, points = before or 0, change.value
    await db.execute(
        "INSERT INTO review_votes (review_id, user_id, value) VALUES (%s, %s, %s) "
        "ON CONFLICT (review_id, user_id) DO UPDATE SET value = EXCLUDED.value",
        (review, change.user, points),
    )
    likes = int(points > 0) - int(previous > 0)
    dislikes = int(points < 0) - int(previous < 0)
    await db.execute(
        "UPDATE reviews SET likes = likes + %s, dislikes = dislikes + %s, score = score + %s "
        "WHERE id = %s RETURNING likes, dislikes, score",
        (likes, dislikes, points - previous, review),
    )


async def _bookmark(db: AsyncConnection[Any], change: Write) -> None:
    added = await _one(
        db, "INSERT INTO bookmarks (user_id, film_id, created_at) VALUES (%s, %s, %s) "
        "ON CONFLICT (user_id, film_id) DO NOTHING RETURNING id",
        change.user, change.film, datetime.now(UTC),
    )  # fmt: skip
    if added is not None:
        await db.execute(
            "INSERT INTO user_stats (user_id, bookmarks) VALUES (%s, 1) "
            "ON CONFLICT (user_id) DO UPDATE SET bookmarks = user_stats.bookmarks + 1",
            (change.user,),
        )

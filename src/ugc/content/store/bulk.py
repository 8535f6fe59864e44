"""Bulk import of existing content (a move from another store, a benchmark's data).

Writes the same documents and counters as the stores do one by one, in large
batches; meant for an empty database, not for a live one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from uuid import UUID

from pymongo.asynchronous.database import AsyncDatabase

from ugc.content.rules import helpfulness
from ugc.content.store.mongo import Document
from ugc.content.store.reviews import review_document

_BATCH = 5000


async def import_content(
    db: AsyncDatabase[Document],
    *,
    ratings: Sequence[tuple[str, UUID, int]],
    reviews: Sequence[tuple[str, UUID, str]],
    bookmarks: Sequence[tuple[str, UUID]],
    votes: Sequence[tuple[int, str, int]] = (),
    progress: Callable[[int], object] | None = None,
) -> None:
    """Ratings (user, film, score), reviews (user, film, text), bookmarks (user,
    film), and votes on the reviews (the review's index in `reviews`, the voter,
    1 for a like or -1 for a dislike; one per voter and review). `progress(n)` is
    called as each batch of n documents is in."""
    now = datetime.now(UTC)
    films: dict[str, Document] = defaultdict(
        lambda: {"count": 0, "sum": 0, "dist": {}, "reviews": 0}
    )
    users: dict[str, Document] = defaultdict(lambda: {"bookmarks": 0})
    scores: dict[tuple[str, str], int] = {}
    rating_docs = []
    for user, film_id, score in ratings:
        film = str(film_id)
        scores[user, film] = score
        summary = films[film]
        summary["count"] += 1
        summary["sum"] += score
        summary["dist"][str(score)] = summary["dist"].get(str(score), 0) + 1
        rating_docs.append(
            {"user_id": user, "film_id": film, "score": score, "created_at": now, "updated_at": now}
        )
    review_docs = []
    for user, film_id, text in reviews:
        film = str(film_id)
        films[film]["reviews"] += 1
        review_docs.append(
            review_document(
                film=film, user_id=user, text=text, spoiler=False,
                author_score=scores.get((user, film)), now=now,
            )
        )  # fmt: skip
    vote_docs = []
    for index, voter, value in votes:
        review = review_docs[index]
        review["likes" if value > 0 else "dislikes"] += 1
        review["score"] += value
        review["helpfulness"] = helpfulness(review["likes"], review["dislikes"])
        vote_docs.append({"review_id": review["_id"], "user_id": voter, "value": value})
    bookmark_docs = []
    for user, film_id in bookmarks:
        users[user]["bookmarks"] += 1
        bookmark_docs.append({"user_id": user, "film_id": str(film_id), "created_at": now})
    for name, docs in (
        ("ratings", rating_docs),
        ("reviews", review_docs),
        ("review_votes", vote_docs),
        ("bookmarks", bookmark_docs),
        ("film_stats", [{"_id": k, **v} for k, v in films.items()]),
        ("user_stats", [{"_id": k, **v} for k, v in users.items()]),
    ):
        for start in range(0, len(docs), _BATCH):
            batch = docs[start : start + _BATCH]
            await db[name].insert_many(batch, ordered=False)
            if progress is not None:
                progress(len(batch))

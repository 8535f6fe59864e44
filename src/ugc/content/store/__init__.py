"""MongoDB storage of content: the only modules that know BSON and pymongo.

`open_stores` wires the adapters of `content.ports` on one database; the
content API and the storage study both use it, so they run the same stores.
"""

from __future__ import annotations

from pymongo import AsyncMongoClient

from ugc.content.ports import Stores
from ugc.content.store.abandoned import AbandonedTransactions
from ugc.content.store.accounts import MongoAccounts
from ugc.content.store.bookmarks import MongoBookmarks
from ugc.content.store.moderation import MongoModeration
from ugc.content.store.mongo import Document
from ugc.content.store.ratings import MongoRatings
from ugc.content.store.review_pages import MongoReviewPages
from ugc.content.store.reviews import MongoReviews
from ugc.content.store.turns import Turns


def open_stores(
    client: AsyncMongoClient[Document],
    database: str,
    *,
    hide_after_reports: int = 5,
    ranking_reuse_s: float = 30.0,
) -> Stores:
    """The content stores on `database`; writers of one document take turns within
    this process (one `Turns` shared by them all), and transactions a timeout left
    open are ended on the server as soon as it answers."""
    db = client[database]
    turns: Turns[str] = Turns()
    abandoned = AbandonedTransactions(client, timeout_s=client.options.timeout or 5.0)
    ratings = MongoRatings(client, db, turns, abandoned)
    return Stores(
        ratings=ratings,
        reviews=MongoReviews(client, db, turns, ratings, abandoned),
        review_pages=MongoReviewPages(client, db, turns, reuse_s=ranking_reuse_s),
        bookmarks=MongoBookmarks(client, db, turns, abandoned),
        moderation=MongoModeration(client, db, turns, abandoned, hide_after=hide_after_reports),
        accounts=MongoAccounts(client, db, turns),
    )

"""The content API over the real local MongoDB-protocol server."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from tests.integration.conftest import http_client
from ugc.content.app import open_content_service
from ugc.settings import Settings

pytestmark = pytest.mark.integration
RANKING_REUSE_S = 0.5

FILM = str(uuid.uuid4())
ALICE, BOB = str(uuid.uuid4()), str(uuid.uuid4())
TEXT = "A slow, patient film that pays off in its last act."


@pytest.fixture
async def client(mongo_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    # First pages are kept no longer than rankings: the ranking tests see both end.
    settings = mongo_settings.replace(
        review_ranking_reuse_s=RANKING_REUSE_S, review_page_ttl_s=RANKING_REUSE_S
    )
    async for c in http_client(open_content_service(settings)):
        yield c


@pytest.fixture
def as_user(token_for: Callable[..., str]) -> Callable[[str], dict[str, str]]:
    return lambda user: {"Authorization": f"Bearer {token_for(user)}"}


async def test_ratings_set_change_remove_and_the_summary_follows(
    client: httpx.AsyncClient, as_user: Callable[[str], dict[str, str]]
) -> None:
    path = f"/api/v1/films/{FILM}/rating"
    assert (await client.put(path, json={"score": 8}, headers=as_user(ALICE))).status_code == 200
    assert (await client.put(path, json={"score": 4}, headers=as_user(BOB))).status_code == 200
    assert (await client.put(path, json={"score": 10}, headers=as_user(ALICE))).status_code == 200

    summary = (await client.get(path, headers=as_user(ALICE))).json()
    assert summary["count"] == 2
    assert summary["average"] == 7.0
    assert summary["my_score"] == 10
    assert {k: v for k, v in summary["distribution"].items() if v} == {"4": 1, "10": 1}

    assert (await client.delete(path, headers=as_user(BOB))).status_code == 204
    assert (await client.delete(path, headers=as_user(BOB))).status_code == 404
    summary = (await client.get(path, headers=as_user(BOB))).json()
    assert (summary["count"], summary["average"], summary["my_score"]) == (1, 10.0, None)


async def test_an_unrated_film_has_an_empty_summary(
    client: httpx.AsyncClient, as_user: Callable[[str], dict[str, str]]
) -> None:
    summary = (
        await client.get(f"/api/v1/films/{uuid.uuid4()}/rating", headers=as_user(ALICE))
    ).json()
    assert (summary["count"], summary["average"]) == (0, None)
    assert set(summary["distribution"]) == {str(s) for s in range(11)}


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (f"/api/v1/films/{FILM}/rating", {"score": 11}, "score"),
        (f"/api/v1/films/{FILM}/rating", {"score": {"$gt": 1}}, "score"),
        ("/api/v1/films/not-a-uuid/rating", {"score": 5}, "film_id"),
        (f"/api/v1/films/{FILM}/reviews", {"text": "short"}, "text"),
    ],
)
async def test_bad_input_is_422_with_the_field(
    client: httpx.AsyncClient,
    as_user: Callable[[str], dict[str, str]],
    path: str,
    body: object,
    field: str,
) -> None:
    method = client.put if path.endswith("rating") else client.post
    response = await method(path, json=body, headers=as_user(ALICE))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


async def test_my_ratings_newest_first_with_cursor_paging(
    client: httpx.AsyncClient, as_user: Callable[[str], dict[str, str]]
) -> None:
    films = [str(uuid.uuid4()) for _ in range(5)]
    for film in films:
        await client.put(f"/api/v1/films/{film}/rating", json={"score": 5}, headers=as_user(ALICE))

    first = (await client.get("/api/v1/users/me/ratings?limit=3", headers=as_user(ALICE))).json()
    second = (
        await client.get(
            f"/api/v1/users/me/ratings?limit=3&cursor={first['next_cursor']}",
            headers=as_user(ALICE),
        )
    ).json()

    assert first["total"] == 5
    assert [r["film_id"] for r in first["items"] + second["items"]] == films[::-1]
    assert second["next_cursor"] is None


async def test_one_review_per_user_and_film_and_only_the_author_edits_it(
    client: httpx.AsyncClient, as_user: Callable[[str], dict[str, str]]
) -> None:
    await client.put(f"/api/v1/films/{FILM}/rating", json={"score": 9}, headers=as_user(ALICE))
    created = await client.post(
        f"/api/v1/films/{FILM}/reviews",
        json={"text": TEXT, "spoiler": True},
        headers=as_user(ALICE),
    )
    again = await client.post(
        f"/api/v1/films/{FILM}/reviews", json={"text": TEXT}, headers=as_user(ALICE)
    )
    review = created.json()
    path = f"/api/v1/reviews/{review['id']}"

    assert created.status_code == 201
    assert (review["author_id"], review["spoiler"], review["author_score"]) == (ALICE, True, 9)
    assert again.status_code == 409
    assert (
        await client.patch(path, json={"text": TEXT + "!"}, headers=as_user(BOB))
    ).status_code == 403
    assert (await client.delete(path, headers=as_user(BOB))).status_code == 403
    edited = await client.patch(path, json={"spoiler": False}, headers=as_user(ALICE))
    assert edited.json()["spoiler"] is False
    assert edited.json()["text"] == TEXT
    assert (await client.delete(path, headers=as_user(ALICE))).status_code == 204
    assert (await client.get(path, headers=as_user(ALICE))).status_code == 404
    assert (await client.get("/api/v1/reviews/xyz", headers=as_user(ALICE))).status_code == 422


async def test_votes_one_per_user_changeable_and_removable(
    client: httpx.AsyncClient, as_user: Callable[[str], dict[str, str]]
) -> None:
    review = (
        await client.post(
            f"/api/v1/films/{FILM}/reviews", json={"text": TEXT}, headers=as_user(ALICE)
        )
    ).json()
    vote = f"/api/v1/reviews/{review['id']}/vote"

    await client.put(vote, json={"value": "like"}, headers=as_user(BOB))
    twice = (await client.put(vote, json={"value": "like"}, headers=as_user(BOB))).json()
    assert (twice["likes"], twice["dislikes"], twice["score"]) == (1, 0, 1)
    changed = (await client.put(vote, json={"value": "dislike"}, headers=as_user(BOB))).json()
    assert (changed["likes"], changed["dislikes"], changed["score"]) == (0, 1, -1)
    removed = (await client.delete(vote, headers=as_user(BOB))).json()
    assert (removed["likes"], removed["dislikes"], removed["my_vote"]) == (0, 0, None)
    missing = await client.put(
        f"/api/v1/reviews/{'0' * 24}/vote", json={"value": "like"}, headers=as_user(BOB)
    )
    assert missing.status_code == 404


async def test_concurrent_votes_leave_counts_equal_to_distinct_voters(
    client: httpx.AsyncClient, as_user: Callable[[str], dict[str, str]]
) -> None:
    review = (
        await client.post(
            f"/api/v1/films/{FILM}/reviews", json={"text": TEXT}, headers=as_user(ALICE)
        )
    ).json()
    vote = f"/api/v1/reviews/{review['id']}/vote"
    voters = [f"voter-{i}" for i in range(30)]
    likers = set(voters[:20])

    async def cast(user: str) -> None:
        value = "like" if user in likers else "dislike"
        for _ in range(3):  # the same voter, again and again, at the same time as others
            response = await client.put(vote, json={"value": value}, headers=as_user(user))
            assert response.status_code == 200, response.text

    await asyncio.gather(*(cast(user) for user in voters))

    final = (await client.get(f"/api/v1/reviews/{review['id']}", headers=as_user(ALICE))).json()
    assert (final["likes"], final["dislikes"], final["score"]) == (20, 10, 10)


async def test_reviews_by_score_page_stably_while_votes_change(
    client: httpx.AsyncClient, as_user: Callable[[str], dict[str, str]]
) -> None:
    film = str(uuid.uuid4())
    ids = []
    for i in range(7):
        made = await client.post(
            f"/api/v1/films/{film}/reviews", json={"text": TEXT}, headers=as_user(f"u{i}")
        )
        ids.append(made.json()["id"])
    for i, review_id in enumerate(ids):  # review i gets i likes
        for voter in range(i):
            await client.put(
                f"/api/v1/reviews/{review_id}/vote",
                json={"value": "like"},
                headers=as_user(f"v{voter}"),
            )
    listing = f"/api/v1/films/{film}/reviews?sort=score&limit=3"

    first = (await client.get(listing, headers=as_user(ALICE))).json()
    # The last-ranked review jumps to the top while we page.
    for voter in range(10, 20):
        await client.put(
            f"/api/v1/reviews/{ids[0]}/vote", json={"value": "like"}, headers=as_user(f"v{voter}")
        )
    pages = [first]
    while pages[-1]["next_cursor"]:
        cursor = pages[-1]["next_cursor"]
        pages.append(
            (await client.get(f"{listing}&cursor={cursor}", headers=as_user(ALICE))).json()
        )

    seen = [r["id"] for page in pages for r in page["items"]]
    assert seen == ids[::-1]  # every review once, in the order of the first page
    assert first["total"] == 7
    # A first page within the reuse window walks the same ranking; after it, the
    # last one still serves while a new one is frozen in the background.
    soon = (await client.get(listing, headers=as_user(ALICE))).json()
    assert [r["id"] for r in soon["items"]] == [r["id"] for r in first["items"]]
    await asyncio.sleep(RANKING_REUSE_S)
    stale = (await client.get(listing, headers=as_user(ALICE))).json()
    assert [r["id"] for r in stale["items"]] == [r["id"] for r in first["items"]]
    deadline = time.monotonic() + 10
    while True:
        await asyncio.sleep(RANKING_REUSE_S)
        fresh = (await client.get(listing, headers=as_user(ALICE))).json()
        if fresh["items"][0]["id"] == ids[0]:
            break
        assert time.monotonic() < deadline, "the new ranking never showed"


async def test_reviews_newest_first(
    client: httpx.AsyncClient, as_user: Callable[[str], dict[str, str]]
) -> None:
    film = str(uuid.uuid4())
    ids = [
        (
            await client.post(
                f"/api/v1/films/{film}/reviews", json={"text": TEXT}, headers=as_user(f"n{i}")
            )
        ).json()["id"]
        for i in range(4)
    ]
    first = (
        await client.get(f"/api/v1/films/{film}/reviews?limit=2", headers=as_user(ALICE))
    ).json()
    rest = (
        await client.get(
            f"/api/v1/films/{film}/reviews?limit=2&cursor={first['next_cursor']}",
            headers=as_user(ALICE),
        )
    ).json()
    assert [r["id"] for r in first["items"] + rest["items"]] == ids[::-1]
    bad = await client.get(f"/api/v1/films/{film}/reviews?cursor=garbage", headers=as_user(ALICE))
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "cursor"


async def test_bookmarks_idempotent_add_remove_and_listing(
    client: httpx.AsyncClient, as_user: Callable[[str], dict[str, str]]
) -> None:
    films = [str(uuid.uuid4()) for _ in range(3)]
    statuses = [
        (await client.put(f"/api/v1/users/me/bookmarks/{film}", headers=as_user(ALICE))).status_code
        for film in [*films, films[0]]
    ]
    assert statuses == [201, 201, 201, 200]

    mine = (await client.get("/api/v1/users/me/bookmarks?limit=10", headers=as_user(ALICE))).json()
    theirs = (await client.get("/api/v1/users/me/bookmarks", headers=as_user(BOB))).json()
    assert [b["film_id"] for b in mine["items"]] == films[::-1]
    assert (mine["total"], theirs["total"]) == (3, 0)

    assert (
        await client.delete(f"/api/v1/users/me/bookmarks/{films[1]}", headers=as_user(ALICE))
    ).status_code == 204
    assert (
        await client.delete(f"/api/v1/users/me/bookmarks/{films[1]}", headers=as_user(ALICE))
    ).status_code == 404
    left = (await client.get("/api/v1/users/me/bookmarks", headers=as_user(ALICE))).json()
    assert [b["film_id"] for b in left["items"]] == [films[2], films[0]]


async def test_two_users_cannot_touch_each_others_content(
    client: httpx.AsyncClient, as_user: Callable[[str], dict[str, str]]
) -> None:
    film = str(uuid.uuid4())
    await client.put(f"/api/v1/films/{film}/rating", json={"score": 3}, headers=as_user(ALICE))
    await client.put(f"/api/v1/users/me/bookmarks/{film}", headers=as_user(ALICE))

    # Bob's writes land on Bob's own documents, never Alice's.
    await client.put(f"/api/v1/films/{film}/rating", json={"score": 10}, headers=as_user(BOB))
    assert (
        await client.delete(f"/api/v1/users/me/bookmarks/{film}", headers=as_user(BOB))
    ).status_code == 404

    alice_view = (await client.get(f"/api/v1/films/{film}/rating", headers=as_user(ALICE))).json()
    assert alice_view["my_score"] == 3
    assert (await client.get("/api/v1/users/me/bookmarks", headers=as_user(ALICE))).json()[
        "total"
    ] == 1
    assert (await client.get(f"/api/v1/films/{film}/rating")).status_code == 401


async def test_the_summary_refuses_a_malformed_film_id_with_the_field(
    client: httpx.AsyncClient, as_user: Callable[[str], dict[str, str]]
) -> None:
    response = await client.get("/api/v1/films/not-a-uuid/rating", headers=as_user(ALICE))

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "film_id"


async def test_a_user_writing_too_fast_gets_429_with_retry_after(
    mongo_settings: Settings, as_user: Callable[[str], dict[str, str]]
) -> None:
    settings = mongo_settings.replace(content_write_burst=2, content_writes_per_minute=1)
    async for client in http_client(open_content_service(settings)):
        statuses = [
            (
                await client.put(
                    f"/api/v1/users/me/bookmarks/{uuid.uuid4()}", headers=as_user(ALICE)
                )
            ).status_code
            for _ in range(3)
        ]
        refused = await client.put(
            f"/api/v1/films/{FILM}/rating", json={"score": 1}, headers=as_user(ALICE)
        )
        others = await client.put(
            f"/api/v1/users/me/bookmarks/{uuid.uuid4()}", headers=as_user(BOB)
        )
        reads = await client.get("/api/v1/users/me/bookmarks", headers=as_user(ALICE))

    assert statuses == [201, 201, 429]
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert others.status_code == 201
    assert reads.status_code == 200


@pytest.mark.parametrize(
    "position",
    [["k", 2**63, "0" * 24], ["k", -(2**63) - 1, "0" * 24], ["f", "0" * 24, -1], ["k", 1.5, "x"]],
    ids=["over-int64", "under-int64", "negative-offset", "float-score"],
)
async def test_a_cursor_holding_what_the_store_cannot_is_422(
    client: httpx.AsyncClient, as_user: Callable[[str], dict[str, str]], position: list[object]
) -> None:
    cursor = base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")

    response = await client.get(
        f"/api/v1/films/{FILM}/reviews",
        params={"sort": "score", "cursor": cursor},
        headers=as_user(ALICE),
    )

    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "cursor"


async def test_forty_voters_at_once_on_one_review_leave_exact_counts(
    client: httpx.AsyncClient, as_user: Callable[[str], dict[str, str]]
) -> None:
    review = (
        await client.post(
            f"/api/v1/films/{uuid.uuid4()}/reviews", json={"text": TEXT}, headers=as_user(BOB)
        )
    ).json()
    vote = f"/api/v1/reviews/{review['id']}/vote"
    voters = [str(uuid.uuid4()) for _ in range(40)]

    answers = await asyncio.gather(
        *(
            client.put(vote, json={"value": "like" if n % 4 else "dislike"}, headers=as_user(v))
            for n, v in enumerate(voters)
        )
    )

    assert [a.status_code for a in answers] == [200] * 40
    final = (await client.get(f"/api/v1/reviews/{review['id']}", headers=as_user(BOB))).json()
    assert (final["likes"], final["dislikes"], final["score"]) == (30, 10, 20)

"""The content rules: counter moves as pure functions, and the service's rules
(ownership, one review per film, exact counters) over in-memory stores."""

from __future__ import annotations

import uuid

import pytest

from tests.unit.fakes.content import FakeAccounts, fake_stores
from ugc.auth import AccountErased, Principal
from ugc.content.errors import AlreadyExists, NotFound, NotYours
from ugc.content.models import ReviewIn, ReviewPatch, ReviewSort, VoteValue
from ugc.content.rules import RatingMove, VoteMove, ensure_author, rating_move, vote_move
from ugc.content.service import ContentService

pytestmark = pytest.mark.unit

FILM = uuid.UUID("6b0b7e92-07e4-48ad-b93c-808a0d3c1f2e")
OTHER_FILM = uuid.UUID("0b7e926b-07e4-48ad-b93c-808a0d3c1f2e")
ALICE, BOB, CAROL = "alice", "bob", "carol"
READER = Principal(user_id="dave", roles=frozenset())
TEXT = "A film worth every minute of it."


@pytest.fixture
def content() -> ContentService:
    return ContentService(fake_stores())


@pytest.mark.parametrize(
    ("before", "after", "move"),
    [
        (None, 7, RatingMove(count=1, total=7, distribution={7: 1})),
        (7, 3, RatingMove(count=0, total=-4, distribution={7: -1, 3: 1})),
        (3, 3, RatingMove(count=0, total=0, distribution={})),
        (3, None, RatingMove(count=-1, total=-3, distribution={3: -1})),
        (0, 10, RatingMove(count=0, total=10, distribution={0: -1, 10: 1})),
    ],
)
def test_a_rating_change_moves_the_summary(
    before: int | None, after: int | None, move: RatingMove
) -> None:
    assert rating_move(before, after) == move


@pytest.mark.parametrize(
    ("before", "after", "move"),
    [
        (0, 1, VoteMove(likes=1, dislikes=0, score=1)),
        (1, -1, VoteMove(likes=-1, dislikes=1, score=-2)),
        (-1, 0, VoteMove(likes=0, dislikes=-1, score=1)),
        (1, 1, VoteMove(likes=0, dislikes=0, score=0)),
    ],
)
def test_a_vote_change_moves_the_review(before: int, after: int, move: VoteMove) -> None:
    assert vote_move(before, after) == move


def test_only_the_author_passes() -> None:
    ensure_author(ALICE, ALICE)
    with pytest.raises(NotYours):
        ensure_author(ALICE, BOB)


async def test_the_summary_follows_every_rating(content: ContentService) -> None:
    await content.rate(user_id=ALICE, film_id=FILM, score=7)
    await content.rate(user_id=BOB, film_id=FILM, score=4)
    await content.rate(user_id=ALICE, film_id=FILM, score=9)  # a change, not a second rating
    await content.rate(user_id=CAROL, film_id=OTHER_FILM, score=1)

    summary = await content.rating_summary(film_id=FILM, user_id=ALICE)
    assert (summary.count, summary.average, summary.my_score) == (2, 6.5, 9)
    assert {k: v for k, v in summary.distribution.items() if v} == {"4": 1, "9": 1}

    await content.unrate(user_id=ALICE, film_id=FILM)
    summary = await content.rating_summary(film_id=FILM, user_id=ALICE)
    assert (summary.count, summary.average, summary.my_score) == (1, 4.0, None)
    with pytest.raises(NotFound):
        await content.unrate(user_id=ALICE, film_id=FILM)
    assert (await content.my_ratings(user_id=BOB, limit=10, after=None)).total == 1


async def test_one_review_per_user_and_film(content: ContentService) -> None:
    await content.write_review(user_id=ALICE, film_id=FILM, review=ReviewIn(text=TEXT))
    with pytest.raises(AlreadyExists):
        await content.write_review(user_id=ALICE, film_id=FILM, review=ReviewIn(text=TEXT))
    await content.write_review(user_id=BOB, film_id=FILM, review=ReviewIn(text=TEXT))

    page = await content.film_reviews(film_id=FILM, sort=ReviewSort.newest, limit=10, after=None)
    assert page.total == 2


async def test_only_the_author_edits_or_deletes_a_review(content: ContentService) -> None:
    review = await content.write_review(user_id=ALICE, film_id=FILM, review=ReviewIn(text=TEXT))
    patch = ReviewPatch(text="Better the second time round.")

    with pytest.raises(NotYours):
        await content.edit_review(review_id=review.id, user_id=BOB, patch=patch)
    with pytest.raises(NotYours):
        await content.delete_review(review_id=review.id, user_id=BOB)
    assert (await content.review(review.id, reader=READER)).text == TEXT

    edited = await content.edit_review(review_id=review.id, user_id=ALICE, patch=patch)
    assert edited.text == patch.text
    await content.delete_review(review_id=review.id, user_id=ALICE)
    with pytest.raises(NotFound):
        await content.review(review.id, reader=READER)
    page = await content.film_reviews(film_id=FILM, sort=ReviewSort.newest, limit=10, after=None)
    assert page.total == 0


async def test_votes_count_once_per_voter(content: ContentService) -> None:
    review = await content.write_review(user_id=ALICE, film_id=FILM, review=ReviewIn(text=TEXT))

    await content.vote(review_id=review.id, user_id=BOB, value=VoteValue.like)
    await content.vote(review_id=review.id, user_id=BOB, value=VoteValue.like)  # again: no change
    await content.vote(review_id=review.id, user_id=CAROL, value=VoteValue.like)
    changed = await content.vote(review_id=review.id, user_id=BOB, value=VoteValue.dislike)
    assert (changed.likes, changed.dislikes, changed.score) == (1, 1, 0)

    withdrawn = await content.vote(review_id=review.id, user_id=CAROL, value=None)
    assert (withdrawn.likes, withdrawn.dislikes, withdrawn.score) == (0, 1, -1)
    with pytest.raises(NotFound):
        await content.vote(review_id="f" * 24, user_id=BOB, value=VoteValue.like)


async def test_the_authors_score_shows_beside_the_review(content: ContentService) -> None:
    review = await content.write_review(user_id=ALICE, film_id=FILM, review=ReviewIn(text=TEXT))
    assert review.author_score is None

    await content.rate(user_id=ALICE, film_id=FILM, score=8)
    assert (await content.review(review.id, reader=READER)).author_score == 8
    await content.unrate(user_id=ALICE, film_id=FILM)
    assert (await content.review(review.id, reader=READER)).author_score is None


async def test_bookmarking_twice_is_harmless(content: ContentService) -> None:
    first, made = await content.bookmark(user_id=ALICE, film_id=FILM)
    again, made_again = await content.bookmark(user_id=ALICE, film_id=FILM)
    assert (made, made_again) == (True, False)
    assert again.created_at == first.created_at
    assert (await content.my_bookmarks(user_id=ALICE, limit=10, after=None)).total == 1

    await content.unbookmark(user_id=ALICE, film_id=FILM)
    with pytest.raises(NotFound):
        await content.unbookmark(user_id=ALICE, film_id=FILM)
    assert (await content.my_bookmarks(user_id=ALICE, limit=10, after=None)).total == 0


async def test_an_account_whose_erasure_was_asked_for_writes_nothing_more(
    content: ContentService,
) -> None:
    await content.check_writer(ALICE)  # nobody erased yet
    accounts = content.stores.accounts
    assert isinstance(accounts, FakeAccounts)
    accounts.erasures.add(ALICE)

    with pytest.raises(AccountErased, match="erased"):
        await content.check_writer(ALICE)
    await content.check_writer(BOB)

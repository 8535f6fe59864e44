"""The one table from domain errors to answers: every kind, every package's
subclass of it, and what stays out of the answer."""

from __future__ import annotations

import pytest

from ugc import errors
from ugc.content.errors import AlreadyExists, NotYours, StoreUnavailable
from ugc.errors import InvalidCursor
from ugc.events.errors import BodyTooLarge, NoValidEvent, PublishUnavailable
from ugc.problems import STATUS, UNEXPECTED, ProblemRegistry
from ugc.warehouse.sink import RowsRefused, WarehouseUnavailable

pytestmark = pytest.mark.unit


@pytest.fixture
def registry() -> ProblemRegistry:
    return ProblemRegistry(retry_after_s=7, service="test")


@pytest.mark.parametrize(("kind", "status"), list(STATUS.items()), ids=str)
def test_every_kind_has_its_status(
    registry: ProblemRegistry, kind: type[errors.UgcError], status: int
) -> None:
    error = (
        kind(0.5, "things")  # type: ignore[call-arg]
        if kind is errors.OverQuota
        else kind("Something a person can act on.")
    )
    assert registry.answer(error, "test").status == status


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (AlreadyExists("You have reviewed this film already."), 409),
        (NotYours("Only the author may change or delete a review."), 403),
        (InvalidCursor("The cursor is not one this API made."), 422),
        (BodyTooLarge("The request body is over the limit of 10 bytes."), 413),
        (NoValidEvent([{"index": 0, "field": "type", "reason": "unknown"}]), 422),
    ],
)
def test_a_package_error_answers_as_its_kind(
    registry: ProblemRegistry, error: errors.UgcError, status: int
) -> None:
    problem = registry.answer(error, "test")

    assert (problem.status, problem.detail) == (status, str(error))


@pytest.mark.parametrize(
    "error",
    [
        StoreUnavailable("The content database did not answer in time; retry shortly."),
        PublishUnavailable("The event broker did not acknowledge in time; retry."),
        errors.Unavailable("Analytics are unavailable right now; retry shortly."),
    ],
)
def test_every_unavailable_is_a_503_with_retry_after(
    registry: ProblemRegistry, error: errors.Unavailable
) -> None:
    problem = registry.answer(error, "test")

    assert problem.status == 503
    assert problem.headers["Retry-After"] == "7"


def test_an_unavailable_may_say_its_own_wait(registry: ProblemRegistry) -> None:
    problem = registry.answer(errors.Unavailable("Later.", retry_after_s=30), "test")

    assert problem.headers["Retry-After"] == "30"


def test_a_warehouse_outage_is_unavailable_and_a_refused_query_is_ours(
    registry: ProblemRegistry,
) -> None:
    assert isinstance(WarehouseUnavailable("Code: 210. Connection refused"), errors.Unavailable)
    # ClickHouse refusing a query the service wrote is a bug here: a 500, never its text.
    problem = registry.answer(RowsRefused("Code: 62. Syntax error"), "test")
    assert (problem.status, problem.detail) == (500, UNEXPECTED)


def test_invalid_lists_its_fields_and_unauthenticated_challenges(
    registry: ProblemRegistry,
) -> None:
    invalid = registry.answer(errors.Invalid.field("cursor", "not one of ours"), "test")
    assert invalid.errors == [{"field": "cursor", "reason": "not one of ours"}]

    refused = registry.answer(errors.Unauthenticated("The access token has expired."), "test")
    assert refused.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')


def test_an_error_outside_the_kinds_is_a_logged_500(registry: ProblemRegistry) -> None:
    problem = registry.answer(RuntimeError("internal detail"), "test")

    assert (problem.status, problem.detail) == (500, UNEXPECTED)

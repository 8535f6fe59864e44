"""GET /api/v1/films/{film_id}/rating straight on ASGI: the content API's hottest
read. The same store call as the framework route would make, without the
framework's per-request machinery; the route stays declared in the app for
its OpenAPI entry and for the other methods of the path."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from starlette.types import Receive, Scope

from ugc.auth import TokenVerifier
from ugc.content.errors import ContentError
from ugc.content.problems import content_problem
from ugc.content.store.ratings import RatingStore
from ugc.problems import Problem
from ugc.web import DirectEndpoint, request_headers

SUMMARY_PATH = "/api/v1/films/{film_id}/rating"
_AUTHORIZATION = frozenset({b"authorization"})


@dataclass(slots=True)
class RatingSummaryEndpoint(DirectEndpoint):
    verifier: TokenVerifier
    ratings: RatingStore | None = None  # set by the app's lifespan

    async def handle(self, scope: Scope, receive: Receive) -> tuple[int, bytes]:
        del receive
        principal = self.verifier.principal(
            request_headers(scope, _AUTHORIZATION).get(b"authorization")
        )
        scope["ugc.user_id"] = principal.user_id
        try:
            film_id = UUID(scope["path_params"]["film_id"])
        except ValueError:
            raise Problem(
                422,
                "The request has invalid fields; see `errors`.",
                errors=[{"field": "film_id", "reason": "Input should be a valid UUID"}],
            ) from None
        assert self.ratings is not None, "the lifespan sets the store"
        summary = await self.ratings.summary(film_id=film_id, user_id=principal.user_id)
        return 200, summary.__pydantic_serializer__.to_json(summary)

    def problem_for(self, exc: Exception) -> Problem | None:
        return content_problem(exc) if isinstance(exc, ContentError) else None

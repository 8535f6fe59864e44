"""What ugc keeps in an ASGI request's scope, each under one name.

Several layers meet in a request's scope: routing says which route it took, the
authentication who asked, the HTTP protocol how the whole answer may leave, and
the observer reads them for the metrics and the access log. The keys are written
here once so that a writer and its readers cannot drift apart.
"""

from __future__ import annotations

# The route template the request matched (a direct route, or "(preflight)").
ROUTE = "ugc.route"
# The caller's user id, once the token is verified.
USER_ID = "ugc.user_id"
# Headers every answer to this request carries (the request id, CORS).
EXTRA_HEADERS = "ugc.headers"
# The guarded connection's `OneWrite`, for handlers that answer in one write.
WHOLE_RESPONSE = "ugc.whole_response"

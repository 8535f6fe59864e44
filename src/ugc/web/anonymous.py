"""The in-flight budget of strangers: requests with a body and no credential in
their headers (a beacon carries its token in its body) are worked on before anyone
knows who sent them, so they are held apart from authenticated work: they never
count toward `max_in_flight`, and each client address may have at most
`per_client` of them in flight; past that, a new one is refused at once.

The address is the connection's peer: behind a proxy (nginx) that is the proxy,
so there the bound is the proxy's share, and the proxy bounds each client
(`limit_conn`)."""

from __future__ import annotations

from collections import Counter


class AnonymousBudget:
    def __init__(self, *, per_client: int) -> None:
        self.per_client = per_client
        self._by_client: Counter[str] = Counter()
        self.total = 0

    def admit(self, client: str) -> bool:
        """Count one more request of `client` in flight, unless it has its share."""
        if self._by_client[client] >= self.per_client:
            return False
        self._by_client[client] += 1
        self.total += 1
        return True

    def release(self, client: str) -> None:
        self.total -= 1
        left = self._by_client[client] - 1
        if left:
            self._by_client[client] = left
        else:
            del self._by_client[client]  # an address gone leaves nothing behind


# The methods whose requests may bring a body: what a stranger can make cost.
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_BODY_METHODS = frozenset(method.encode() for method in BODY_METHODS)  # as the parser says


def is_stranger(method: bytes, headers: list[tuple[bytes, bytes]]) -> bool:
    """A request that may bring a body, with no credential in its headers: what
    can be made to cost before anyone knows who sent it. Requests without a body
    stay in the ordinary budget; they hold a slot only as long as the answer takes."""
    return method in _BODY_METHODS and not any(name == b"authorization" for name, _ in headers)

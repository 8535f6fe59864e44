"""The seed's published figures (../shared/seed/NOTES.md), beside ours in the report.

Kept as published: ClickHouse 20.4 and Vertica single nodes in Docker, times in
seconds; MongoDB (two shards) and PostgreSQL, means of 100 repetitions in ms.
"""

from __future__ import annotations

EVENTS_SYSTEMS = ("ClickHouse 20.4", "Vertica")
# 10,000,000 rows in INSERTs of 1,000, seconds.
EVENTS_INSERT_S = {"ClickHouse 20.4": 375.8, "Vertica": 972.6}
# Per query, (ClickHouse, Vertica), and the seed's note of what was timed.
EVENTS_QUERIES: dict[str, tuple[float, float, str]] = {
    "point select by user": (45.2, 6.2, "s for 100 selects, 10M rows"),
    "average position per film": (0.197, 0.053, "s, 100,000 rows"),
    "max position, user and film": (0.0061, 0.0101, "s, 100,000 rows"),
    "distinct viewers per film": (0.178, 0.092, "s, 100,000 rows"),
    "distinct films per user": (0.0066, 0.0139, "s, 100,000 rows"),
}
CONTENT_SYSTEMS = ("MongoDB, 2 shards", "PostgreSQL")
CONTENT_QUERIES_MS: dict[str, tuple[float, float]] = {
    "liked films of a user": (3.74, 8.08),
    "ratings of a film": (28.42, 8.35),
    "bookmarks of a user": (3.35, 7.79),
    "average rating of a film": (24.55, 8.43),
}
READ_RULE_MS = 200.0  # the seed's requirement: reads within 200 ms

"""The content repository's tables on PostgreSQL: what MongoDB's collections hold,
as rows, with the indexes the same pages need and the same counters."""

from __future__ import annotations

TABLES = """
CREATE TABLE ratings (
    id bigserial PRIMARY KEY, user_id text NOT NULL, film_id uuid NOT NULL,
    score smallint NOT NULL, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL
);
CREATE TABLE reviews (
    id bigserial PRIMARY KEY, film_id uuid NOT NULL, user_id text NOT NULL, text text NOT NULL,
    spoiler boolean NOT NULL, likes integer NOT NULL, dislikes integer NOT NULL,
    score integer NOT NULL, author_score smallint,
    created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL
);
CREATE TABLE review_votes (
    review_id bigint NOT NULL, user_id text NOT NULL, value smallint NOT NULL
);
CREATE TABLE review_rankings (
    id bigserial PRIMARY KEY, film_id uuid NOT NULL, ids bigint[] NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE bookmarks (
    id bigserial PRIMARY KEY, user_id text NOT NULL, film_id uuid NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE TABLE film_stats (
    film_id uuid PRIMARY KEY, count integer NOT NULL DEFAULT 0, sum bigint NOT NULL DEFAULT 0,
    dist integer[] NOT NULL DEFAULT array_fill(0, ARRAY[11]), reviews integer NOT NULL DEFAULT 0
);
CREATE TABLE user_stats (
    user_id text PRIMARY KEY, ratings integer NOT NULL DEFAULT 0,
    bookmarks integer NOT NULL DEFAULT 0
);
"""

# Built after the bulk load, as PostgreSQL loads are done.
INDEXES = """
CREATE UNIQUE INDEX ratings_user_film ON ratings (user_id, film_id);
CREATE INDEX ratings_user_newest ON ratings (user_id, id DESC);
CREATE INDEX ratings_film ON ratings (film_id);
CREATE UNIQUE INDEX reviews_film_user ON reviews (film_id, user_id);
CREATE INDEX reviews_film_newest ON reviews (film_id, id DESC);
CREATE INDEX reviews_film_score ON reviews (film_id, score DESC, id DESC);
ALTER TABLE review_votes ADD PRIMARY KEY (review_id, user_id),
    ADD FOREIGN KEY (review_id) REFERENCES reviews ON DELETE CASCADE;
CREATE INDEX review_rankings_created ON review_rankings (created_at);
CREATE UNIQUE INDEX bookmarks_user_film ON bookmarks (user_id, film_id);
CREATE INDEX bookmarks_user_newest ON bookmarks (user_id, id DESC);
"""

_DIST = ", ".join(f"count(*) FILTER (WHERE score = {s})" for s in range(11))

# The counters, from the rows loaded (MongoDB's import computes them in Python:
# agreeing answers check both).
COUNTERS = f"""
SELECT setval(pg_get_serial_sequence('reviews', 'id'), (SELECT max(id) FROM reviews));
UPDATE reviews SET author_score = ratings.score FROM ratings
    WHERE ratings.user_id = reviews.user_id AND ratings.film_id = reviews.film_id;
UPDATE reviews SET likes = v.likes, dislikes = v.dislikes, score = v.likes - v.dislikes
    FROM (SELECT review_id, count(*) FILTER (WHERE value > 0) AS likes,
                 count(*) FILTER (WHERE value < 0) AS dislikes
          FROM review_votes GROUP BY review_id) AS v
    WHERE reviews.id = v.review_id;
INSERT INTO film_stats (film_id, count, sum, dist)
    SELECT film_id, count(*), sum(score), ARRAY[{_DIST}]::integer[] FROM ratings GROUP BY film_id;
INSERT INTO film_stats (film_id, reviews)
    SELECT film_id, count(*) FROM reviews GROUP BY film_id
    ON CONFLICT (film_id) DO UPDATE SET reviews = EXCLUDED.reviews;
INSERT INTO user_stats (user_id, ratings)
    SELECT user_id, count(*) FROM ratings GROUP BY user_id;
INSERT INTO user_stats (user_id, bookmarks)
    SELECT user_id, count(*) FROM bookmarks GROUP BY user_id
    ON CONFLICT (user_id) DO UPDATE SET bookmarks = EXCLUDED.bookmarks;
VACUUM ANALYZE;
"""

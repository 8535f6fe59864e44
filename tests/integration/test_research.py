"""`ugc research` against the real local servers: every store answers every query,
and all of them give the same answers (they agree on the data, not only on time).

Needs a PostgreSQL server (UGC_RESEARCH_POSTGRES_URL, or the one on 127.0.0.1:5432):
skipped, saying so, where none answers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ugc.research.content.store import QUERIES as CONTENT_QUERIES
from ugc.research.events.store import QUERIES as EVENT_QUERIES
from ugc.research.postgres import DEFAULT_URL

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]
POSTGRES_URL = os.environ.get("UGC_RESEARCH_POSTGRES_URL", DEFAULT_URL)


@pytest.fixture(scope="module")
def postgres_url() -> str:
    psycopg = pytest.importorskip("psycopg", reason="the research extra (make install) is missing")
    try:
        psycopg.connect(POSTGRES_URL, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        pytest.skip(f"research skipped: no PostgreSQL server at {POSTGRES_URL} ({exc})")
    return POSTGRES_URL


def research(study: str, tmp_path: Path, postgres_url: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "ugc", "research", study, "--quick", "--postgres-url", postgres_url,
         "--data-dir", str(tmp_path / "data"), "--out", str(tmp_path / "results")],
        capture_output=True, text=True, timeout=280, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "every store gave the same answer to every query" in done.stderr
    found: dict[str, Any] = json.loads((tmp_path / "results" / f"{study}.json").read_text())
    leftovers = [p.name for p in (tmp_path / "data" / "research").iterdir() if p.is_dir()]
    assert leftovers == [], "the stores' files are removed afterwards"
    return found


def timed_everything(engine: dict[str, Any], queries: tuple[str, ...], phase: str) -> None:
    for query in queries:
        timing = engine[phase][query]
        assert timing["n"] >= 10, query
        assert 0 < timing["p50_ms"] <= timing["p95_ms"] <= timing["p99_ms"], query


def test_events_in_three_stores_agree(tmp_path: Path, postgres_url: str) -> None:
    found = research("events", tmp_path, postgres_url)
    assert set(found["engines"]) == {"ClickHouse", "PostgreSQL", "DuckDB"}
    assert found["agree"] == dict.fromkeys(EVENT_QUERIES, True)
    answers = found["answers"]["ClickHouse"]
    # Agreement on real answers, not on empty ones.
    assert answers["point select by user"]["rows"] > 0
    assert answers["distinct viewers per film"] > 0
    assert answers["film stats (30 days)"]["viewers"] > 0
    assert len(answers["top films (30 days)"]["viewers"]) == 10
    assert answers["resume points of a user"]
    for engine in found["engines"].values():
        timed_everything(engine, EVENT_QUERIES, "queries")
        timed_everything(engine["under_inserts"], EVENT_QUERIES, "queries")
        assert engine["under_inserts"]["achieved_rows_per_s"] > 0
        assert engine["inserts"]["fast_path"]["rows"] == found["plan"]["rows"]
        assert engine["server"]["version"]
    assert found["machine"]["cores"] >= 1


def test_content_in_two_stores_agrees(tmp_path: Path, postgres_url: str) -> None:
    found = research("content", tmp_path, postgres_url)
    assert set(found["engines"]) == {"MongoDB", "PostgreSQL"}
    assert found["agree"] == dict.fromkeys(CONTENT_QUERIES, True)
    answers = found["answers"]["MongoDB"]
    assert any(page["items"] for page in answers["liked films of a user"])
    assert any(page["items"] for page in answers["reviews of a film, by score"])
    # Votes were imported: some review on the first pages has likes or dislikes.
    assert any(
        likes or dislikes
        for page in answers["reviews of a film, by score"]
        for _, _, likes, dislikes, _, _ in page["items"]
    )
    for engine in found["engines"].values():
        timed_everything(engine, CONTENT_QUERIES, "queries")
        assert engine["read_your_write"]["not_read_back"] == 0
        mixed = engine["mixed"]
        assert mixed["errors"] == {}
        assert mixed["reads"]["n"] > 0
        assert mixed["writes"]["n"] > 0
        assert mixed["counters_exact"]["films_checked"] > 0
        assert mixed["counters_exact"]["wrong"] == 0

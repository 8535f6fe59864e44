"""`ugc dev` keeps what it acknowledged: across a plain restart, and when its
whole process group is killed right after a burst. Every acknowledged event is
in ClickHouse exactly once afterwards."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import TEST_SECRET
from ugc.auth import issue_token, load_keys
from ugc.devstack.processes import ManagedProcess, free_port, port_open, wait_until
from ugc.settings import Settings

pytestmark = pytest.mark.integration

VIEWER = str(uuid.uuid4())
_SERVERS = ("KAFKA", "MONGO", "OBJECT_STORE")
START_S = 90.0
LOADED_S = 60.0
ROW = "/api/v1/analytics/users/me/continue-watching"


class Dev:
    """`ugc dev` on one data directory and fixed ports, started and stopped at will."""

    def __init__(self, workdir: Path, *, ephemeral: bool = False) -> None:
        self.ephemeral = ephemeral
        self.data = workdir / "data"
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "UGC_ENVIRONMENT": "test",
            "UGC_JWT_SECRET": TEST_SECRET,
            "UGC_DATA_DIR": str(self.data),
            "UGC_DEV_KAFKA_PORT": str(free_port()),
            "UGC_DEV_MONGO_PORT": str(free_port()),
            "UGC_DEV_OBJECT_STORE_PORT": str(free_port()),
        }
        self.log = workdir / "ugc-dev.log"
        self.process: ManagedProcess | None = None
        keys = load_keys(Settings(_env_file=None, data_dir=self.data, jwt_secret=TEST_SECRET))  # type: ignore[call-arg, arg-type]
        self.keys = keys
        self.auth = self.auth_of(VIEWER)

    def auth_of(self, subject: str) -> dict[str, str]:
        token = issue_token(self.keys, subject=subject, roles=[], ttl_s=3600)
        return {"Authorization": f"Bearer {token}"}

    def start(self) -> None:
        argv = [sys.executable, "-m", "ugc", "dev", "--port", str(self.port)]
        argv += ["--ephemeral"] if self.ephemeral else []
        self.process = ManagedProcess("ugc-dev", argv, self.log, env=self.env)
        self.process.start()
        wait_until(
            lambda: self.process is not None and self._ready(), timeout=START_S, what="ugc dev"
        )

    def _ready(self) -> bool:
        assert self.process is not None
        self.process.check_alive()
        try:
            return httpx.get(f"{self.base}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:  # Ctrl-C's SIGINT and the SIGTERM a supervisor sends end alike
        if self.process is not None:
            self.process.stop(timeout=60)
            self._servers_gone()

    def _servers_gone(self) -> None:
        """Every port free again: the servers ugc dev started have exited too."""
        ports = [self.port] + [int(self.env[f"UGC_DEV_{part}_PORT"]) for part in _SERVERS]
        wait_until(lambda: not any(port_open("127.0.0.1", p) for p in ports), timeout=60,
                   what="the servers' ports")  # fmt: skip

    def kill(self) -> None:
        """SIGKILL to ugc dev and to each server it started (each in a group of its
        own), all at once: nothing gets to flush or say goodbye."""
        assert self.process is not None
        assert self.process.pid is not None
        pid = self.process.pid
        children = [
            int(child)
            for task in Path(f"/proc/{pid}/task").iterdir()
            for child in (task / "children").read_text().split()
        ]
        for group in (pid, *children):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
        self.process.kill()
        self._servers_gone()

    def films_watched(self) -> int:
        path = f"{self.base}/api/v1/analytics/users/me/films/count"
        answer = httpx.get(path, headers=self.auth, timeout=5)
        answer.raise_for_status()
        films: int = answer.json()["films"]
        return films

    def continue_watching(self) -> list[str]:
        answer = httpx.get(f"{self.base}{ROW}", headers=self.auth, timeout=5)
        answer.raise_for_status()
        return [item["film_id"] for item in answer.json()["items"]]

    def rows(self, viewer: str = VIEWER, *, masked_too: bool = False) -> tuple[int, int]:
        """(rows with FINAL, distinct event ids) of the viewer, read from the warehouse
        directly once `ugc dev` is stopped (chdb lets one process open it); with
        `masked_too`, rows a lightweight DELETE hid but left on disk count too."""
        setting = " SETTINGS apply_deleted_mask = 0" if masked_too else ""
        query = (
            "SELECT count(), uniqExact(event_id) FROM ugc.events FINAL "
            f"WHERE user_id = '{viewer}'{setting} FORMAT CSV"
        )
        script = (
            "import sys; from chdb import session; "
            "print(session.Session(sys.argv[1]).query(sys.argv[2]))"
        )
        out = subprocess.run(
            [sys.executable, "-c", script, str(self.data / "clickhouse"), query],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        count, distinct = out.strip().split(",")
        return int(count), int(distinct)


def plays(count: int) -> list[dict[str, Any]]:
    """Events of as many films, each with its own id."""
    return [
        {
            "type": "view_progress",
            "event_id": str(uuid.uuid4()),
            "film_id": str(uuid.uuid4()),
            "position_sec": 60.0,
        }
        for _ in range(count)
    ]


async def send(dev: Dev, events: list[dict[str, Any]], *, per_request: int) -> int:
    """Send the events concurrently; how many the platform acknowledged."""
    async with httpx.AsyncClient(base_url=dev.base, headers=dev.auth, timeout=30) as client:
        answers = await asyncio.gather(
            *(
                client.post("/api/v1/events", json={"events": events[i : i + per_request]})
                for i in range(0, len(events), per_request)
            )
        )
    acknowledged = 0
    for answer in answers:
        assert answer.status_code == 202, answer.text
        acknowledged += answer.json()["accepted"]
    return acknowledged


def loaded(dev: Dev, films: int) -> None:
    wait_until(lambda: dev.films_watched() >= films, timeout=LOADED_S, what=f"{films} films")


@pytest.fixture(params=["durable"])
def dev(tmp_path: Path, request: pytest.FixtureRequest) -> Any:
    platform = Dev(tmp_path, ephemeral=request.param == "ephemeral")
    yield platform
    platform.stop()


@pytest.mark.parametrize("dev", ["durable", "ephemeral"], indirect=True)
async def test_a_restart_keeps_every_event_and_loads_new_ones_once(dev: Dev) -> None:
    """Ephemeral too: its broker starts again at offset 0, and the new events must
    not be taken for the last run's (the loader's tokens tell the two apart)."""
    dev.start()
    assert await send(dev, plays(40), per_request=1) == 40
    loaded(dev, 40)
    dev.stop()

    dev.start()
    assert await send(dev, plays(40), per_request=1) == 40
    loaded(dev, 80)
    dev.stop()

    assert dev.rows() == (80, 80)


async def test_a_killed_process_group_keeps_every_acknowledged_event(dev: Dev) -> None:
    """Events, and a film hidden from Continue Watching (a viewer's answer too)."""
    dev.start()
    halfway = plays(1)
    halfway[0] |= {"position_sec": 500.0, "duration_sec": 1000.0}
    film = halfway[0]["film_id"]
    assert await send(dev, halfway, per_request=1) == 1
    loaded(dev, 1)
    assert dev.continue_watching() == [film]
    hidden = httpx.delete(f"{dev.base}{ROW}/{film}", headers=dev.auth, timeout=10)
    assert hidden.status_code == 204, hidden.text
    acknowledged = 1 + await send(dev, plays(500), per_request=10)
    dev.kill()  # SIGKILL to ugc dev's process group, right after the last 202

    dev.start()
    loaded(dev, acknowledged)
    assert dev.continue_watching() == []
    kept = httpx.get(
        f"{dev.base}/api/v1/analytics/users/me/films/{film}/max-position", headers=dev.auth
    )
    assert kept.json()["max_position_sec"] == 500  # the resume point is the viewer's still
    dev.stop()

    assert dev.rows() == (acknowledged, acknowledged)


async def test_an_erasure_killed_at_any_step_ends_as_one_never_interrupted(dev: Dev) -> None:
    """SIGKILL to ugc dev (the loader, the privacy worker and every server with it)
    right after the erasure was accepted, and again halfway; restarted, the erasure
    ends as one that ran alone would: nothing of the viewer, everyone else intact."""
    other = str(uuid.uuid4())
    dev.env["UGC_ERASURE_PHYSICAL_S"] = "0"
    dev.start()
    film = str(uuid.uuid4())
    mine = [e | {"film_id": film} if n % 10 == 0 else e for n, e in enumerate(plays(300))]
    assert await send(dev, mine, per_request=30) == 300
    theirs = [e | {"film_id": film} for e in plays(50)]
    async with httpx.AsyncClient(base_url=dev.base, timeout=30) as client:
        answer = await client.post(
            "/api/v1/events", json={"events": theirs}, headers=dev.auth_of(other)
        )
        assert answer.status_code == 202
        for who, score in ((dev.auth, 9), (dev.auth_of(other), 4)):
            rated = await client.put(f"/api/v1/films/{film}/rating", json={"score": score},
                                     headers=who)  # fmt: skip
            assert rated.status_code == 200, rated.text
    loaded(dev, 271)  # 270 films once, and one 30 times
    erasure = httpx.delete(f"{dev.base}/api/v1/users/me", headers=dev.auth, timeout=10)
    assert erasure.status_code == 202, erasure.text
    follow = f"{dev.base}/api/v1/privacy/erasures/{erasure.json()['id']}"
    dev.kill()  # right after the 202

    dev.start()
    wait_until(lambda: bool(_erasure(dev, follow)["stores"]) or _done(dev, follow),
               timeout=LOADED_S, what="a step of the erasure")  # fmt: skip
    if not _done(dev, follow):
        dev.kill()  # halfway
        dev.start()
    wait_until(lambda: _done(dev, follow), timeout=LOADED_S, what="the erasure")
    receipt = _erasure(dev, follow)["stores"]
    assert receipt["warehouse"]["removed"]["events"] == 300
    nothing = {"review": 0, "vote": 0, "bookmark": 0, "report": 0}
    assert receipt["content"]["removed"] == {"rating": 1} | nothing
    summary = httpx.get(f"{dev.base}/api/v1/films/{film}/rating", headers=dev.auth_of(other))
    assert (summary.json()["count"], summary.json()["average"]) == (1, 4)
    assert dev.films_watched() == 0
    late = httpx.post(f"{dev.base}/api/v1/events", json={"events": plays(1)}, headers=dev.auth)
    assert late.status_code == 403, late.text
    wait_until(lambda: bool(_erasure(dev, follow)["stores"]["warehouse"]["physical_at"]),
               timeout=LOADED_S, what="the rows gone from disk")  # fmt: skip
    dev.stop()

    assert dev.rows(masked_too=True) == (0, 0)
    assert dev.rows(other) == (50, 50)


def _erasure(dev: Dev, follow: str) -> dict[str, Any]:
    answer = httpx.get(follow, headers=dev.auth, timeout=10)
    answer.raise_for_status()
    found: dict[str, Any] = answer.json()
    return found


def _done(dev: Dev, follow: str) -> bool:
    return _erasure(dev, follow)["state"] == "done"

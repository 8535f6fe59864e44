"""What every benchmark needs: servers in child processes, wrk runs, medians, a report."""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ugc.devstack.processes import ManagedProcess, free_port, port_open, wait_until

RESULTS = Path(__file__).parent / "results"


@dataclass(frozen=True)
class WrkResult:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    non_2xx: int


def ensure_wrk() -> str:
    """wrk's path; a bench never installs anything, so without it, say how."""
    found = shutil.which("wrk")
    if not found:
        sys.exit("bench needs wrk: install it (on Debian, `apt-get install wrk`), then run again")
    return found


def _lua(
    body: bytes, headers: dict[str, str], tokens: Sequence[str], method: str, paths: Sequence[str]
) -> str:
    """A wrk script sending `body`, each request as the next of `tokens`' users and,
    when `paths` are given, to the next of them."""
    lines = [f"wrk.method = {json.dumps(method)}"]
    if body:
        lines.append(f"wrk.body = {json.dumps(body.decode())}")
    lines += [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()]
    lines.append("local tokens = {" + ",".join(json.dumps(f"Bearer {t}") for t in tokens) + "}")
    lines.append("local paths = {" + ",".join(json.dumps(p) for p in paths) + "}")
    lines.append("local i, j = 0, 0")
    lines.append("request = function()")
    lines.append("  i = i % #tokens + 1")
    lines.append('  wrk.headers["Authorization"] = tokens[i]')
    lines.append("  if #paths == 0 then return wrk.format() end")
    lines.append("  j = j % #paths + 1")
    lines.append("  return wrk.format(nil, paths[j])")
    lines.append("end")
    return "\n".join(lines) + "\n"


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    found = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if found is None:
        raise ValueError(f"wrk printed a latency this cannot read: {text!r}")
    number, unit = found.groups()
    return float(number) * _UNITS[unit]


def run_wrk(
    url: str,
    body: bytes,
    headers: dict[str, str],
    tokens: Sequence[str],
    *,
    connections: int,
    seconds: int,
    method: str = "POST",
    paths: Sequence[str] = (),
) -> WrkResult:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_lua(body, headers, tokens, method, paths))
    try:
        argv = [ensure_wrk(), "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
        argv += ["-s", script.name, url]
        out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    finally:
        os.unlink(script.name)
    try:
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
        p50 = _ms(re.search(r"^\s*50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
        p99 = _ms(re.search(r"^\s*99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    except (AttributeError, ValueError) as exc:
        raise RuntimeError(f"could not read wrk's output:\n{out}") from exc
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return WrkResult(rps, p50, p99, int(bad.group(1)) if bad else 0)


def median_of(results: Sequence[WrkResult]) -> WrkResult:
    return WrkResult(
        statistics.median(r.requests_per_s for r in results),
        statistics.median(r.p50_ms for r in results),
        statistics.median(r.p99_ms for r in results),
        sum(r.non_2xx for r in results),
    )


# Two cores: the server under test gets the first to itself; the load generator
# and the broker share the second. Same for the baseline, so ratios compare.
SERVER_CPU = 0
OTHERS_CPU = 1


def pin_self_to_other_cpu() -> None:
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {OTHERS_CPU})


@contextmanager
def http_server(name: str, argv: list[str], env: dict[str, str], log_dir: Path) -> Iterator[str]:
    """A server child process on a free port, on its own core; yields its base URL."""
    with server_process(name, argv, env, log_dir) as (url, _):
        yield url


@contextmanager
def server_process(
    name: str, argv: list[str], env: dict[str, str], log_dir: Path
) -> Iterator[tuple[str, int]]:
    """As `http_server`, yielding the process id too (for its memory)."""
    port = free_port()
    full_env = {**os.environ, **env, "UGC_PORT": str(port)}
    argv = [a.replace("{port}", str(port)) for a in argv]
    process = ManagedProcess(name, argv, log_dir / f"{name}.log", env=full_env)
    process.start()
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1 and process.pid:
        os.sched_setaffinity(process.pid, {SERVER_CPU})
    try:
        wait_until(
            lambda: process.check_alive() and port_open("127.0.0.1", port), timeout=60, what=name
        )
        time.sleep(0.5)
        assert process.pid is not None
        yield f"http://127.0.0.1:{port}", process.pid
    finally:
        process.stop()


@contextmanager
def scratch_dir(prefix: str) -> Iterator[Path]:
    """A working directory for one benchmark run, removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def save(name: str, figures: dict[str, object]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}-{time.strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps(figures, indent=2))
    return path

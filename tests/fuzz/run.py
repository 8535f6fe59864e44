"""`make fuzz`: schemathesis against the events, content and analytics APIs of a
real `ugc dev` (local broker, document store and embedded ClickHouse on free
ports), as several users, with a fixed seed and a bounded number of cases.

It fails on any 5xx, any response that does not match its documented schema or
content type, and any status the OpenAPI document does not list for the route.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from ugc.auth import issue_token, load_keys
from ugc.devstack.processes import ManagedProcess, free_port, wait_until
from ugc.settings import Settings

APIS = ("events", "content", "analytics", "privacy")
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)
SECRET = "fuzz-secret-" + "f" * 40
SEED = 20261201


def tokens(data_dir: Path, users: int) -> list[str]:
    keys = load_keys(Settings(_env_file=None, data_dir=data_dir, jwt_secret=SECRET))  # type: ignore[call-arg, arg-type]
    people = [str(uuid.UUID(int=n + 1, version=4)) for n in range(users)]
    signed = [issue_token(keys, subject=p, roles=[], ttl_s=3600) for p in people]
    # The roles too, so that the routes behind them are reached, not only refused.
    roles = [["analyst"], ["moderator"], ["privacy"]]
    return [*signed, *(issue_token(keys, subject=people[0], roles=r, ttl_s=3600) for r in roles)]


def platform(workdir: Path) -> tuple[ManagedProcess, str]:
    port = free_port()
    env = {
        **os.environ,
        "UGC_ENVIRONMENT": "test",
        "UGC_JWT_SECRET": SECRET,
        "UGC_DATA_DIR": str(workdir / "data"),
        "UGC_DEV_KAFKA_PORT": str(free_port()),
        "UGC_DEV_MONGO_PORT": str(free_port()),
        "UGC_ACCESS_LOG": "errors",
        # The write quota is tested on its own; here it would hide the logic behind 429s.
        "UGC_CONTENT_WRITE_BURST": "1000000",
        "UGC_CONTENT_WRITES_PER_MINUTE": "1000000",
    }
    argv = [sys.executable, "-m", "ugc", "dev", "--port", str(port)]
    process = ManagedProcess("ugc-dev", argv, workdir / "ugc-dev.log", env=env)
    return process, f"http://127.0.0.1:{port}"


def ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def fuzz(api: str, base: str, workdir: Path, args: argparse.Namespace, users: list[str]) -> dict:
    report = workdir / f"{api}.json"
    argv = [
        str(Path(sys.executable).with_name("st")), "run", f"{base}/openapi/{api}.json",
        "--url", base, "--checks", ",".join(CHECKS), "--seed", str(SEED),
        "--max-examples", str(args.max_examples), "--phases", "examples,coverage,fuzzing",
        "--workers", "1", "--request-timeout", "15", "--max-time", str(args.max_time),
        "--report", "json", "--report-json-path", str(report), "--no-color",
    ]  # fmt: skip
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.fuzz.hooks",
        "UGC_FUZZ_TOKENS": json.dumps(users),
        "UGC_FUZZ_SEED": str(SEED),
        "PYTHONPATH": os.pathsep.join([str(Path.cwd()), os.environ.get("PYTHONPATH", "")]),
    }
    started = time.monotonic()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    took = time.monotonic() - started
    if done.returncode != 0:
        print(done.stdout[-20_000:], done.stderr[-5_000:], sep="\n")
    found = json.loads(report.read_text()) if report.exists() else {}
    if os.environ.get("UGC_FUZZ_KEEP"):
        Path(os.environ["UGC_FUZZ_KEEP"], f"{api}.json").write_text(report.read_text())
    return {"api": api, "exit": done.returncode, "seconds": round(took), "report": found}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-examples", type=int, default=40, help="cases per operation")
    parser.add_argument("--max-time", type=int, default=90, help="seconds per API at most")
    parser.add_argument("--users", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ugc-fuzz-") as tmp:
        workdir = Path(tmp)
        process, base = platform(workdir)
        process.start()
        try:
            wait_until(lambda: process.check_alive() and ready(base), timeout=120, what="ugc dev")
            users = tokens(workdir / "data", args.users)
            results = [fuzz(api, base, workdir, args, users) for api in APIS]
        finally:
            process.stop()
        failed = [r for r in results if r["exit"] != 0]
        for result in results:
            print(summary(result))
        if failed:
            log = (workdir / "ugc-dev.log").read_text(errors="replace")
            errors = [line for line in log.splitlines() if '"log.level":"error"' in line]
            print("\n".join(errors[-20:]))
            sys.exit(f"schemathesis found problems in: {', '.join(r['api'] for r in failed)}")


def summary(result: dict) -> str:
    report = result["report"]
    cases = report.get("test_cases", {})
    operations = report.get("operations", {})
    return (
        f"{result['api']:>9}: {cases.get('generated', 0):>6} cases over "
        f"{operations.get('tested', 0)} operations in {result['seconds']} s; "
        f"{cases.get('unique_failures', 0)} failures, {len(report.get('errors', []))} errors "
        f"(exit {result['exit']})"
    )


if __name__ == "__main__":
    main()

"""Each service holds the credentials of the servers it uses and no other, each a
user with only the rights it needs: read from what Compose resolves, the grants
parsed by ClickHouse's own parser (chdb), the MongoDB users made by running the
replica-set script under node."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.deploy.test_compose_stack import Stack, named, ugc_services
from tests.deploy.tools import DEPLOY

pytestmark = pytest.mark.deploy

USERS = DEPLOY / "clickhouse" / "users.xml"
SCRIPT = DEPLOY / "mongo" / "replica-set.js"

# The user each service logs in as: None where it gets no credential at all.
CLICKHOUSE = {
    "events": None,
    "content": "reader",
    "analytics": "analytics",
    "privacy": "reader",
    "loader": "loader",
    "migrate": "ugc",
    "backup": "ugc",
}
MONGO = {
    "events": None,
    "content": "content",
    "analytics": None,
    "privacy": "privacy",
    "loader": None,
    "migrate": None,
    "backup": "backup",
}


def users_of(url: str | None) -> set[str]:
    return {urlsplit(u).username or "" for u in url.split(",")} if url else set()


def test_each_service_logs_in_as_its_own_user_or_not_at_all(stack: Stack) -> None:
    services = ugc_services(stack)
    assert set(services) == set(CLICKHOUSE)
    for name, service in services.items():
        environment = service["environment"]
        assert users_of(environment.get("UGC_CLICKHOUSE_URL")) == (
            {CLICKHOUSE[name]} if CLICKHOUSE[name] else set()
        ), name
        mongo = environment.get("UGC_MONGO_URL")
        assert (urlsplit(mongo).username if mongo else None) == MONGO[name], name
        assert not [k for k in environment if "PASSWORD" in k], name
    events = services["events"]["environment"]
    assert "UGC_MONGO_URL" not in events
    assert "UGC_CLICKHOUSE_URL" not in events


def grants() -> dict[str, list[str]]:
    root = ET.parse(USERS).getroot()
    users = root.find("users")
    assert users is not None
    return {u.tag: [q.text or "" for q in u.iter("query")] for u in users}


def test_each_clickhouse_user_has_only_the_rights_it_uses() -> None:
    assert grants() == {
        "loader": ["GRANT SELECT, INSERT, ALTER DELETE ON ugc.*", "GRANT CLUSTER ON *.*"],
        "analytics": ["GRANT SELECT ON ugc.*", "GRANT INSERT ON ugc.continue_watching_hidden"],
        "reader": ["GRANT SELECT ON ugc.*"],
    }


PARSE = """
import json, sys
import chdb
for query in json.loads(sys.argv[1]):
    try:
        print(json.dumps(str(chdb.query(f"SELECT formatQuery({query!r})", "CSV")).strip()))
    except Exception as error:
        print(json.dumps(f"error: {error}"))
"""


def clickhouse_reads(queries: list[str]) -> list[str]:
    """Each query as ClickHouse's own parser formats it (or its error), in a process
    of its own: chdb opens one data directory per process, and the tests' is open."""
    done = subprocess.run(
        [sys.executable, "-c", PARSE, json.dumps(queries)],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return [json.loads(line).strip('"') for line in done.stdout.splitlines()]


def test_every_grant_parses_as_clickhouse_reads_it() -> None:
    written = [f"{query} TO {user}" for user, queries in grants().items() for query in queries]
    wrong = "GRANT SELECT, ALTER DELETED ON ugc.* TO x"

    *parsed, refused = clickhouse_reads([*written, wrong])

    assert parsed == written
    assert refused.startswith("error:")
    assert "Syntax error" in refused


def test_every_password_a_user_reads_is_given_to_every_clickhouse_node(stack: Stack) -> None:
    variables = {p.get("from_env") for p in ET.parse(USERS).getroot().iter("password")}
    example = (DEPLOY / ".env.example").read_text()
    for name in named(stack, "clickhouse"):
        service = stack["services"][name]
        environment = service["environment"]
        assert all(environment.get(v) for v in variables), name
        mounts = {v["target"]: v["source"] for v in service["volumes"]}
        assert Path(mounts["/etc/clickhouse-server/users.d/ugc-users.xml"]) == USERS
    assert all(f"\n{v}=\n" in example for v in variables)


HARNESS = r"""
const vm = require("vm");
// node -e: the arguments follow the program's name at once.
const [script, env, existing, primary] = process.argv.slice(1).map((a, i) => i ? JSON.parse(a) : a);
const calls = [];
const known = new Set(existing);
const admin = {
  getUser: (user) => (known.has(user) ? { user } : null),
  createUser: ({ user, pwd, roles }) => {
    known.add(user);
    calls.push(["create", user, pwd, roles]);
  },
  updateUser: (user, { pwd, roles }) => calls.push(["update", user, pwd, roles]),
};
const context = {
  rs: { status: () => ({ members: [{ stateStr: "PRIMARY" }] }), initiate: () => {} },
  db: { hello: () => ({ isWritablePrimary: primary }), getSiblingDB: () => admin },
  print: (line) => calls.push(["print", line]),
  quit: (code) => { throw { quit: code }; },
  process: { env },
};
let code = 0;
try { vm.runInNewContext(require("fs").readFileSync(script, "utf8"), context); }
catch (ended) { if (ended.quit === undefined) throw ended; code = ended.quit; }
console.log(JSON.stringify({ code, calls }));
"""

PASSWORDS = {
    "MONGO_CONTENT_PASSWORD": "c-pw",
    "MONGO_PRIVACY_PASSWORD": "p-pw",
    "MONGO_BACKUP_PASSWORD": "b-pw",
    "MONGO_MONITOR_PASSWORD": "m-pw",
}


def run_script(env: dict[str, str], existing: list[str], *, primary: bool = True) -> Any:
    if shutil.which("node") is None:
        pytest.skip("node is not installed: the replica-set script is not run")
    done = subprocess.run(
        ["node", "-e", HARNESS, str(SCRIPT), json.dumps(env), json.dumps(existing),
         json.dumps(primary)],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    return json.loads(done.stdout)


def test_mongo_users_are_made_with_their_roles_and_their_passwords_set_again() -> None:
    first = run_script(PASSWORDS, [])
    assert first["code"] == 0
    made = {user: (pwd, roles) for kind, user, pwd, roles in first["calls"] if kind == "create"}
    assert made["content"] == ("c-pw", [{"role": "readWrite", "db": "ugc"}])
    assert made["privacy"] == ("p-pw", [{"role": "readWrite", "db": "ugc"}])
    assert made["monitor"] == (
        "m-pw",
        [{"role": "clusterMonitor", "db": "admin"}, {"role": "read", "db": "local"}],
    )
    backup_roles = {(r["role"], r["db"]) for r in made["backup"][1]}
    assert backup_roles == {
        ("backup", "admin"),
        ("restore", "admin"),
        ("readWrite", "ugc"),
        ("dbAdmin", "ugc"),
    }
    # A password changed in .env is set on the next run (rotation), nothing is made twice.
    rotated = run_script(PASSWORDS | {"MONGO_CONTENT_PASSWORD": "new"}, list(made))
    assert next((k, u, p) for k, u, p, _ in rotated["calls"]) == ("update", "content", "new")
    assert {call[0] for call in rotated["calls"]} == {"update"}


def test_a_missing_password_fails_the_healthcheck_naming_it_and_secondaries_write_nothing() -> None:
    missing = run_script({"MONGO_CONTENT_PASSWORD": "c-pw"}, [])
    assert missing["code"] == 1
    assert ["print", "set MONGO_PRIVACY_PASSWORD for the privacy user"] in missing["calls"]
    assert run_script(PASSWORDS, [], primary=False) == {"code": 0, "calls": []}


def test_logstash_writes_as_its_own_user_not_as_elastic(stack: Stack) -> None:
    environment = stack["services"]["logstash"]["environment"]
    assert environment["ELASTICSEARCH_USER"] == "ugc_logstash"
    assert "ELASTIC_PASSWORD" not in environment
    pipeline = (DEPLOY / "elk" / "logstash" / "pipeline" / "ugc.conf").read_text()
    assert 'user => "${ELASTICSEARCH_USER:ugc_logstash}"' in pipeline
    assert 'password => "${ELASTICSEARCH_PASSWORD}"' in pipeline
    setup = stack["services"]["elk-setup"]["environment"]
    assert setup["LOGSTASH_PASSWORD"] == environment["ELASTICSEARCH_PASSWORD"]


def test_only_a_read_only_proxy_holds_the_docker_socket(stack: Stack) -> None:
    holders = [
        name
        for name, service in stack["services"].items()
        if any(v["source"] == "/var/run/docker.sock" for v in service.get("volumes", []))
    ]
    assert holders == ["docker-socket-proxy"]
    proxy = stack["services"]["docker-socket-proxy"]["environment"]
    assert proxy == {"CONTAINERS": "1", "POST": "0"}  # the proxy's default refuses the rest
    beats = (DEPLOY / "elk" / "filebeat" / "filebeat.yml").read_text()
    assert 'host: "tcp://docker-socket-proxy:2375"' in beats
    assert "docker.sock" not in beats

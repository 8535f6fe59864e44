"""The stack as Compose resolves it comes up and keeps its data: each test is one
defect the earlier file had (issue 14), read from `docker compose config`, the
images' own conventions, and the files the services mount."""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from tests.deploy.tools import DEPLOY, ROOT
from ugc.cli import app as cli
from ugc.settings import Settings

pytestmark = pytest.mark.deploy

Stack = dict[str, Any]


def ugc_services(stack: Stack) -> dict[str, Any]:
    """The platform's processes: the ugc image, but not the alert relay."""
    return {
        n: s
        for n, s in stack["services"].items()
        if s["image"].startswith("ugc:") and s["command"][0] != "alert-relay"
    }


def test_the_alert_relay_holds_none_of_the_platforms_credentials(stack: Stack) -> None:
    relay = stack["services"]["alert-relay"]
    assert relay["command"][0] == "alert-relay"
    assert set(relay["environment"]) == {
        "UGC_HOST",
        "UGC_TELEGRAM_BOT_TOKEN",
        "UGC_TELEGRAM_CHAT_ID",
    }
    hooks = (DEPLOY / "alertmanager" / "alertmanager.yml").read_text()
    assert "http://alert-relay:9095/alerts" in hooks
    prometheus = (DEPLOY / "prometheus" / "prometheus.yml").read_text()
    assert '"alertmanager:9093"' in prometheus


def one_shot(service: dict[str, Any]) -> bool:
    """A service that runs a task and exits (`migrate`, the `backup` tool)."""
    return bool(service.get("restart") == "no")


def named(stack: Stack, prefix: str) -> list[str]:
    return sorted(n for n in stack["services"] if re.fullmatch(rf"{prefix}-\d+(-\d+)?", n))


def healthy_before(service: dict[str, Any]) -> set[str]:
    return {
        name
        for name, need in service.get("depends_on", {}).items()
        if need["condition"] == "service_healthy" and need.get("required", True)
    }


def test_every_ugc_service_runs_a_real_command_with_settings_it_accepts(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    commands = {
        c.name or (c.callback.__name__ if c.callback else "") for c in cli.registered_commands
    }
    services = ugc_services(stack)
    assert {"events", "content", "analytics", "loader", "migrate"} <= set(services)
    for name, service in services.items():
        assert service["command"][0].replace("-", "_") in {c.replace("-", "_") for c in commands}
        with monkeypatch.context() as env:
            for key, value in service["environment"].items():
                env.setenv(key, value)
            settings = Settings(_env_file=None)  # type: ignore[call-arg]
        assert settings.environment == "production", name
        if settings.clickhouse.url:
            assert len(settings.clickhouse.url.split(",")) == 4, f"{name}: every replica"


def test_mongo_healthcheck_authenticates_and_initiates_the_members_by_service_name(
    stack: Stack,
) -> None:
    members = named(stack, "mongo")
    assert len(members) == 3
    first = stack["services"][members[0]]
    check = " ".join(first["healthcheck"]["test"])
    user = first["environment"]["MONGO_INITDB_ROOT_USERNAME"]
    # mongod runs with --keyFile: without credentials rs.status() "requires authentication".
    assert f"-u {user}" in check
    assert '-p "$$MONGO_INITDB_ROOT_PASSWORD"' in check
    script = check.split()[-1]
    mounts = {v["target"]: Path(v["source"]) for v in first["volumes"] if v["type"] == "bind"}
    source = mounts[str(Path(script).parent)] / Path(script).name
    text = source.read_text()
    listed = re.search(r"const members = \[([^\]]+)\]", text)
    assert listed is not None
    assert re.findall(r'"([^"]+)"', listed.group(1)) == [f"{m}:27017" for m in members]
    replica_set = re.search(r'_id: "(\w+)"', text)
    assert replica_set is not None
    for name in members:
        command = stack["services"][name]["command"]
        assert command[command.index("--replSet") + 1] == replica_set.group(1)
    for service in ugc_services(stack).values():
        if "UGC_MONGO_URL" not in service["environment"]:
            continue
        url = urlsplit(service["environment"]["UGC_MONGO_URL"])
        assert url.netloc.split("@")[1].split(",") == [f"{m}:27017" for m in members]
        assert f"replicaSet={replica_set.group(1)}" in url.query


def test_mongo_gets_its_keyfile_owned_by_mongodb_and_readable_only_by_it(stack: Stack) -> None:
    for name in named(stack, "mongo"):
        service = stack["services"][name]
        command = service["command"]
        keyfile = command[command.index("--keyFile") + 1]
        (secret,) = [s["target"] for s in service["secrets"] if s["source"] == "mongo_keyfile"]
        script = service["entrypoint"][2]
        # uid 999 is the image's mongodb user; mongod refuses a keyfile others can read.
        assert f"install -o 999 -g 999 -m 0400 {secret} {keyfile}" in script
        assert "exec docker-entrypoint.sh" in script


def test_mongo_replica_set_script_is_valid_javascript() -> None:
    node = subprocess.run(["which", "node"], capture_output=True, check=False)
    if node.returncode:
        pytest.skip("node is not installed: the replica-set script's syntax is not checked")
    subprocess.run(["node", "--check", DEPLOY / "mongo" / "replica-set.js"], check=True)


def test_kafka_writes_its_log_inside_its_volume(stack: Stack) -> None:
    brokers = named(stack, "kafka")
    assert len(brokers) == 3
    for name in brokers:
        service = stack["services"][name]
        volumes = {v["target"] for v in service["volumes"] if v["type"] == "volume"}
        # apache/kafka writes only the properties it is given: no KAFKA_LOG_DIRS,
        # and log.dirs is /tmp/kafka-logs in the container layer.
        assert service["environment"]["KAFKA_LOG_DIRS"] in volumes, name


def test_what_uses_kafka_waits_for_every_broker_it_names(stack: Stack) -> None:
    for name, service in ugc_services(stack).items():
        bootstrap = service["environment"]["UGC_KAFKA_BOOTSTRAP"].split(",")
        hosts = {address.split(":")[0] for address in bootstrap}
        assert hosts == set(named(stack, "kafka"))
        if name in {"events", "loader"}:
            assert hosts <= healthy_before(service), name


def test_clickhouse_is_two_shards_of_two_replicas_that_log_in_to_each_other(
    stack: Stack,
) -> None:
    cluster = ET.parse(DEPLOY / "clickhouse" / "cluster.xml").getroot()
    (defined,) = list(cluster.find("remote_servers") or [])
    shards = [[r.findtext("host") for r in s.iter("replica")] for s in defined.iter("shard")]
    assert [len(s) for s in shards] == [2, 2]
    servers = named(stack, "clickhouse")
    assert sorted(h for s in shards for h in s) == servers
    for replica in defined.iter("replica"):
        password = replica.find("password")
        assert password is not None
        variable = password.get("from_env")
        for name in servers:
            environment = stack["services"][name]["environment"]
            # Distributed queries log in as this user; `default` is not there.
            assert environment["CLICKHOUSE_USER"] == replica.findtext("user")
            assert environment[variable]
    for shard_no, hosts in enumerate(shards, 1):
        for host in hosts:
            macros = stack["services"][host]["environment"]
            assert (int(macros["SHARD"]), macros["REPLICA"]) == (shard_no, host)
    keepers = [n.findtext("host") for n in cluster.iter("node")]
    assert keepers == named(stack, "clickhouse-keeper")
    assert len(keepers) == 3
    raft = ET.parse(DEPLOY / "clickhouse" / "keeper.xml").getroot()
    assert [s.findtext("hostname") for s in raft.iter("server")] == keepers
    for service in ugc_services(stack).values():
        if "UGC_CLICKHOUSE_URL" not in service["environment"]:
            continue
        urls = service["environment"]["UGC_CLICKHOUSE_URL"].split(",")
        assert sorted(urlsplit(u).hostname or "" for u in urls) == servers
        assert service["environment"]["UGC_CLICKHOUSE_CLUSTER"] == defined.tag


def test_nginx_starts_without_the_apis_and_takes_tls_files_from_the_env(
    stack: Stack, env_file: Path
) -> None:
    service = stack["services"]["nginx"]
    assert all(need["required"] is False for need in service["depends_on"].values())
    env = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
    mounts = {v["target"]: v["source"] for v in service["volumes"]}
    assert mounts["/etc/nginx/tls/cert.pem"] == env["UGC_TLS_CERT_FILE"]
    assert mounts["/etc/nginx/tls/key.pem"] == env["UGC_TLS_KEY_FILE"]
    assert {(p["target"], p["published"]) for p in service["ports"]} == {(80, "80"), (443, "443")}


def test_prometheus_scrapes_every_ugc_process_on_the_port_it_serves(stack: Stack) -> None:
    service = stack["services"]["prometheus"]
    mounts = {v["target"]: Path(v["source"]) for v in service["volumes"] if v["type"] == "bind"}
    config = yaml.safe_load((mounts["/etc/prometheus"] / "prometheus.yml").read_text())
    scraped = {
        (name, sd["port"])
        for job in config["scrape_configs"]
        for sd in job.get("dns_sd_configs", [])
        for name in sd["names"]
    }
    for name, service_ in ugc_services(stack).items():
        if one_shot(service_):
            continue
        port = 9108 if name == "loader" else int(service_["environment"].get("UGC_PORT", 8000))
        assert (name, port) in scraped, name


def test_every_long_running_ugc_service_has_a_healthcheck_on_what_it_serves(
    stack: Stack,
) -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r'^HEALTHCHECK .*CMD \["ugc", "healthcheck"\]$', dockerfile, re.M)
    for name, service in ugc_services(stack).items():
        if one_shot(service):
            assert service["healthcheck"]["disable"] is True
            continue
        test = service["healthcheck"]["test"]
        assert test[:3] == ["CMD", "ugc", "healthcheck"], name
        if name == "loader":
            assert test[3:] == ["--url", "http://127.0.0.1:9108/metrics"]


def test_elk_setup_runs_the_script_that_asks_kibana_with_credentials(stack: Stack) -> None:
    service = stack["services"]["elk-setup"]
    mounts = {v["target"]: Path(v["source"]) for v in service["volumes"]}
    script = service["entrypoint"][-1]
    assert service["entrypoint"][0] == "/bin/sh"
    source = mounts[str(Path(script).parent)] / Path(script).name
    assert source == DEPLOY / "elk" / "setup.sh"
    assert {"ELASTIC_PASSWORD", "KIBANA_PASSWORD"} <= set(service["environment"])


def test_the_notify_job_passes_without_telegram_secrets() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    notify = workflow["jobs"]["notify"]
    assert set(notify["env"].values()) == {
        "${{ secrets.TELEGRAM_BOT_TOKEN }}",
        "${{ secrets.TELEGRAM_CHAT_ID }}",
    }
    sends = [s for s in notify["steps"] if "api.telegram.org" in s.get("run", "")]
    assert [s["if"] for s in sends] == ["env.TOKEN != '' && env.CHAT != ''"]


_UNITS = {"GiB": 2**30, "MiB": 2**20, "g": 2**30, "m": 2**20, "GB": 10**9}


def sizing_table() -> tuple[dict[str, int], float]:
    """The host sizing table of docs/operations.md: each service's memory limit,
    and the total it states."""
    section = (ROOT / "docs" / "operations.md").read_text().split("## Host sizing")[1]
    section = section.split("\n## ")[0]
    limits = {}
    for names, amount, unit in re.findall(r"^\| (`.+?) \| ([\d.]+) (GiB|MiB) \|", section, re.M):
        for name in re.findall(r"`([\w-]+)`", names):
            limits[name] = int(float(amount) * _UNITS[unit])
    stated = re.search(r"add up to \*\*([\d.]+) GiB\*\*", section)
    assert stated, "the table states its total"
    return limits, float(stated.group(1))


def test_every_container_has_the_memory_limit_the_sizing_table_gives_it(stack: Stack) -> None:
    limits, total = sizing_table()
    services = stack["services"]

    assert {name: int(service["mem_limit"]) for name, service in services.items()} == limits
    each = [
        int(service["mem_limit"]) * (service.get("deploy") or {}).get("replicas", 1)
        for service in services.values()
    ]
    assert round(sum(each) / 2**30, 1) == total


def _size(flag: str, text: str, unit: str | None = None) -> int:
    """The bytes `flag` sets in `text`: its own unit suffix (-Xmx1g), or `unit`
    for a flag whose unit is its name (--wiredTigerCacheSizeGB 0.75)."""
    found = re.search(rf"{re.escape(flag)}[\s=]*([\d.]+)(g|m)?\b", text)
    assert found, f"{flag} in {text!r}"
    suffix = unit or found.group(2)
    assert suffix, f"{flag} has no unit"
    return int(float(found.group(1)) * _UNITS[suffix])


def test_every_server_is_told_its_share_of_its_limit(stack: Stack) -> None:
    services = stack["services"]

    def limit(name: str) -> int:
        return int(services[name]["mem_limit"])

    kafka = services["kafka-1"]["environment"]["KAFKA_HEAP_OPTS"]
    assert _size("-Xmx", kafka) <= limit("kafka-1") // 2
    mongo = " ".join(services["mongo-1"]["command"])
    assert _size("--wiredTigerCacheSizeGB", mongo, "GB") <= limit("mongo-1") // 2
    es = services["elasticsearch"]["environment"]["ES_JAVA_OPTS"]
    assert _size("-Xmx", es) <= limit("elasticsearch") // 2
    logstash = services["logstash"]["environment"]["LS_JAVA_OPTS"]
    assert _size("-Xmx", logstash) <= limit("logstash") // 2
    kibana = services["kibana"]["environment"]["NODE_OPTIONS"]
    assert _size("--max-old-space-size", kibana, "m") < limit("kibana")
    cluster = ET.parse(DEPLOY / "clickhouse" / "cluster.xml").getroot()
    assert float(cluster.findtext("max_server_memory_usage_to_ram_ratio") or 1) <= 0.8
    assert float(cluster.findtext("cache_size_to_ram_max_ratio") or 1) <= 0.25


def _seconds(duration: str | None) -> float:
    """Compose's normalised duration ("2m0s", "30s"), in seconds; 10 s when unset."""
    if duration is None:
        return 10.0
    parts = re.findall(r"([\d.]+)(h|m|s)", duration)
    return sum(float(n) * {"h": 3600, "m": 60, "s": 1}[u] for n, u in parts)


def test_every_container_rotates_its_log_and_the_servers_stop_cleanly(stack: Stack) -> None:
    for name, service in stack["services"].items():
        logging = service.get("logging", {})
        assert logging.get("driver") == "json-file", name
        assert {"max-size", "max-file"} <= set(logging.get("options", {})), name
    for prefix, at_least in (("kafka", 120), ("clickhouse", 120), ("mongo", 60)):
        for name in named(stack, prefix):
            assert _seconds(stack["services"][name].get("stop_grace_period")) >= at_least, name


def test_prometheus_scrapes_every_server_where_it_serves_its_metrics(stack: Stack) -> None:
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    static = {
        job["job_name"]: [t for group in job.get("static_configs", []) for t in group["targets"]]
        for job in config["scrape_configs"]
    }
    for job, xml in (("clickhouse", "cluster.xml"), ("clickhouse-keeper", "keeper.xml")):
        port = ET.parse(DEPLOY / "clickhouse" / xml).getroot().findtext("prometheus/port")
        assert static[job] == [f"{host}:{port}" for host in named(stack, job)]
    exporters = {
        "kafka": "kafka-exporter",
        "mongodb": "mongodb-exporter",
        "elasticsearch": "elasticsearch-exporter",
        "node": "node-exporter",
    }
    for job, service in exporters.items():
        (target,) = static[job]
        assert target.split(":")[0] == service
        assert service in stack["services"]
    # The exporters log in as monitoring users, never as an owner.
    mongo = urlsplit(stack["services"]["mongodb-exporter"]["environment"]["MONGODB_URI"])
    assert mongo.username == "monitor"
    assert (
        stack["services"]["elasticsearch-exporter"]["environment"]["ES_USERNAME"] == "ugc_monitor"
    )

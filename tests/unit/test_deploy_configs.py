"""The deployment files are parsed and cross-checked, not only committed."""

from __future__ import annotations

import io
import json
import logging
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from ugc.cli import app as cli
from ugc.observability.logs import configure_logging

pytestmark = pytest.mark.unit

DEPLOY = Path(__file__).parents[2] / "deploy"
ELK = DEPLOY / "elk"


def leaves(tree: dict[str, Any], prefix: str = "") -> set[str]:
    found: set[str] = set()
    for key, value in tree.items():
        name = f"{prefix}{key}"
        found |= leaves(value, f"{name}.") if isinstance(value, dict) else {name}
    return found


def mapped_fields(properties: dict[str, Any], prefix: str = "") -> set[str]:
    found: set[str] = set()
    for key, value in properties.items():
        name = f"{prefix}{key}"
        found |= mapped_fields(value["properties"], f"{name}.") if "properties" in value else {name}
    return found


def logstash_sections(text: str) -> dict[str, str]:
    """Top-level `name { ... }` blocks of a Logstash config, braces balanced."""
    text = re.sub(r"#.*", "", text)
    sections, depth, start, name = {}, 0, 0, ""
    for match in re.finditer(r"[{}]", text):
        if match.group() == "{":
            if depth == 0:
                name = text[start : match.start()].strip().split()[-1]
                start = match.end()
            depth += 1
        else:
            depth -= 1
            assert depth >= 0, "unbalanced braces"
            if depth == 0:
                sections[name] = text[start : match.start()]
                start = match.end()
    assert depth == 0, "unbalanced braces"
    return sections


def test_filebeat_ships_json_lines_to_logstash() -> None:
    config = yaml.safe_load((ELK / "filebeat" / "filebeat.yml").read_text())
    (source,) = config["filebeat.inputs"]
    assert source["type"] == "filestream"
    decode = next(
        p["decode_json_fields"] for p in source["processors"] if "decode_json_fields" in p
    )
    assert decode["fields"] == ["message"]
    assert config["output.logstash"]["hosts"] == ["logstash:5044"]


def test_logstash_reads_beats_and_writes_daily_indices_per_service() -> None:
    sections = logstash_sections((ELK / "logstash" / "pipeline" / "ugc.conf").read_text())
    assert set(sections) == {"input", "filter", "output"}
    assert re.search(r"beats\s*{\s*port\s*=>\s*5044", sections["input"])
    index = re.search(r'index\s*=>\s*"([^"]+)"', sections["output"])
    assert index is not None
    assert index.group(1) == "ugc-%{[service][name]}-%{+YYYY.MM.dd}"
    assert "manage_template => false" in sections["output"]


def test_the_index_template_maps_every_field_the_services_log() -> None:
    template = json.loads((ELK / "elasticsearch" / "index-template.json").read_text())
    assert template["index_patterns"] == ["ugc-*"]
    mapped = mapped_fields(template["template"]["mappings"]["properties"])
    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging("ugc-events")
        root.handlers[0].setStream(stream)  # type: ignore[attr-defined]
        logging.getLogger("ugc.access").info(
            "POST /api/v1/events 202",
            extra={
                "http.request.method": "POST", "url.path": "/api/v1/events",
                "http.route": "/api/v1/events", "http.response.status_code": 202,
                "event.duration": 1000, "user.id": "u", "http.request.id": "r",
            },
        )  # fmt: skip
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    written = leaves(json.loads(stream.getvalue()))
    ours = {
        f for f in written if f.split(".")[0] in {"http", "url", "user", "event", "service", "log"}
    }
    # log.origin.* is where in the code a line came from: dynamic mapping is fine.
    missing = {f for f in ours if f not in mapped and not f.startswith("log.origin.")}
    assert "http.request.id" in written
    assert missing == set()


def test_the_kibana_dashboard_references_objects_that_exist() -> None:
    objects = [
        json.loads(line) for line in (ELK / "kibana" / "dashboard.ndjson").read_text().splitlines()
    ]
    by_id = {(o["type"], o["id"]): o for o in objects}
    (pattern,) = [o for o in objects if o["type"] == "index-pattern"]
    assert pattern["attributes"]["title"] == "ugc-*"
    (dashboard,) = [o for o in objects if o["type"] == "dashboard"]
    panels = json.loads(dashboard["attributes"]["panelsJSON"])
    names = {r["name"]: r for r in dashboard["references"]}
    assert len(panels) == 4
    for panel in panels:
        ref = names[panel["panelRefName"]]
        visualization = by_id[(ref["type"], ref["id"])]
        json.loads(visualization["attributes"]["visState"])
        for inner in visualization["references"]:
            assert (inner["type"], inner["id"]) in by_id


def test_nginx_writes_json_access_logs_with_the_request_id_it_passes_on() -> None:
    config = (DEPLOY / "nginx" / "nginx.conf").read_text()
    log_format = re.search(r"log_format ugc_json escape=json\s+((?:'[^']*'\s*)+);", config)
    assert log_format is not None
    template = "".join(re.findall(r"'([^']*)'", log_format.group(1)))
    sample = re.sub(r"\$status|\$request_time", "1", template)
    record = json.loads(re.sub(r"\$\w+", "x", sample))
    assert record["http"]["request"]["id"] == "x"
    assert record["service"]["name"] == "nginx"
    assert "proxy_set_header X-Request-Id $ugc_request_id;" in config


def test_compose_runs_real_ugc_commands_and_mounts_files_that_exist() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    commands = {
        c.name or (c.callback.__name__.replace("_", "-") if c.callback else "")
        for c in cli.registered_commands
    }
    ugc_services = {
        name: s
        for name, s in compose["services"].items()
        if str(s.get("image", "")).startswith("ugc:")
    }
    assert {"events", "content", "analytics", "loader", "migrate"} <= set(ugc_services)
    for service in ugc_services.values():
        assert service["command"][0] in commands
        assert service["environment"]["UGC_ENVIRONMENT"] == "production"
    for service in compose["services"].values():
        for volume in service.get("volumes", []):
            source = str(volume).split(":")[0]
            if source.startswith("./"):
                assert (DEPLOY / source).exists(), source


def test_the_clickhouse_cluster_in_compose_is_the_one_the_schema_is_made_for() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    cluster = ET.parse(DEPLOY / "clickhouse" / "cluster.xml").getroot()
    environment = compose["x-ugc"]["environment"]
    servers = cluster.find("remote_servers")
    assert servers is not None
    (defined,) = list(servers)
    replicas = [r.findtext("host") for r in defined.iter("replica")]
    keeper = cluster.findtext("zookeeper/node/host")
    macros = cluster.find("macros")

    assert environment["UGC_CLICKHOUSE_CLUSTER"] == defined.tag
    assert set(replicas) <= set(compose["services"])
    assert keeper in compose["services"]
    assert macros is not None
    assert {m.tag for m in macros} == {"shard", "replica"}
    assert "clickhouse-1:8123" in environment["UGC_CLICKHOUSE_URL"]
    ET.parse(DEPLOY / "clickhouse" / "keeper.xml")

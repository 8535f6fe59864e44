"""The ELK files, which no tool here can run, cross-checked with what the services
log. The rest of deploy/ is run by its own tools: tests/deploy."""

from __future__ import annotations

import io
import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

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
    assert index.group(1) == "ugc-%{[@metadata][index]}-%{+YYYY.MM.dd}"
    # The service is named once: ugc-events-..., not ugc-ugc-events-...
    assert re.search(r'gsub\s*=>\s*\["\[@metadata\]\[index\]",\s*"\^ugc-"', sections["filter"])
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

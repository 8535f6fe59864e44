"""Every deploy file passes its own tool, and each tool is seen to refuse a broken
copy (so a check here can fail): Compose v2 and the Compose schema, hadolint,
actionlint and the workflow schema, `nginx -t`, promtool."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.deploy import nginx
from tests.deploy.conftest import COMPOSE, compose_config
from tests.deploy.tools import DEPLOY, ROOT, refused, run, tool

pytestmark = pytest.mark.deploy

WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
PROMETHEUS = DEPLOY / "prometheus"


def test_compose_v2_resolves_the_stack(env_file: Path) -> None:
    compose_config(env_file, "--quiet")


def test_compose_refuses_to_start_while_a_secret_is_unset(env_file: Path, tmp_path: Path) -> None:
    blank = tmp_path / ".env"
    blank.write_text(env_file.read_text().replace("CLICKHOUSE_PASSWORD=", "UNUSED="))
    printed = refused(tool("docker-compose"), "--env-file", blank, "-f", COMPOSE, "config", "-q")
    assert "CLICKHOUSE_PASSWORD" in printed


@pytest.mark.parametrize(
    ("schema", "path"),
    [("vendor.compose-spec", COMPOSE), ("vendor.github-workflows", WORKFLOW)],
)
def test_the_files_match_their_json_schemas(schema: str, path: Path, tmp_path: Path) -> None:
    checker = tool("check-jsonschema")
    run(checker, "--builtin-schema", schema, path)
    broken = tmp_path / path.name
    broken.write_text(path.read_text() + "\nnot_a_key_of_the_schema: true\n")
    refused(checker, "--builtin-schema", schema, broken)


def test_hadolint_passes_the_dockerfile(tmp_path: Path) -> None:
    run(tool("hadolint"), ROOT / "Dockerfile")
    broken = tmp_path / "Dockerfile"
    broken.write_text((ROOT / "Dockerfile").read_text().replace("USER 10001", "USER root"))
    assert "DL3002" in refused(tool("hadolint"), broken)


def test_the_image_ships_only_what_it_builds_from() -> None:
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert ignored[ignored.index("*") + 1 :][:4] == [
        "!pyproject.toml",
        "!requirements.lock",
        "!README.md",
        "!src/",
    ]


def test_actionlint_passes_the_workflow(tmp_path: Path) -> None:
    run(tool("actionlint"), WORKFLOW)
    broken = tmp_path / "ci.yml"
    broken.write_text(WORKFLOW.read_text().replace("needs: [test, image]", "needs: [tests, image]"))
    refused(tool("actionlint"), broken)


def test_nginx_accepts_the_production_config(tmp_path: Path) -> None:
    """Names it cannot resolve (the API containers) do not stop it: it asks at
    request time. A static `proxy_pass http://events:8000` would refuse to start."""
    tls = nginx.self_signed(tmp_path)
    nginx.check(nginx.with_tls(nginx.CONFIG.read_text(), tls), tmp_path / "ok")
    static = nginx.rewritten(
        nginx.with_tls(nginx.CONFIG.read_text(), tls),
        {"location = /api/v1/events { proxy_pass http://$events; }": (
            "location = /api/v1/events { proxy_pass http://events.invalid:8000; }"
        )},
    )  # fmt: skip
    directory = tmp_path / "static"
    directory.mkdir()
    (directory / "nginx.conf").write_text(static)
    printed = refused(
        tool("nginx"), "-t", "-p", directory, "-c", directory / "nginx.conf",
        "-g", nginx.globals_for(directory),
    )  # fmt: skip
    assert "host not found" in printed


def test_promtool_passes_the_prometheus_config_and_rules() -> None:
    promtool = tool("promtool")
    run(promtool, "check", "config", PROMETHEUS / "prometheus.yml")
    run(promtool, "check", "rules", PROMETHEUS / "alerts.yml")


def test_every_alert_has_a_unit_test_and_they_pass() -> None:
    import yaml  # noqa: PLC0415

    rules = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())
    alerts = {rule["alert"] for group in rules["groups"] for rule in group["rules"]}
    suite = yaml.safe_load((PROMETHEUS / "tests" / "alerts.test.yml").read_text())
    tested = {
        case["alertname"]
        for test in suite["tests"]
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    assert alerts - tested == set(), "alerts no test sees firing"
    run(tool("promtool"), "test", "rules", "alerts.test.yml", cwd=PROMETHEUS / "tests")

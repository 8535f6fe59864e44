"""deploy/elk/setup.sh, run by sh and curl against a stand-in for Elasticsearch and
Kibana that, like them with security on, answers 401 to anyone without
credentials: the retention policy, the template that uses it, the kibana_system
password and the dashboard all arrive, and a Kibana that never answers ends the
script with an error instead of a loop."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from tests.deploy.tools import DEPLOY

pytestmark = pytest.mark.deploy

ELK = DEPLOY / "elk"
PASSWORD = "elastic-pw"


class _Elastic(BaseHTTPRequestHandler):
    calls: ClassVar[list[tuple[str, str, bytes]]] = []
    kibana_up: ClassVar[bool] = True

    def _answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        expected = "Basic " + base64.b64encode(f"elastic:{PASSWORD}".encode()).decode()
        if self.headers.get("Authorization") != expected:
            status = 401
        elif self.path.startswith("/kibana/api/status") and not self.kibana_up:
            status = 503
        else:
            status = 200
            self.calls.append((self.command, self.path, body))
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    do_GET = do_PUT = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def elastic() -> Iterator[str]:
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed: the ELK setup script is not run")
    _Elastic.calls = []
    _Elastic.kibana_up = True
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Elastic)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def setup(base: str, wait_s: int) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ["PATH"],
        "ELASTICSEARCH_URL": f"{base}/es",
        "KIBANA_URL": f"{base}/kibana",
        "ELASTIC_PASSWORD": PASSWORD,
        "KIBANA_PASSWORD": "kibana-pw",
        "LOGSTASH_PASSWORD": "logstash-pw",
        "ELASTIC_MONITOR_PASSWORD": "monitor-pw",
        "ELK_DIR": str(ELK),
        "ELK_WAIT_S": str(wait_s),
    }
    return subprocess.run(
        ["sh", ELK / "setup.sh"], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_setup_installs_retention_template_password_and_dashboard(elastic: str) -> None:
    done = setup(elastic, wait_s=30)

    assert done.returncode == 0, done.stdout + done.stderr
    calls = {(method, path): body for method, path, body in _Elastic.calls}
    policy = json.loads(calls["PUT", "/es/_ilm/policy/ugc-logs"])
    assert policy["policy"]["phases"]["delete"] == {"min_age": "30d", "actions": {"delete": {}}}
    template = json.loads(calls["PUT", "/es/_index_template/ugc-logs"])
    assert template["template"]["settings"]["index.lifecycle.name"] == "ugc-logs"
    assert json.loads(calls["POST", "/es/_security/user/kibana_system/_password"]) == {
        "password": "kibana-pw"
    }
    role = json.loads(calls["PUT", "/es/_security/role/ugc_logs_writer"])
    assert role["indices"] == [
        {"names": ["ugc-*"], "privileges": ["create_doc", "create_index", "auto_configure"]}
    ]
    assert json.loads(calls["PUT", "/es/_security/user/ugc_logstash"]) == {
        "password": "logstash-pw",
        "roles": ["ugc_logs_writer"],
    }
    reader = json.loads(calls["PUT", "/es/_security/role/ugc_metrics_reader"])
    assert reader == {
        "cluster": ["monitor"],
        "indices": [{"names": ["*"], "privileges": ["monitor"]}],
    }
    assert json.loads(calls["PUT", "/es/_security/user/ugc_monitor"]) == {
        "password": "monitor-pw",
        "roles": ["ugc_metrics_reader"],
    }
    assert ("GET", "/kibana/api/status") in calls
    dashboard = calls["POST", "/kibana/api/saved_objects/_import?overwrite=true"]
    assert (ELK / "kibana" / "dashboard.ndjson").read_bytes() in dashboard


def test_setup_gives_up_with_an_error_when_kibana_never_answers(elastic: str) -> None:
    _Elastic.kibana_up = False

    done = setup(elastic, wait_s=0)

    assert done.returncode == 1
    assert "Kibana did not answer in 0s" in done.stdout + done.stderr
    assert not any("_import" in path for _, path, _ in _Elastic.calls)

"""Where a backup of the warehouse goes: a File in the folder when embedded, the
servers' backup disk otherwise, on every shard of a cluster; and in the deploy
stack that disk is one volume all ClickHouse nodes share, so every replica's
share of the parts lands in the same backup."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from ugc.backup.tables import Destination, backup_statement, restore_statement
from ugc.settings import ClickHouseSettings

pytestmark = pytest.mark.unit

DEPLOY = Path(__file__).parents[2] / "deploy"


def test_embedded_backups_go_to_a_file_in_the_folder(tmp_path: Path) -> None:
    settings = ClickHouseSettings()
    to = Destination.of(settings, tmp_path / "b'1", "b'1")
    assert to.expression == f"File('{tmp_path}/b\\'1/clickhouse')"
    assert backup_statement(settings, to) == f"BACKUP DATABASE ugc TO {to.expression}"


def test_a_cluster_is_backed_up_on_every_shard_to_the_shared_disk(tmp_path: Path) -> None:
    settings = ClickHouseSettings(url="http://ch:8123", cluster="ugc", backup_disk="backups")
    to = Destination.of(settings, tmp_path / "ugc-20261204", "ugc-20261204")
    assert backup_statement(settings, to) == (
        "BACKUP DATABASE ugc ON CLUSTER ugc TO Disk('backups', 'ugc-20261204/clickhouse')"
    )
    assert restore_statement(settings, to).startswith("RESTORE DATABASE ugc ON CLUSTER ugc FROM")


def test_every_clickhouse_node_writes_backups_to_one_shared_volume() -> None:
    config = ET.parse(DEPLOY / "clickhouse" / "cluster.xml").getroot()
    path = config.findtext("storage_configuration/disks/backups/path")
    assert path is not None
    assert config.findtext("backups/allowed_disk") == "backups"
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    nodes = {
        name: service
        for name, service in compose["services"].items()
        if name.startswith("clickhouse-0")
    }
    assert len(nodes) == 4
    mounts = {name: set(service["volumes"]) for name, service in nodes.items()}
    shared = f"clickhouse-backups:{path.rstrip('/')}"
    assert all(shared in volumes for volumes in mounts.values()), mounts
    assert "clickhouse-backups" in compose["volumes"]

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ugc.settings import Settings

pytestmark = pytest.mark.unit

REAL = {
    "kafka_bootstrap": "kafka:9092",
    "mongo_url": "mongodb://mongo:27017",
    "clickhouse_url": "http://clickhouse:8123",
}


def test_production_refuses_a_placeholder_secret() -> None:
    with pytest.raises(ValidationError, match="32"):
        Settings(_env_file=None, environment="production", jwt_secret="changeme", **REAL)  # type: ignore[call-arg, arg-type]


def test_production_names_the_servers_a_process_uses_but_lacks() -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="production",
        jwt_secret="s" * 40,  # type: ignore[arg-type]
        kafka_bootstrap="kafka:9092",
        clickhouse_url="http://clickhouse:8123",
    )
    assert settings.servers_missing("kafka") == []  # the events API needs no store
    assert settings.servers_missing("kafka", "mongo", "clickhouse") == ["UGC_MONGO_URL"]
    development = Settings(_env_file=None)  # type: ignore[call-arg]
    assert development.servers_missing("mongo", "clickhouse") == []  # `ugc dev` starts them


def test_settings_come_from_ugc_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UGC_KAFKA_TOPIC", "other")
    monkeypatch.setenv("UGC_KAFKA_IDEMPOTENCE", "false")

    settings = Settings(_env_file=None)  # type: ignore[call-arg]

    assert settings.kafka.topic == "other"
    assert settings.kafka.idempotence is False


@pytest.mark.parametrize(
    "written",
    [
        "https://cinema.example, https://*.cinema.example",
        '["https://cinema.example", "https://*.cinema.example"]',
    ],
)
def test_a_list_setting_reads_commas_or_json_even_when_optional(
    monkeypatch: pytest.MonkeyPatch, written: str
) -> None:
    monkeypatch.setenv("UGC_CORS_ORIGINS", written)

    settings = Settings(_env_file=None)  # type: ignore[call-arg]

    assert settings.http.cors_origins == ["https://cinema.example", "https://*.cinema.example"]

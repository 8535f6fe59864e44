"""All configuration, read once per process from `UGC_*` variables and `.env`.

Build `Settings()` at an entry point and pass it down; nothing below the entry
points reads the environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
KIB = 1024
MIB = 1024 * KIB


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="UGC_", env_file=".env", extra="ignore", frozen=True
    )

    environment: Literal["development", "test", "production"] = "development"
    service_name: str = "ugc"
    data_dir: Path = Path(".ugc")

    # HTTP
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)

    # Kafka. No bootstrap means `ugc dev` starts the local broker.
    kafka_bootstrap: str | None = None
    kafka_topic: str = "ugc.events.v1"
    kafka_partitions: int = Field(default=6, ge=1)
    kafka_replication: int = Field(default=1, ge=1)
    # snappy: the least CPU per batch (zstd costs ~20 us more on every small batch, the
    # common case for single events); zstd halves the bytes when the broker's disk or
    # network is what runs short. aiokafka's lz4 is level 9: several times the CPU.
    kafka_compression: Literal["none", "gzip", "lz4", "zstd", "snappy"] = "snappy"
    # How long a partition's batch waits for more events before it is sent, as
    # Kafka's linger.ms: a batch costs the API far more than an event in it.
    kafka_linger_ms: float = Field(default=1.0, ge=0, le=1000)
    # On for real Kafka; the local broker refuses idempotent producers.
    kafka_idempotence: bool = True
    # How long a request may wait for the broker before it answers 503.
    kafka_send_timeout_s: float = Field(default=2.0, gt=0)

    # MongoDB and ClickHouse. None means the embedded local servers.
    mongo_url: str | None = None
    mongo_database: str = "ugc"
    # How long a request may wait for MongoDB before it answers 503.
    mongo_timeout_s: float = Field(default=2.0, gt=0)
    # Content writes per user and API process: a burst, then this many a minute.
    content_writes_per_minute: int = Field(default=120, ge=1)
    content_write_burst: int = Field(default=30, ge=1)
    clickhouse_url: str | None = None
    clickhouse_database: str = Field(default="ugc", pattern=_IDENTIFIER)
    # Set for a ClickHouse cluster: tables become Replicated + Distributed.
    clickhouse_cluster: str | None = Field(default=None, pattern=_IDENTIFIER)
    events_ttl_days: int = Field(default=730, ge=1)

    # The loader (Kafka -> ClickHouse)
    loader_group: str = "ugc-loader"
    loader_max_rows: int = Field(default=50_000, ge=1)
    loader_max_bytes: int = Field(default=32 * MIB, ge=1024)
    loader_max_wait_s: float = Field(default=1.0, gt=0)
    loader_retry_cap_s: float = Field(default=30.0, gt=0)
    loader_session_timeout_ms: int = Field(default=10_000, ge=1000)
    dead_letter_topic: str = "ugc.events.dead-letter"

    # Analytics: the top films of these windows (days up to today) are computed in
    # the background every refresh_s and answered from memory; 0 turns that off.
    analytics_rankings_days: list[int] = Field(default=[7, 30], max_length=8)
    analytics_rankings_refresh_s: float = Field(default=60.0, ge=0)

    # Observability
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_file: Path | None = None
    # "all": a line per request; "errors": only 4xx/5xx and requests over 1 s.
    access_log: Literal["all", "errors", "off"] = "errors"
    sentry_dsn: SecretStr | None = None
    sentry_sample_rate: float = Field(default=1.0, ge=0, le=1, description="errors sent")
    sentry_traces_sample_rate: float = Field(default=0.0, ge=0, le=1)
    sentry_send_default_pii: bool = False
    release: str | None = None
    # `ugc etl` serves /metrics here (0: not at all); the APIs serve it on their own port.
    metrics_port: int = Field(default=9108, ge=0, le=65535)

    # Local platform (`ugc dev` and the test fixtures)
    dev_kafka_port: int = Field(default=9092, ge=0, le=65535)
    dev_mongo_port: int = Field(default=27017, ge=0, le=65535)

    # Auth: an HS256 shared secret or an RS256 public key (PEM text or a path).
    jwt_secret: SecretStr | None = None
    jwt_public_key: str | None = None
    jwt_user_claim: str = "sub"
    jwt_roles_claim: str = "roles"
    jwt_audience: str | None = None
    jwt_issuer: str | None = None
    jwt_leeway_s: int = Field(default=30, ge=0)

    # Event intake limits
    max_events_per_batch: int = Field(default=1000, ge=1)
    max_body_bytes: int = Field(default=1 * MIB, ge=1 * KIB)
    max_decompressed_bytes: int = Field(default=10 * MIB, ge=1 * KIB)
    max_decompression_ratio: int = Field(default=200, ge=2)
    retry_after_s: int = Field(default=2, ge=1)

    @model_validator(mode="after")
    def _production_needs_real_keys(self) -> Settings:
        if self.environment != "production":
            return self
        if self.jwt_secret is None and self.jwt_public_key is None:
            raise ValueError("production needs UGC_JWT_SECRET or UGC_JWT_PUBLIC_KEY")
        secret = self.jwt_secret.get_secret_value() if self.jwt_secret else None
        if secret is not None and (len(secret) < 32 or secret.lower() in _PLACEHOLDERS):
            raise ValueError("UGC_JWT_SECRET must be a random value of 32+ characters")
        missing = [
            name
            for name, value in (
                ("UGC_KAFKA_BOOTSTRAP", self.kafka_bootstrap),
                ("UGC_MONGO_URL", self.mongo_url),
                ("UGC_CLICKHOUSE_URL", self.clickhouse_url),
            )
            if not value
        ]
        if missing:
            raise ValueError(f"production needs real servers: set {', '.join(missing)}")
        return self

    @property
    def is_local_kafka(self) -> bool:
        return self.kafka_bootstrap is None


_PLACEHOLDERS = {"changeme", "change-me", "secret", "changethis", "example"}

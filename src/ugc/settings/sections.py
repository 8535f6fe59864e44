"""The typed sections of the settings, each read from flat `UGC_*` variables.

A section field is read from `UGC_` + the section's `PREFIX` + its name
(`KafkaSettings.bootstrap` <- `UGC_KAFKA_BOOTSTRAP`), or the name `NAMES` gives it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from ugc.settings.sharding import Epoch
from ugc.settings.sharding import parse as parse_sharding

_IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
KIB = 1024
MIB = 1024 * KIB


class Section(BaseModel):
    """A group of settings read from flat variables: `PREFIX + field`, or `NAMES`."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    PREFIX: ClassVar[str] = ""
    NAMES: ClassVar[Mapping[str, str]] = {}

    @classmethod
    def flat_names(cls) -> dict[str, str]:
        """Flat name (the variable without `UGC_`, lower case) -> field."""
        return {cls.NAMES.get(name, cls.PREFIX + name): name for name in cls.model_fields}


class HttpSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    # Seconds a client is told to wait (Retry-After) when a dependency is unavailable.
    retry_after_s: int = Field(default=2, ge=1)
    # Bodies of the content and analytics APIs (the events intake has its own limits).
    max_request_body_bytes: int = Field(default=64 * KIB, ge=1 * KIB)
    # The request line and headers together; past it, 431 before anything is parsed.
    max_header_bytes: int = Field(default=16 * KIB, ge=1 * KIB, le=1 * MIB)
    # A request's head and body must arrive within this (slow clients are cut off).
    read_timeout_s: float = Field(default=10.0, gt=0)
    # An idle keep-alive connection is closed after this.
    keep_alive_s: float = Field(default=5.0, gt=0)
    # Requests a process works on at once; past it, new ones get 503 at once
    # (health and metrics excepted) instead of queueing behind the others.
    max_in_flight: int = Field(default=512, ge=1)
    # Requests with no credential in their headers (beacons carry it in the body)
    # are held apart from that budget: at most this many in flight per client address.
    max_anonymous_per_client: int = Field(default=16, ge=1)
    # Browser origins allowed to call the APIs: exact (https://cinema.example) or
    # patterns (https://*.cinema.example, http://localhost:*). Unset: none in
    # production, any localhost and 127.0.0.1 port otherwise. `*` is refused.
    cors_origins: list[str] | None = None
    cors_max_age_s: int = Field(default=600, ge=0, le=86_400)

    @field_validator("cors_origins")
    @classmethod
    def _no_wildcard(cls, origins: list[str] | None) -> list[str] | None:
        if origins is not None and any(o.strip() == "*" for o in origins):
            raise ValueError("`*` would let any site call the APIs as its visitors; list origins")
        return origins


class KafkaSettings(Section):
    PREFIX = "kafka_"
    # None: `ugc dev` starts the local broker.
    bootstrap: str | None = None
    topic: str = "ugc.events.v1"
    # Erased users, one record each, kept forever: the intake and the loader follow it.
    suppressions_topic: str = "ugc.suppressions.v1"
    partitions: int = Field(default=6, ge=1)
    replication: int = Field(default=1, ge=1)
    # snappy: the least CPU per batch (zstd costs ~20 us more on every small batch, the
    # common case for single events); zstd halves the bytes when the broker's disk or
    # network is what runs short. aiokafka's lz4 is level 9: several times the CPU.
    compression: Literal["none", "gzip", "lz4", "zstd", "snappy"] = "snappy"
    # How long a partition's batch waits for more events before it is sent, as
    # Kafka's linger.ms: a batch costs the API far more than an event in it.
    linger_ms: float = Field(default=1.0, ge=0, le=1000)
    # On for real Kafka; the local broker refuses idempotent producers.
    idempotence: bool = True
    # How long a request may wait for the broker before it answers 503.
    send_timeout_s: float = Field(default=2.0, gt=0)


class MongoSettings(Section):
    PREFIX = "mongo_"
    # None: `ugc dev` starts the local MongoDB-protocol server.
    url: str | None = None
    database: str = "ugc"
    # How long a request may wait for MongoDB before it answers 503.
    timeout_s: float = Field(default=2.0, gt=0)


class ContentLimits(Section):
    PREFIX = "content_"
    NAMES = {
        "review_hide_after_reports": "review_hide_after_reports",
        "review_viewing_ttl_s": "review_viewing_ttl_s",
        "review_ranking_reuse_s": "review_ranking_reuse_s",
        "review_page_ttl_s": "review_page_ttl_s",
    }
    # Content writes per user and API process: a burst, then this many a minute.
    writes_per_minute: int = Field(default=120, ge=1)
    write_burst: int = Field(default=30, ge=1)
    # A review reported by this many distinct viewers is hidden until a moderator decides.
    review_hide_after_reports: int = Field(default=5, ge=1)
    # A reviewer's viewing figures are read again from the warehouse when older than this.
    review_viewing_ttl_s: float = Field(default=60.0, gt=0)
    # A film's ranked reviews (by score, by helpfulness) are frozen at most this often,
    # by whichever process asks first; first pages meanwhile walk the last ranking.
    # 0: one ranking per first page.
    review_ranking_reuse_s: float = Field(default=30.0, ge=0, le=3600)
    # A film's first review pages are kept this long by each API process; its own
    # writes to the film show at once, other processes' within it. 0: never kept.
    review_page_ttl_s: float = Field(default=5.0, ge=0, le=3600)


class ClickHouseSettings(Section):
    PREFIX = "clickhouse_"
    NAMES = {"events_ttl_days": "events_ttl_days"}
    # None: embedded chdb under the data directory.
    url: str | None = None
    database: str = Field(default="ugc", pattern=_IDENTIFIER)
    # Set for a ClickHouse cluster: tables become Replicated + Distributed.
    cluster: str | None = Field(default=None, pattern=_IDENTIFIER)
    # The cluster's shard count and its history, once a shard was added:
    # "2; 3 from 2027-01-10T00:00:00Z" (ugc.warehouse.sharding). Unset: placed by
    # cityHash64(user_id) over however many shards the cluster has.
    sharding: str | None = None
    events_ttl_days: int = Field(default=730, ge=1)
    # `ugc backup` on a server: the disk, configured on every node, the backup is
    # written to. On a cluster it must be one storage all nodes share (S3, or one
    # volume mounted on each): each replica writes only its share of the parts.
    backup_disk: str = Field(default="backups", pattern=_IDENTIFIER)

    @field_validator("sharding")
    @classmethod
    def _sharding_reads(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None  # unset, or set empty (compose passes `${VAR:-}` on)
        parse_sharding(value)  # a ShardingSpecError (a ValueError) says what is wrong
        return value

    @property
    def shard_epochs(self) -> tuple[Epoch, ...] | None:
        return parse_sharding(self.sharding) if self.sharding else None


class LoaderSettings(Section):
    PREFIX = "loader_"
    NAMES = {
        "dead_letter_topic": "dead_letter_topic",
        "dead_letter_retention_days": "dead_letter_retention_days",
    }
    group: str = "ugc-loader"
    max_rows: int = Field(default=50_000, ge=1)
    max_bytes: int = Field(default=32 * MIB, ge=1024)
    max_wait_s: float = Field(default=1.0, gt=0)
    retry_cap_s: float = Field(default=30.0, gt=0)
    session_timeout_ms: int = Field(default=10_000, ge=1000)
    dead_letter_topic: str = "ugc.events.dead-letter"
    # Dead letters wait this long for someone to fix their cause and replay them
    # (the broker's default, 7 days, is a long weekend and a holiday). Set on the
    # topic when the loader creates it, and again at every start.
    dead_letter_retention_days: int = Field(default=90, ge=1, le=3650)


class AnalyticsSettings(Section):
    PREFIX = "analytics_"
    # The top films of these windows (days up to today) are computed in the
    # background every refresh_s and answered from memory; 0 turns that off.
    rankings_days: list[int] = Field(default=[7, 30], max_length=8)
    rankings_refresh_s: float = Field(default=60.0, ge=0)


class ViewingRules(Section):
    """When a viewing is complete and what enters a viewer's rows; the rules are
    said in docs/api.md ("Viewing rules")."""

    # Past this share of the length a viewing is complete (unless the events say
    # where the end credits start: then reaching them completes it).
    watched_fraction: float = Field(default=0.9, gt=0, le=1)
    # Below this share of the length a position is no resume point, and playing
    # there after a completed viewing starts a new one.
    resume_min_fraction: float = Field(default=0.05, ge=0, lt=1)
    # A film shorter than this never enters Continue Watching.
    resume_min_length_s: float = Field(default=300.0, ge=0)
    # Films not watched for this many days drop out of Continue Watching.
    continue_watching_days: int = Field(default=112, ge=1, le=36_500)
    # A reviewer who watched at least this share of the film (or finished it) is verified.
    verified_fraction: float = Field(default=0.5, gt=0, le=1)
    # Trending: a viewer who last watched this many hours ago counts half.
    trending_half_life_h: float = Field(default=24.0, gt=0, le=24 * 365)

    @model_validator(mode="after")
    def _start_before_end(self) -> ViewingRules:
        if self.resume_min_fraction >= self.watched_fraction:
            raise ValueError("UGC_RESUME_MIN_FRACTION must be below UGC_WATCHED_FRACTION")
        return self


class PrivacySettings(Section):
    NAMES = {"erasure_physical_s": "erasure_physical_s"}
    PREFIX = "privacy_"
    # An erasure masks a viewer's warehouse rows at once; within this many seconds
    # they are rewritten out of the files on disk too.
    erasure_physical_s: int = Field(default=86_400, ge=0, le=30 * 86_400)


class IntakeLimits(Section):
    max_events_per_batch: int = Field(default=1000, ge=1)
    max_body_bytes: int = Field(default=1 * MIB, ge=1 * KIB)
    max_decompressed_bytes: int = Field(default=10 * MIB, ge=1 * KIB)
    max_decompression_ratio: int = Field(default=200, ge=2)
    # Per user and API process: a burst, then this many events a second (429 past it).
    events_per_second: float = Field(default=100.0, gt=0)
    events_burst: int = Field(default=2000, ge=1)


class JwtSettings(Section):
    PREFIX = "jwt_"
    # An HS256 shared secret or an RS256 public key (PEM text or a path).
    secret: SecretStr | None = None
    public_key: str | None = None
    user_claim: str = "sub"
    roles_claim: str = "roles"
    audience: str | None = None
    issuer: str | None = None
    leeway_s: int = Field(default=30, ge=0)
    # What a user id (the user claim) must look like: "uuid", what the platform's auth
    # service issues (normalised to lower case), or "slug", 1-128 of letters, digits
    # and . _ - @ : + (for an auth service with other ids). Anything else is a 401,
    # so no store ever sees an id it could read as another.
    subject_format: Literal["uuid", "slug"] = "uuid"


class ObservabilitySettings(Section):
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


class DevSettings(Section):
    """Ports of the local servers (`ugc dev` and the test fixtures)."""

    PREFIX = "dev_"
    kafka_port: int = Field(default=9092, ge=0, le=65535)
    mongo_port: int = Field(default=27017, ge=0, le=65535)
    # The S3-compatible store the durable local broker keeps its log in.
    object_store_port: int = Field(default=9094, ge=0, le=65535)

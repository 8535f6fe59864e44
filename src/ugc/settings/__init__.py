"""All configuration, read once per process from `UGC_*` variables and `.env`.

Build `Settings()` at an entry point and pass it down; each adapter takes the
section it needs (`settings.kafka`, `settings.jwt`, ...), nothing below the
entry points reads the environment.

The sections are typed groups, but the variables stay flat, as users' `.env`
files have them: a section field is read from `UGC_` + its section's prefix +
its name (`kafka.bootstrap` <- `UGC_KAFKA_BOOTSTRAP`) unless the section names
it otherwise. `Settings(kafka_bootstrap=...)` and `settings.replace(...)` take
the same flat names.
"""

from __future__ import annotations

from pathlib import Path
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin

import orjson
from pydantic import BaseModel, model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from ugc.settings.sections import (
    KIB,
    MIB,
    AnalyticsSettings,
    ClickHouseSettings,
    ContentLimits,
    DevSettings,
    HttpSettings,
    IntakeLimits,
    JwtSettings,
    KafkaSettings,
    LoaderSettings,
    MongoSettings,
    ObservabilitySettings,
    PrivacySettings,
    Section,
    ViewingRules,
)

__all__ = [
    "KIB",
    "MIB",
    "AnalyticsSettings",
    "ClickHouseSettings",
    "ContentLimits",
    "DevSettings",
    "HttpSettings",
    "IntakeLimits",
    "JwtSettings",
    "KafkaSettings",
    "LoaderSettings",
    "MongoSettings",
    "ObservabilitySettings",
    "PrivacySettings",
    "Section",
    "Settings",
    "ViewingRules",
]

ENV_PREFIX = "UGC_"

Server = Literal["kafka", "mongo", "clickhouse"]
SERVER_VARIABLES: dict[str, str] = {
    "kafka": "UGC_KAFKA_BOOTSTRAP",
    "mongo": "UGC_MONGO_URL",
    "clickhouse": "UGC_CLICKHOUSE_URL",
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", extra="ignore", frozen=True
    )

    environment: Literal["development", "test", "production"] = "development"
    service_name: str = "ugc"
    data_dir: Path = Path(".ugc")

    http: HttpSettings = HttpSettings()
    kafka: KafkaSettings = KafkaSettings()
    mongo: MongoSettings = MongoSettings()
    content: ContentLimits = ContentLimits()
    clickhouse: ClickHouseSettings = ClickHouseSettings()
    loader: LoaderSettings = LoaderSettings()
    analytics: AnalyticsSettings = AnalyticsSettings()
    viewing: ViewingRules = ViewingRules()
    intake: IntakeLimits = IntakeLimits()
    privacy: PrivacySettings = PrivacySettings()
    jwt: JwtSettings = JwtSettings()
    observability: ObservabilitySettings = ObservabilitySettings()
    dev: DevSettings = DevSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment wins over .env; both are read by their flat names only
        # (pydantic-settings' own sources would hand unknown names on as extras).
        sources = [s for s in (env_settings, dotenv_settings) if isinstance(s, EnvSettingsSource)]
        return (init_settings, *(_FlatSource(settings_cls, s) for s in sources))

    @model_validator(mode="before")
    @classmethod
    def _fold_flat_names(cls, data: Any) -> Any:
        """`kafka_bootstrap=...` -> `kafka={"bootstrap": ...}`; flat names win."""
        if not isinstance(data, dict):
            return data
        folded = {k: v for k, v in data.items() if k not in FLAT_NAMES}
        for section in {FLAT_NAMES[k][0] for k in data if k in FLAT_NAMES}:
            given = folded.get(section, {})
            base = given.model_dump() if isinstance(given, BaseModel) else dict(given)
            folded[section] = base
        for flat, value in data.items():
            if flat in FLAT_NAMES:
                section, field = FLAT_NAMES[flat]
                folded[section][field] = value
        return folded

    @model_validator(mode="after")
    def _production_needs_real_keys(self) -> Settings:
        if self.environment != "production":
            return self
        jwt = self.jwt
        if jwt.secret is None and jwt.public_key is None:
            raise ValueError("production needs UGC_JWT_SECRET or UGC_JWT_PUBLIC_KEY")
        secret = jwt.secret.get_secret_value() if jwt.secret else None
        if secret is not None and (len(secret) < 32 or secret.lower() in _PLACEHOLDERS):
            raise ValueError("UGC_JWT_SECRET must be a random value of 32+ characters")
        return self

    def servers_missing(self, *servers: Server) -> list[str]:
        """The variables of the servers a process uses that are unset. Outside
        production none are missing: `ugc dev` starts local ones. A process gets the
        credentials of the servers it uses only (the events API none of the stores),
        so each command names its own."""
        if self.environment != "production":
            return []
        given = {
            "kafka": self.kafka.bootstrap,
            "mongo": self.mongo.url,
            "clickhouse": self.clickhouse.url,
        }
        return [SERVER_VARIABLES[server] for server in servers if not given[server]]

    def replace(self, **flat: object) -> Settings:
        """A copy with some values changed, by their flat names, validated again."""
        unknown = set(flat) - set(FLAT_NAMES) - set(type(self).model_fields)
        if unknown:
            raise ValueError(f"no such settings: {', '.join(sorted(unknown))}")
        current = {name: getattr(self, name) for name in type(self).model_fields}
        return type(self).model_validate({**current, **flat})


class _FlatSource(PydanticBaseSettingsSource):
    """Every field of one environment source (variables or .env), by its flat name."""

    def __init__(self, settings_cls: type[BaseSettings], source: EnvSettingsSource) -> None:
        super().__init__(settings_cls)
        self._values = source.env_vars  # lower-cased names, as pydantic-settings reads them

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ reads every section at once

    def __call__(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name in self.settings_cls.model_fields:
            if name not in SECTIONS and (raw := self._read(name)) is not None:
                found[name] = raw
        for flat, (section, field) in FLAT_NAMES.items():
            if (raw := self._read(flat)) is not None:
                found.setdefault(section, {})[field] = _decoded(raw, SECTIONS[section], field)
        return found

    def _read(self, flat: str) -> str | None:
        return self._values.get((ENV_PREFIX + flat).lower())


def _decoded(raw: str, section: type[Section], field: str) -> Any:
    """A list from JSON (`[7, 30]`) or from commas (`7,30`); anything else as written."""
    annotation = section.model_fields[field].annotation
    kinds = get_args(annotation) if get_origin(annotation) in {Union, UnionType} else ()
    if list not in {get_origin(kind) for kind in (annotation, *kinds)}:
        return raw
    text = raw.strip()
    if text.startswith("["):
        return orjson.loads(text)
    return [part.strip() for part in text.split(",") if part.strip()]


# The sections, as the model declares them, and every flat name -> (section, field).
SECTIONS: dict[str, type[Section]] = {
    name: field.annotation
    for name, field in Settings.model_fields.items()
    if isinstance(field.annotation, type) and issubclass(field.annotation, Section)
}
FLAT_NAMES: dict[str, tuple[str, str]] = {
    flat: (section, field)
    for section, model in SECTIONS.items()
    for flat, field in model.flat_names().items()
}
_PLACEHOLDERS = {"changeme", "change-me", "secret", "changethis", "example"}

"""Fixtures shared by every tier: settings, keys and tokens."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from ugc.auth import KeyMaterial, issue_token, load_keys
from ugc.settings import Settings

TEST_SECRET = "test-secret-" + "x" * 40


@pytest.fixture
def base_settings(tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        data_dir=tmp_path / "data",
        jwt_secret=TEST_SECRET,  # type: ignore[arg-type]
    )


@pytest.fixture
def keys(base_settings: Settings) -> KeyMaterial:
    return load_keys(base_settings)


def user_id(name: str) -> str:
    """The user id (a UUID, as the platform's auth service issues) of a test user:
    tests name users for reading, as `alice`; a UUID stands for itself."""
    try:
        return str(uuid.UUID(name))
    except ValueError:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"ugc-test-user:{name}"))


@pytest.fixture
def token_for(keys: KeyMaterial):  # type: ignore[no-untyped-def]
    """A token for a test user by name (`user_id` of it)."""

    def make(name: str, *, roles: list[str] | None = None, ttl_s: int = 600) -> str:
        return issue_token(keys, subject=user_id(name), roles=roles or [], ttl_s=ttl_s)

    return make

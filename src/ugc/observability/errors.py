"""Sentry: on when a DSN is configured; no personal data unless asked for."""

from __future__ import annotations

import sentry_sdk

from ugc import __version__
from ugc.settings import ObservabilitySettings


def init_sentry(settings: ObservabilitySettings, *, environment: str, component: str) -> bool:
    if settings.sentry_dsn is None:
        return False
    # Personal data stays out unless asked for: the SDK's default, left untouched.
    personal = {"send_default_pii": True} if settings.sentry_send_default_pii else {}
    sentry_sdk.init(
        dsn=settings.sentry_dsn.get_secret_value(),
        environment=environment,
        release=settings.release or f"ugc@{__version__}",
        sample_rate=settings.sentry_sample_rate,
        traces_sample_rate=settings.sentry_traces_sample_rate,
        server_name=component,
        **personal,  # type: ignore[arg-type]
    )
    sentry_sdk.set_tag("component", component)
    return True

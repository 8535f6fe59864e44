"""Sentry: on when a DSN is configured; no personal data unless asked for."""

from __future__ import annotations

import sentry_sdk

from ugc import __version__
from ugc.settings import Settings


def init_sentry(settings: Settings, *, component: str) -> bool:
    if settings.sentry_dsn is None:
        return False
    sentry_sdk.init(
        dsn=settings.sentry_dsn.get_secret_value(),
        environment=settings.environment,
        release=settings.release or f"ugc@{__version__}",
        traces_sample_rate=settings.sentry_traces_sample_rate,
        send_default_pii=settings.sentry_send_default_pii,
        server_name=component,
    )
    sentry_sdk.set_tag("component", component)
    return True

"""The parts of one service that its framework app and its direct endpoints share."""

from __future__ import annotations

from dataclasses import dataclass

from ugc.auth import TokenVerifier, load_keys
from ugc.observability.http import RequestObserver
from ugc.problems import ProblemRegistry
from ugc.settings import Settings
from ugc.web.cors import CorsPolicy


@dataclass(frozen=True, slots=True)
class ServiceKit:
    name: str
    settings: Settings
    verifier: TokenVerifier
    problems: ProblemRegistry
    observer: RequestObserver
    cors: CorsPolicy

    @classmethod
    def of(cls, settings: Settings, name: str) -> ServiceKit:
        http = settings.http
        return cls(
            name=name,
            settings=settings,
            verifier=TokenVerifier(settings.jwt, load_keys(settings)),
            problems=ProblemRegistry(retry_after_s=http.retry_after_s, service=name),
            observer=RequestObserver(service=name, access_log=settings.observability.access_log),
            cors=CorsPolicy.for_settings(settings),
        )

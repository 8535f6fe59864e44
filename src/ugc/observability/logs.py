"""Logs as one ECS JSON object per line (ecs-logging), to stdout and optionally a file.

Every record carries the service name and, inside a request, its id; Filebeat
ships the lines to Logstash and Elasticsearch (deploy/elk).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import ecs_logging

from ugc import __version__
from ugc.observability.request_id import current_request_id


class _Context(logging.Filter):
    """Adds the service and the current request id to every record."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.__dict__.setdefault("service.name", self.service)
        record.__dict__.setdefault("service.version", __version__)
        request_id = current_request_id()
        if request_id is not None:
            record.__dict__.setdefault("http.request.id", request_id)
        return True


def configure_logging(
    service: str, *, level: str = "INFO", file: Path | None = None, readable: bool = False
) -> None:
    """ECS JSON everywhere; `readable` turns stdout into plain lines for a person at
    a terminal (`ugc dev`), while a configured file stays ECS JSON."""
    ecs = ecs_logging.StdlibFormatter(exclude_fields=["process", "log.original"])
    plain = logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    console = logging.StreamHandler(sys.stdout)
    console.setFormatter(plain if readable else ecs)
    handlers: list[logging.Handler] = [console]
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        to_file = logging.FileHandler(file)
        to_file.setFormatter(ecs)
        handlers.append(to_file)
    context = _Context(service)
    for handler in handlers:
        handler.addFilter(context)
    root = logging.getLogger()
    root.handlers[:] = handlers
    root.setLevel(level)
    # The drivers are chatty at INFO; their warnings and errors still come through.
    for name in ("aiokafka", "pymongo", "uvicorn.access"):
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))

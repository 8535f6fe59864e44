"""`ugc`: the single launcher of every ugc process and tool."""

from __future__ import annotations

import sys

from ugc.cli import alerts, backups, processes, research, tools
from ugc.cli.app import app
from ugc.cli.errors import run

__all__ = ["alerts", "app", "backups", "main", "processes", "research", "tools"]


def main() -> None:
    sys.exit(run(app, sys.argv[1:]))

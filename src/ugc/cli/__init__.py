"""`ugc`: the single launcher of every ugc process and tool."""

from __future__ import annotations

from ugc.cli import processes, research, tools
from ugc.cli.app import app

__all__ = ["app", "main", "processes", "research", "tools"]


def main() -> None:
    app()

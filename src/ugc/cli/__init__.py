"""`ugc`: the single launcher of every ugc process and tool."""

from __future__ import annotations

from ugc.cli import processes, tools
from ugc.cli.app import app

__all__ = ["app", "main", "processes", "tools"]


def main() -> None:
    app()

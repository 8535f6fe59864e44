"""What the figures were measured on: cores, memory, the disk under the data,
the Python — recorded beside every result."""

from __future__ import annotations

import os
import platform
import shutil
import sys
from pathlib import Path
from typing import Any


def _first(path: str, prefix: str) -> str | None:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(prefix):
                return line.split(":", 1)[1].strip()
    except OSError:
        return None
    return None


def _filesystem_of(directory: Path) -> str | None:
    """The type of the filesystem the directory is on (/proc/mounts, longest match)."""
    try:
        mounts = [line.split() for line in Path("/proc/mounts").read_text().splitlines()]
    except OSError:
        return None
    resolved = str(directory.resolve())
    best = max(
        (m for m in mounts if len(m) > 2 and resolved.startswith(m[1])),
        key=lambda m: len(m[1]),
        default=None,
    )
    return best[2] if best else None


def machine(data_dir: Path) -> dict[str, Any]:
    memory_kb = _first("/proc/meminfo", "MemTotal")
    usage = shutil.disk_usage(data_dir)
    return {
        "cpu": _first("/proc/cpuinfo", "model name") or platform.processor() or "unknown",
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_gib": round(int(memory_kb.split()[0]) / 1024 / 1024, 1) if memory_kb else None,
        "disk": {
            "filesystem": _filesystem_of(data_dir),
            "total_gib": round(usage.total / 2**30),
            "free_gib": round(usage.free / 2**30),
        },
        "os": platform.platform(),
        "python": sys.version.split()[0],
    }

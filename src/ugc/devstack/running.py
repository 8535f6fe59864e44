"""Where a running `ugc dev` can be found: its data directory, found from any
folder below it as `ugc dev` itself finds it, and a note in it of where its
servers listen and which key signs its tokens, kept while it runs.

So `ugc token`, `ugc dead-letters` and the other tools, run from another
terminal or a subfolder, talk to the platform that is running instead of making
a secret of their own or asking for variables `ugc dev` already knows.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import orjson

DATA_DIR_NAME = ".ugc"
NOTE = "running.json"


def find_data_dir(start: Path) -> Path:
    """The nearest `.ugc` folder at or above `start`; `start/.ugc` when there is none."""
    for folder in (start, *start.parents):
        if (folder / DATA_DIR_NAME).is_dir():
            return folder / DATA_DIR_NAME
    return start / DATA_DIR_NAME


def key_fingerprint(key: str) -> str:
    """A name for a signing key that says nothing of it."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Running:
    pid: int
    http: str
    kafka: str
    mongo: str
    key: str  # the fingerprint of the key its APIs verify tokens with


def announce(data_dir: Path, running: Running) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    note = data_dir / NOTE
    draft = note.with_suffix(".tmp")
    draft.write_bytes(orjson.dumps(asdict(running)))
    draft.replace(note)


def withdraw(data_dir: Path) -> None:
    found = running_in(data_dir)
    if found is None or found.pid == os.getpid():
        with contextlib.suppress(FileNotFoundError):
            (data_dir / NOTE).unlink()


def running_in(data_dir: Path) -> Running | None:
    """The `ugc dev` running on this data directory, if one is."""
    try:
        found = Running(**orjson.loads((data_dir / NOTE).read_bytes()))
    except (FileNotFoundError, orjson.JSONDecodeError, TypeError):
        return None
    try:
        os.kill(found.pid, 0)
    except ProcessLookupError:
        return None  # a note left by a `ugc dev` that was killed
    except PermissionError:
        pass
    return found

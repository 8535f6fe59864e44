"""The image's lock: every package `ugc` needs at run time (no extras), at the
version installed here, as a pip constraints file. `make lock` writes it from the
virtualenv `make install` made; the image's build and `make install` both install
under it, so the image runs what the tests ran. `python -m tests.deploy.image_lock`
prints it."""

from __future__ import annotations

import re
from importlib.metadata import PackageNotFoundError, distribution

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT_PACKAGE = "ugc"
HEADER = (
    "# The ugc image's runtime packages, pinned: `make lock` writes this file from the\n"
    "# virtualenv `make install` made (tests/deploy/image_lock.py); the Dockerfile and\n"
    "# `make install` install under it. Change a version here, or run `make lock`.\n"
)


def runtime_closure(root: str = ROOT_PACKAGE) -> dict[str, str]:
    """{package: installed version} of everything `root` needs at run time, with the
    extras its requirements name, for this platform's markers."""
    found: dict[str, str] = {}
    waiting: list[tuple[str, frozenset[str]]] = [(root, frozenset())]
    seen: set[tuple[str, frozenset[str]]] = set()
    while waiting:
        name, extras = waiting.pop()
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            continue  # a marker admitted it, nothing here installed it: not needed here
        key = canonicalize_name(dist.metadata["Name"])
        if key != root:
            found[key] = dist.version
        for line in dist.requires or []:
            requirement = Requirement(line)
            wanted = any(
                requirement.marker is None or requirement.marker.evaluate({"extra": extra})
                for extra in (extras or {""})
            )
            if wanted:
                waiting.append((requirement.name, frozenset(requirement.extras)))
    return dict(sorted(found.items()))


def lock_text(closure: dict[str, str]) -> str:
    return HEADER + "".join(f"{name}=={version}\n" for name, version in closure.items())


def pinned(text: str) -> dict[str, str]:
    return {
        canonicalize_name(m.group(1)): m.group(2)
        for m in re.finditer(r"^([A-Za-z0-9._-]+)==(\S+)$", text, re.M)
    }


if __name__ == "__main__":
    print(lock_text(runtime_closure()), end="")

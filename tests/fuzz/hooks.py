"""Schemathesis hooks (SCHEMATHESIS_HOOKS=tests.fuzz.hooks): each case is sent as
one of several users, chosen by a seeded generator so that a run can be repeated."""

from __future__ import annotations

import json
import os
import random
from typing import Any

import schemathesis

_TOKENS: list[str] = json.loads(os.environ.get("UGC_FUZZ_TOKENS", "[]"))
_CHOICE = random.Random(int(os.environ.get("UGC_FUZZ_SEED", "0")))


@schemathesis.auth(refresh_interval=None)
class SeveralUsers:
    """A token of another user (some analysts) for each case."""

    def get(self, case: Any, context: Any) -> str:
        return _CHOICE.choice(_TOKENS)

    def set(self, case: Any, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

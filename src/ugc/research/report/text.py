"""Markdown pieces: tables and numbers written the same way every time."""

from __future__ import annotations

import math
from collections.abc import Sequence


def table(header: Sequence[str], rows: Sequence[Sequence[str]], *, right_from: int = 1) -> str:
    """A Markdown table; columns from `right_from` on are right-aligned (figures)."""
    marks = ["---" if i < right_from else "---:" for i in range(len(header))]
    lines = [header, marks, *rows]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)


def ms(value: float | None) -> str:
    """Milliseconds to three significant figures, or a dash."""
    if value is None or math.isnan(value):
        return "-"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def count(value: float | None) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:,.0f}"


def ratio(value: float) -> str:
    return f"{value:.2f}x" if value < 10 else f"{value:,.0f}x"


def seconds(value: float) -> str:
    return f"{value:,.1f} s"

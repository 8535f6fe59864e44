"""The published report is exactly what `ugc research render` makes of the
committed results: nobody edited a figure by hand, and no figure is missing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
DOCS = Path(__file__).parents[2] / "docs" / "research"


@pytest.fixture(autouse=True)
def _plots_library() -> None:
    pytest.importorskip("matplotlib", reason="the research extra (make install) is missing")


def test_the_committed_report_is_the_render_of_the_committed_results(tmp_path: Path) -> None:
    from ugc.research.report import render  # noqa: PLC0415

    text = render(DOCS / "results", tmp_path)
    assert text == (DOCS / "README.md").read_text()
    made = sorted(p.name for p in (tmp_path / "plots").iterdir())
    assert made == sorted(p.name for p in (DOCS / "plots").iterdir())
    assert all(f"(plots/{name})" in text for name in made)


def test_a_changed_figure_changes_the_report(tmp_path: Path) -> None:
    from ugc.research.report import render  # noqa: PLC0415

    results = tmp_path / "results"
    shutil.copytree(DOCS / "results", results)
    content = json.loads((results / "content.json").read_text())
    timing = content["engines"]["MongoDB"]["queries"]["bookmarks of a user"]
    timing.update(p50_ms=123_456.0, p95_ms=200_000.0, p99_ms=200_000.0)
    (results / "content.json").write_text(json.dumps(content))
    text = render(results, tmp_path / "out")
    assert text != (DOCS / "README.md").read_text()
    assert "123,456 /" in text

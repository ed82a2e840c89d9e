"""The report's wording, rendered from reports/templates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from plans.render import Templates
from reports.detail_rows import detail_rows

TEMPLATES = Templates(Path(__file__).with_name("templates"), detail_rows=detail_rows)
render = TEMPLATES.render
render_to = TEMPLATES.render_to
parts = TEMPLATES.parts


def lines(text: Any) -> list[str]:
    """Non-empty lines of a rendered macro, stripped (a macro gives one item per line)."""
    return [line.strip() for line in str(text).splitlines() if line.strip()]

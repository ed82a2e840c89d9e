"""The report's wording, rendered from reports/templates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from plans.render import Templates

TEMPLATES = Templates(Path(__file__).with_name("templates"))
render = TEMPLATES.render
render_to = TEMPLATES.render_to
parts = TEMPLATES.parts


def lines(text: Any) -> list[str]:
    """Non-empty lines of a rendered macro, stripped (a macro gives one item per line)."""
    return [line.strip() for line in str(text).splitlines() if line.strip()]

"""The report's wording, rendered from reports/templates."""

from __future__ import annotations

from pathlib import Path

from plans.render import Templates

TEMPLATES = Templates(Path(__file__).with_name("templates"))
render = TEMPLATES.render
render_to = TEMPLATES.render_to
parts = TEMPLATES.parts

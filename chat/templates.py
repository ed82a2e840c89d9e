"""The texts the bot says, rendered from chat/templates."""

from __future__ import annotations

from pathlib import Path

from plans.render import Templates

TEMPLATES = Templates(Path(__file__).with_name("templates"))
render = TEMPLATES.render
parts = TEMPLATES.parts

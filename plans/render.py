"""Jinja2 set-up shared by chat/ and reports/: the Vietnamese filters, one environment a folder."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from plans.clock import local_date
from plans.status import PERIOD_LABELS, STATUS_LABELS, Category


def dmy(day: date | None) -> str:
    """A date as Vietnamese write it: dd/mm/YYYY (empty for None); an instant, its local day."""
    if isinstance(day, datetime):
        day = local_date(day)
    return f"{day.day:02d}/{day.month:02d}/{day.year}" if day else ""


def num(value: int) -> str:
    """An integer with Vietnamese thousands separators (100.000)."""
    return f"{value:,}".replace(",", ".")


def pct(value: float | None) -> str:
    """A percentage with a decimal comma (53,2%); a dash when undefined."""
    if value is None:
        return "—"
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return f"{text.replace('.', ',')}%"


def due_text(period: str, due: date | None) -> str:
    """The due date of an occurrence, or the wording of a task without one."""
    return dmy(due) if due else PERIOD_LABELS.get(period, period)


@lru_cache(maxsize=1024)  # unit names and task titles repeat on every row of a unit
def md_cell(text: str | None) -> str:
    """User text made safe for a Markdown table cell or list item."""
    if not text:
        return ""
    text = text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;")
    return " ".join(text.split())


@cache
def environment(folder: Path) -> Environment:
    """The environment of one template folder: HTML templates autoescaped, Markdown and text not."""
    env = Environment(
        loader=FileSystemLoader(folder),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # templates ship with the code: no file check at every render
    )
    env.filters.update(dmy=dmy, num=num, pct=pct, md=md_cell, due=due_text)
    env.globals.update(categories=list(Category), status_labels=STATUS_LABELS)
    return env


class Templates:
    """One folder's templates: rendered to a string or a file, or a text template's macros."""

    def __init__(self, folder: Path, **functions: Any) -> None:
        self.folder = folder
        environment(folder).globals.update(functions)  # callable from this folder's templates

    def render(self, template_name: str, **context: Any) -> str:
        """Render a template to a string."""
        return environment(self.folder).get_template(template_name).render(**context)

    def render_to(self, path: Path, template_name: str, **context: Any) -> None:
        """Stream a large rendering straight into a file (templates yield big rows in chunks)."""
        template = environment(self.folder).get_template(template_name)
        template.stream(**context).dump(str(path), encoding="utf-8")

    def parts(self, template_name: str) -> Any:
        """The macros of a text template, callable from Python (wording of DOCX and XLSX files)."""
        return environment(self.folder).get_template(template_name).module

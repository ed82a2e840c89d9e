"""The detail table's rows as their cells print: each distinct text escaped once (100k rows).

The Markdown and HTML templates (reports/templates/report.*.j2) lay the cells out; a row is a
tuple they unpack, so a row costs the template no attribute lookup and no filter call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date
from typing import Protocol

from markupsafe import escape

from plans.render import dmy, due_text, md_cell
from plans.status import STATUS_LABELS, Category
from storage.enums import ReportStatus

# css class (the category), number, unit, task key, task title, due, category label, status
# label, percent, note, flags ("" for none), return reason, report day, evidence count
DetailRow = tuple[str, str, str, str, str, str, str, str, str, str, str, str, str, str]


def _html(text: str) -> str:
    """Text escaped as the HTML templates' `|e` escapes it."""
    return str(escape(text))


def _as_is(text: str) -> str:
    """Text printed as it is (the Markdown table's due column: our own wording or dates)."""
    return text


# Per markup: how user text is escaped, and how the due column is.
ESCAPES: dict[str, tuple[Callable[[str], str], Callable[[str], str]]] = {
    "md": (md_cell, _as_is),
    "html": (_html, _html),
}


class _Named(Protocol):
    """A unit as a row names it."""

    @property
    def name(self) -> str: ...


class _Task(Protocol):
    """A task as a row names it."""

    @property
    def key(self) -> str: ...
    @property
    def title(self) -> str: ...


class Row(Protocol):
    """What a detail line prints of a report row (reports/model.py: ReportRow, which cannot be
    imported here: the model's tables render with this folder's templates)."""

    @property
    def unit(self) -> _Named: ...
    @property
    def task(self) -> _Task: ...
    @property
    def period(self) -> str: ...
    @property
    def due_date(self) -> date | None: ...
    @property
    def category(self) -> Category: ...
    @property
    def status(self) -> ReportStatus: ...
    @property
    def percent(self) -> int | None: ...
    @property
    def note(self) -> str: ...
    @property
    def reported_on(self) -> date | None: ...
    @property
    def evidence_count(self) -> int: ...
    @property
    def return_reason(self) -> str | None: ...
    @property
    def flags(self) -> tuple[str, ...]: ...


class _Escaped(dict[str, str]):
    """Texts as escaped for one markup, each computed once."""

    def __init__(self, escape_text: Callable[[str], str]) -> None:
        super().__init__()
        self.escape_text = escape_text

    def __missing__(self, text: str) -> str:
        self[text] = found = self.escape_text(text)
        return found


def detail_rows(rows: Iterable[Row], markup: str) -> Iterator[DetailRow]:
    """Each report row's cells, escaped for `markup` ("md" or "html")."""
    text_escape, due_escape = ESCAPES[markup]
    escaped = _Escaped(text_escape)
    days: dict[date | None, str] = {}
    dues: dict[tuple[str, date | None], str] = {}
    for number, row in enumerate(rows, 1):
        due_key = (row.period, row.due_date)
        if (due := dues.get(due_key)) is None:
            due = dues[due_key] = due_escape(due_text(*due_key))
        if (day := days.get(row.reported_on)) is None:
            day = days[row.reported_on] = dmy(row.reported_on)
        yield (
            row.category.value,
            str(number),
            escaped[row.unit.name],
            escaped[row.task.key],
            escaped[row.task.title],
            due,
            row.category.label,
            STATUS_LABELS[row.status],
            "" if row.percent is None else str(row.percent),
            escaped[row.note],
            ", ".join(row.flags),
            escaped[row.return_reason] if row.return_reason else "",
            day,
            str(row.evidence_count or ""),
        )

"""The guide's table of deadline forms (docs/han-thoi-gian.md), generated so that it cannot drift.

Every example form of plans/data/deadline_forms.yaml (the list an unreadable deadline's error
suggests from) is read by the real engine (plans/deadline.py) against one issue date, and its
due dates are printed beside it. `make docs` writes the file; tests/plans/test_deadline_guide.py
fails when the committed file differs from what this module renders.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from plans.calendar import Calendar, default_calendar
from plans.deadline import DeadlineKind, parse_deadline
from plans.deadline_text import deadline_forms
from plans.render import Templates
from plans.status import PERIOD_LABELS

TEMPLATES = Templates(Path(__file__).with_name("templates"))
# The issue date every example is read against, and how far recurring ones are listed.
GUIDE_ISSUED = date(2025, 1, 15)
GUIDE_YEARS = 3  # the issue year and the two after it
SHOWN_DATES = 4  # a recurring example shows its first dates, then its count and last date


@dataclass(frozen=True)
class WorkedExample:
    """One accepted form as the engine reads it: its kind and due dates."""

    text: str
    kind: DeadlineKind
    recurring: bool
    dates: tuple[date, ...]

    @property
    def section(self) -> str:
        """Which table of the guide it belongs to: once, recurring, or no due date."""
        if self.kind != "dated":
            return "undated"
        return "recurring" if self.recurring else "once"


def worked_examples(
    issued: date, until: date, calendar: Calendar | None = None
) -> list[WorkedExample]:
    """Every example form read as a plan issued on `issued` would read it, dates up to `until`."""
    examples = []
    for text in deadline_forms():
        deadline = parse_deadline(text, issued=issued, calendar=calendar or default_calendar())
        dates = tuple(deadline.dates(until))
        examples.append(WorkedExample(text, deadline.kind, deadline.recurring, dates))
    return examples


def render_guide(issued: date = GUIDE_ISSUED, until: date | None = None) -> str:
    """The Markdown page of every accepted deadline form with its worked example."""
    until = until or date(issued.year + GUIDE_YEARS - 1, 12, 31)
    examples = worked_examples(issued, until)
    return TEMPLATES.render(
        "deadline_guide.md.j2",
        issued=issued,
        until=until,
        sections={
            name: [e for e in examples if e.section == name]
            for name in ("once", "recurring", "undated")
        },
        shown=SHOWN_DATES,
        period_labels=PERIOD_LABELS,
    )


def main(argv: list[str]) -> None:
    """`python -m plans.deadline_guide [OUT.md]`: write the page to OUT.md, or print it."""
    page = render_guide()
    if argv:
        Path(argv[0]).write_text(page, encoding="utf-8")
    else:
        sys.stdout.write(page)


if __name__ == "__main__":
    main(sys.argv[1:])

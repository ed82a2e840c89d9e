"""Chat texts of the report: the weekly digest and /status, always within Telegram's limit."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from plans.status import Category
from reports.digest import Counted, OverdueTask, OverdueUnit, WeekSummary
from reports.model import ReportRow, StatusView, Tally
from reports.templates import render

TELEGRAM_LIMIT = 4096
CATEGORY_COLOURS = {
    Category.DONE_ON_TIME: "#2e7d32",
    Category.DONE_LATE: "#f9a825",
    Category.IN_PROGRESS: "#1565c0",
    Category.NOT_YET_DUE: "#90caf9",
    Category.OVERDUE: "#c62828",
    Category.NO_DEADLINE: "#9e9e9e",
}

T = TypeVar("T")


@dataclass(frozen=True)
class Shown(Generic[T]):
    """The head of a list that fits in the message, and how many items were left out."""

    items: list[T]
    more: int

    @classmethod
    def head(cls, items: Sequence[T], limit: int) -> Shown[T]:
        """The first `limit` items."""
        return cls(list(items[:limit]), max(0, len(items) - limit))

    @classmethod
    def of(cls, counted: Counted[T], limit: int) -> Shown[T]:
        """The first `limit` items of a list read only in part (reports/digest.py)."""
        items = counted.items[:limit]
        return cls(items, counted.total - len(items))

    @property
    def total(self) -> int:
        """The items shown and left out."""
        return len(self.items) + self.more


@dataclass(frozen=True)
class Budget:
    """How much of each list a message may show; free texts are cut to `text` characters."""

    units: int
    tasks: int
    notes: int
    silent: int
    text: int


# Tried in order until the message fits; the last one lists nothing and cuts free texts to
# 60 characters, so it stays under 2,000 characters (Zalo's limit) whatever the plan.
BUDGETS = (
    Budget(units=25, tasks=6, notes=10, silent=60, text=300),
    Budget(units=12, tasks=4, notes=6, silent=30, text=160),
    Budget(units=6, tasks=3, notes=3, silent=15, text=100),
    Budget(units=3, tasks=2, notes=2, silent=6, text=60),
    Budget(units=0, tasks=0, notes=0, silent=0, text=60),
)


@dataclass(frozen=True)
class OverdueGroup:
    """One unit's overdue rows, cut to the budget."""

    unit_name: str
    total: int
    rows: Shown[OverdueTask]


def telegram_length(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def fit_message(render_with: Callable[[Budget], str], limit: int) -> str:
    """Render with shrinking budgets until the text fits in one message of `limit` characters."""
    for budget in BUDGETS[:-1]:
        text = render_with(budget)
        if telegram_length(text) <= limit:
            return text
    return render_with(BUDGETS[-1])


def build_digest_text(summary: WeekSummary, *, attached: bool, limit: int = TELEGRAM_LIMIT) -> str:
    """The weekly digest as Telegram HTML in `limit` characters; `attached`: the report goes too."""

    def render_with(budget: Budget) -> str:
        groups = Shown.of(summary.overdue, budget.units)
        return render(
            "digest.html.j2",
            report=summary,
            budget=budget,
            attached=attached,
            overdue=Shown([_overdue(g, budget) for g in groups.items], groups.more),
            difficulties=Shown.of(summary.difficulties, budget.notes),
            silent=Shown.of(summary.silent, budget.silent),
        )

    return fit_message(render_with, limit)


def build_status_text(
    view: StatusView, *, command: str = "/status", limit: int = TELEGRAM_LIMIT
) -> str:
    """The /status answer as Telegram HTML, at most `limit` characters (4,096)."""
    rows = sorted(view.rows, key=_severity)

    def render_with(budget: Budget) -> str:
        return render(
            "status.html.j2",
            view=view,
            budget=budget,
            command=command,
            plans=Shown.head(view.plans, budget.units),
            units=Shown.head(view.units, budget.units),
            rows=Shown.head(rows, budget.units),
        )

    return fit_message(render_with, limit)


def completion_chart_png(tally: Tally) -> bytes:
    """A small horizontal bar chart of the rows per category, as PNG bytes."""
    categories = list(Category)
    counts = [tally.counts[c] for c in categories]
    figure = Figure(figsize=(6.4, 2.4), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    positions = range(len(categories))
    axes.barh(positions, counts, color=[CATEGORY_COLOURS[c] for c in categories])
    axes.set_yticks(list(positions), [c.label for c in categories], fontsize=9)
    axes.invert_yaxis()
    axes.spines[["top", "right"]].set_visible(False)
    axes.tick_params(axis="x", labelsize=8)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    peak = max(counts) or 1
    axes.set_xlim(0, peak * 1.15)
    for position, count in zip(positions, counts, strict=True):
        axes.text(count + peak * 0.01, position, f"{count:,}".replace(",", "."), va="center")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _overdue(group: OverdueUnit, budget: Budget) -> OverdueGroup:
    """A unit's overdue tasks cut to the budget."""
    tasks = Shown.of(Counted(group.tasks, group.total), budget.tasks)
    return OverdueGroup(group.unit.name, group.total, tasks)


_SEVERITY = {
    Category.OVERDUE: 0,
    Category.IN_PROGRESS: 1,
    Category.NOT_YET_DUE: 2,
    Category.NO_DEADLINE: 3,
    Category.DONE_LATE: 4,
    Category.DONE_ON_TIME: 5,
}


def _severity(row: ReportRow) -> tuple[int, bool, bool]:
    """Drill-down order: overdue first, then open work (blocked and due soon first), then done."""
    return (_SEVERITY[row.category], not row.blocked, not row.due_soon)

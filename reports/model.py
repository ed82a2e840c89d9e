"""The consolidated report model: what a report or a /status answer holds, and its errors."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, time

from plans.errors import DondocError
from plans.status import Category
from reports.indicator_tables import IndicatorTable
from storage.enums import ReportStatus


class ReportError(DondocError):
    """A report or status request that cannot be answered."""


class UnknownPlanError(ReportError):
    """A plan code that is not in the database."""

    def __init__(self, code: str) -> None:
        super().__init__(f"Không có kế hoạch mã {code}")
        self.code = code


class UnknownTaskError(ReportError):
    """A task key that no selected plan has."""

    def __init__(self, key: str) -> None:
        super().__init__(f"Không có nhiệm vụ {key}")
        self.key = key


class OutOfScopeError(ReportError):
    """A unit outside the caller's part of the directory."""

    def __init__(self, code: str) -> None:
        super().__init__(f"Đơn vị {code} không thuộc phạm vi theo dõi của bạn")
        self.code = code


@dataclass(frozen=True, slots=True)
class UnitRef:
    """A unit as the report names it, with what its documents print (plans/units_file.py)."""

    id: int
    code: str
    name: str
    parent_code: str | None = None
    abbreviation: str | None = None  # ký hiệu in document numbers: PGDĐT, BTGHU
    signer: str | None = None  # the signer's title: TRƯỞNG PHÒNG, T/M BAN THƯỜNG VỤ
    party: bool = False  # a Party body: Party letterhead, numbers and signature forms
    dissolved_on: date | None = None  # retired with no successor (plans/units_import.py)


@dataclass(frozen=True, slots=True)
class TaskRef:
    """A task as the report names it."""

    id: int
    plan_id: int
    key: str
    title: str
    position: int
    partners: tuple[str, ...] = ()  # the names of the units that take part ("phối hợp")


@dataclass(frozen=True)
class PlanHeader:
    """What the report says about the plan itself."""

    id: int
    code: str
    number: str | None
    title: str
    issuer: str | None
    issued: date
    coordinator: UnitRef
    coordinator_parent: UnitRef | None
    until: date | None = None  # the plan's end
    implements: str | None = None  # the number of the plan or resolution it carries out


@dataclass(slots=True)  # not frozen: built 100k times, frozen __init__ costs twice as much
class ReportRow:
    """One occurrence of one assignment, classified at the report date."""

    occurrence_id: int
    unit: UnitRef
    task: TaskRef
    period: str
    due_date: date | None
    category: Category
    status: ReportStatus
    percent: int | None
    note: str
    reported_on: date | None
    done_on: date | None
    evidence_count: int
    confirmed: bool
    returned: bool
    return_reason: str | None
    due_soon: bool
    unreported: bool
    blocked: bool
    flags: tuple[str, ...]  # the Vietnamese labels of the flags above that apply


@dataclass(frozen=True)
class UnitRows:
    """Rows of one unit (overdue or blocked lists)."""

    unit: UnitRef
    rows: list[ReportRow]


@dataclass(frozen=True)
class Difficulty:
    """An occurrence whose standing report, received in the week up to the report date, is
    "blocked": one of the rows the "gặp khó khăn" count counts."""

    unit: UnitRef
    task: TaskRef
    period: str
    due_date: date | None
    note: str
    reported_on: date


@dataclass(frozen=True)
class Dissolved:
    """An occurrence a unit left open when it was dissolved: closed, out of the percentages."""

    unit: UnitRef
    task: TaskRef
    period: str
    due_date: date | None
    retired_on: date


@dataclass(frozen=True)
class Closed:
    """An occurrence its coordinator closed (handlers/closing.py): out of the percentages from
    that day on, like a dissolved unit's, and footnoted with the reason."""

    unit: UnitRef
    task: TaskRef
    period: str
    due_date: date | None
    closed_on: date
    reason: str


@dataclass(frozen=True)
class Tally:
    """Counts per category and per flag over some rows."""

    counts: dict[Category, int]
    unreported: int = 0
    blocked: int = 0
    due_soon: int = 0

    @classmethod
    def of(cls, rows: Iterable[ReportRow]) -> Tally:
        """Count the rows."""
        counts = dict.fromkeys(Category, 0)
        unreported = blocked = due_soon = 0
        for row in rows:
            counts[row.category] += 1
            unreported += row.unreported
            blocked += row.blocked
            due_soon += row.due_soon
        return cls(counts, unreported=unreported, blocked=blocked, due_soon=due_soon)

    @property
    def total(self) -> int:
        """All rows."""
        return sum(self.counts.values())

    @property
    def done(self) -> int:
        """Rows completed, on time or late."""
        return self.counts[Category.DONE_ON_TIME] + self.counts[Category.DONE_LATE]

    @property
    def dated(self) -> int:
        """Rows that have a due date."""
        return self.total - self.counts[Category.NO_DEADLINE]

    @property
    def completion_percent(self) -> float | None:
        """Completed rows among the rows with a due date; None when there is none."""
        return round(100 * self.done / self.dated, 1) if self.dated else None

    def share(self, category: Category) -> float | None:
        """A category's share of all rows, in percent."""
        return round(100 * self.counts[category] / self.total, 1) if self.total else None


@dataclass(frozen=True)
class PlanReport:
    """The consolidated report of one plan at a date."""

    plan: PlanHeader
    at: date
    as_of: time | None  # the local time the figures stop at on day `at`; None: the whole day
    rows: list[ReportRow]
    tally: Tally
    overdue_by_unit: list[UnitRows]
    blocked_by_unit: list[UnitRows]
    difficulties: list[Difficulty]
    silent_units: list[UnitRef]
    units_count: int
    tasks_count: int
    indicators: list[IndicatorTable] = field(default_factory=list)  # reports/indicator_tables.py
    dissolved: list[Dissolved] = field(default_factory=list)  # the footnote's rows
    closed: list[Closed] = field(default_factory=list)  # closed by the coordinator: footnoted

    @property
    def counts(self) -> dict[Category, int]:
        """Rows per official category."""
        return self.tally.counts

    @property
    def completion_percent(self) -> float | None:
        """Completed rows among the rows with a due date."""
        return self.tally.completion_percent


@dataclass(frozen=True)
class PlanLine:
    """One plan's tally in the /status summary."""

    plan: PlanHeader
    tally: Tally


@dataclass(frozen=True)
class UnitLine:
    """One unit's tally in the /status drill-down."""

    unit: UnitRef
    tally: Tally


@dataclass(frozen=True)
class StatusView:
    """The /status answer: a summary, then lists to drill down into."""

    at: date
    as_of: time | None  # as in PlanReport
    plan: PlanHeader | None
    unit: UnitRef | None
    task_key: str | None
    tally: Tally
    plans: list[PlanLine]
    units: list[UnitLine]
    rows: list[ReportRow]  # the drill-down list, when a unit or a task was asked for
    indicators: list[IndicatorTable] = field(default_factory=list)  # the scope's figures


@dataclass(frozen=True)
class StatusScope:
    """What a caller may see: units with everything below them in every plan (a head), and
    whole plans (a coordinator). A chat registered in both ways sees the union."""

    unit_codes: frozenset[str] = frozenset()
    plan_ids: frozenset[int] = frozenset()

"""Official status categories of one occurrence at a local date (SPEC §7)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import cache

from plans.clock import at_local, local_date

DUE_SOON_DAYS = 3

DONE = "done"
IN_PROGRESS = "in_progress"
BLOCKED = "blocked"
NONE = "none"


class Category(StrEnum):
    """The official category of an occurrence at a date."""

    DONE_ON_TIME = "done_on_time"
    DONE_LATE = "done_late"
    IN_PROGRESS = "in_progress"
    OVERDUE = "overdue"
    NO_DEADLINE = "no_deadline"

    @property
    def label(self) -> str:
        """The official Vietnamese name printed in reports."""
        return CATEGORY_LABELS[self]

    @property
    def done(self) -> bool:
        """Whether the category counts as completed."""
        return self in (Category.DONE_ON_TIME, Category.DONE_LATE)


# The official vocabulary of SPEC §7; templates print these, they are not free prose.
CATEGORY_LABELS: dict[Category, str] = {
    Category.DONE_ON_TIME: "Hoàn thành đúng hạn",
    Category.DONE_LATE: "Hoàn thành quá hạn",
    Category.IN_PROGRESS: "Đang thực hiện trong hạn",
    Category.OVERDUE: "Chưa hoàn thành, quá hạn",
    Category.NO_DEADLINE: "Không thời hạn",
}
STATUS_LABELS: dict[str, str] = {
    DONE: "Đã hoàn thành",
    IN_PROGRESS: "Đang thực hiện",
    BLOCKED: "Gặp khó khăn",
    NONE: "Chưa báo cáo",
}
FLAG_LABELS: dict[str, str] = {
    "due_soon": "sắp đến hạn",
    "unreported": "chưa báo cáo",
    "blocked": "gặp khó khăn",
    "returned": "bị trả lại",
    "confirmed": "đã xác nhận",
}
PERIOD_LABELS: dict[str, str] = {
    "ongoing": "Thường xuyên",
    "on_request": "Theo yêu cầu",
    "undated": "Chưa xác định",
}


@dataclass(slots=True)
class ReportFact:
    """One stored report as things stood at the cut-off (confirmed or returned by then)."""

    status: str
    created_at: datetime
    percent: int | None = None
    note: str = ""
    evidence: int = 0
    confirmed: bool = False
    returned: bool = False
    return_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Standing:
    """What an occurrence's report history says at a cut-off instant."""

    status: str = NONE
    percent: int | None = None
    note: str = ""
    done_at: datetime | None = None
    last_report_at: datetime | None = None
    evidence: int = 0
    confirmed: bool = False
    returned: bool = False
    return_reason: str | None = None

    @property
    def reported(self) -> bool:
        """Whether any report had arrived by the cut-off."""
        return self.last_report_at is not None


NOTHING = Standing()


def day_end(day: date) -> datetime:
    """The first instant after a local day: reports "at day D" are those created before it."""
    return at_local(day + timedelta(days=1), 0)


def standing(facts: Iterable[ReportFact]) -> Standing:
    """Fold the reports created before a cut-off (oldest first) into the status they give."""
    current: ReportFact | None = None
    last: ReportFact | None = None
    returned: ReportFact | None = None
    evidence = 0
    for fact in facts:
        last = fact
        evidence += fact.evidence
        if fact.returned:
            # A refused claim reopens the occurrence: no earlier "done" stands either.
            returned = fact
            if current is not None and current.status == DONE:
                current = None
            continue
        current = fact
        returned = None
    if last is None:
        return NOTHING
    if current is None:
        return Standing(
            last_report_at=last.created_at,
            evidence=evidence,
            returned=returned is not None,
            return_reason=returned.return_reason if returned is not None else None,
        )
    done = current.status == DONE
    return Standing(
        status=current.status,
        percent=100 if done and current.percent is None else current.percent,
        note=current.note,
        done_at=current.created_at if done else None,
        last_report_at=last.created_at,
        evidence=evidence,
        confirmed=done and current.confirmed,
        returned=returned is not None,
        return_reason=returned.return_reason if returned is not None else None,
    )


def categorize(*, due: date | None, done_on: date | None, at: date) -> Category:
    """The official category of an occurrence due on `due`, done on `done_on`, seen at `at`."""
    if due is None:
        return Category.NO_DEADLINE
    if done_on is not None:
        return Category.DONE_ON_TIME if done_on <= due else Category.DONE_LATE
    # The due date is the last acceptable day: overdue only from the next day.
    return Category.IN_PROGRESS if at <= due else Category.OVERDUE


def is_due_soon(*, due: date | None, done_on: date | None, at: date) -> bool:
    """Not done and due within the next DUE_SOON_DAYS days (today included)."""
    if due is None or done_on is not None:
        return False
    return 0 <= (due - at).days <= DUE_SOON_DAYS


@dataclass(frozen=True, slots=True)
class Verdict:
    """The official category of an occurrence at a date, with its flags."""

    category: Category
    done_on: date | None
    due_soon: bool
    flags: tuple[str, ...]


def assess(*, due: date | None, state: Standing, at: date) -> Verdict:
    """Category and flags of an occurrence due on `due` whose reports say `state` at `at`."""
    finished = local_date(state.done_at) if state.done_at is not None else None
    soon = is_due_soon(due=due, done_on=finished, at=at)
    flags = flag_labels(
        soon, not state.reported, state.status == BLOCKED, state.returned, state.confirmed
    )
    return Verdict(categorize(due=due, done_on=finished, at=at), finished, soon, flags)


@cache
def flag_labels(
    due_soon: bool, unreported: bool, blocked: bool, returned: bool, confirmed: bool
) -> tuple[str, ...]:
    """The Vietnamese labels of the flags that are set, in a fixed order (32 cached tuples)."""
    flags = {
        "due_soon": due_soon,
        "unreported": unreported,
        "blocked": blocked,
        "returned": returned,
        "confirmed": confirmed,
    }
    return tuple(FLAG_LABELS[name] for name, on in flags.items() if on)

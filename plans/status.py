"""Official categories of an occurrence at a local date; the words for a reply's status."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import cache

from plans.clock import at_local, local_date
from storage.enums import ReportStatus

DUE_SOON_DAYS = 3


class Category(StrEnum):
    """The official category of an occurrence at a date."""

    DONE_ON_TIME = "done_on_time"
    DONE_LATE = "done_late"
    IN_PROGRESS = "in_progress"
    NOT_YET_DUE = "not_yet_due"
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


# The official categories of the consolidated report (reports/templates/report.md.j2 prints
# them); the wording is fixed, not free prose.
CATEGORY_LABELS: dict[Category, str] = {
    Category.DONE_ON_TIME: "Hoàn thành đúng hạn",
    Category.DONE_LATE: "Hoàn thành quá hạn",
    Category.IN_PROGRESS: "Đang thực hiện trong hạn",
    Category.NOT_YET_DUE: "Chưa đến hạn",
    Category.OVERDUE: "Chưa hoàn thành, quá hạn",
    Category.NO_DEADLINE: "Không thời hạn",
}
# What a contact's reply says, as chat texts, buttons and report files print it.
STATUS_LABELS: dict[ReportStatus, str] = {
    ReportStatus.DONE: "Đã hoàn thành",
    ReportStatus.IN_PROGRESS: "Đang thực hiện",
    ReportStatus.BLOCKED: "Gặp khó khăn",
    ReportStatus.NONE: "Chưa báo cáo",
}
# The number a contact taps or types for each status (reminder buttons, «A7K 2 đạt 60%»).
STATUS_CHOICES: dict[str, ReportStatus] = {
    "1": ReportStatus.DONE,
    "2": ReportStatus.IN_PROGRESS,
    "3": ReportStatus.BLOCKED,
}
FLAG_LABELS: dict[str, str] = {
    "due_soon": "sắp đến hạn",
    "unreported": "chưa báo cáo",
    "blocked": "gặp khó khăn",
    "returned": "bị trả lại",
    "confirmed": "đã xác nhận",
    # A row's part in its task and where its work came from (reports/reads.py).
    "partner": "đơn vị phối hợp",
    "partners": "phối hợp: {names}",
    "taken_from": "tiếp nhận từ {unit}",
}
PERIOD_LABELS: dict[str, str] = {
    "ongoing": "Thường xuyên",
    "on_request": "Theo yêu cầu",
    "undated": "Chưa xác định",
}


@dataclass(slots=True)
class ReportFact:
    """One stored report as things stood at the cut-off (confirmed or returned by then)."""

    status: ReportStatus
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

    status: ReportStatus = ReportStatus.NONE
    percent: int | None = None
    note: str = ""
    done_at: datetime | None = None
    reported_at: datetime | None = None  # when the report that stands was sent
    evidence: int = 0
    confirmed: bool = False
    returned: bool = False
    return_reason: str | None = None

    @property
    def reported(self) -> bool:
        """Whether a report stands (a returned claim reopens the work: it is in progress)."""
        return self.status != ReportStatus.NONE


NOTHING = Standing()


def day_end(day: date) -> datetime:
    """The first instant after a local day: reports "at day D" are those created before it."""
    return at_local(day + timedelta(days=1), 0)


def standing(facts: Iterable[ReportFact]) -> Standing:
    """Fold the reports created before a cut-off (oldest first) into the status they give."""
    current: ReportFact | None = None
    returned: ReportFact | None = None
    evidence = 0
    for fact in facts:
        evidence += fact.evidence
        if fact.returned:
            # A refused claim reopens the occurrence: no earlier "done" stands either.
            returned = fact
            if current is not None and current.status == ReportStatus.DONE:
                current = None
            continue
        current = fact
        returned = None
    if current is None and returned is None:
        return NOTHING
    reason = returned.return_reason if returned is not None else None
    if current is None:
        # Only refused claims: the work is open again, as the coordinator's return says
        # (handlers/confirmations.py), with no report of its own and no report date.
        return Standing(
            ReportStatus.IN_PROGRESS, evidence=evidence, returned=True, return_reason=reason
        )
    done = current.status == ReportStatus.DONE
    return Standing(
        status=current.status,
        percent=100 if done and current.percent is None else current.percent,
        note=current.note,
        done_at=current.created_at if done else None,
        reported_at=current.created_at,
        evidence=evidence,
        confirmed=done and current.confirmed,
        returned=returned is not None,
        return_reason=reason,
    )


def categorize(*, due: date | None, done_on: date | None, at: date, started: bool) -> Category:
    """The official category of an occurrence due on `due`, done on `done_on`, seen at `at`;
    `started`: a report of work under way (in progress or blocked) stands."""
    if due is None:
        return Category.NO_DEADLINE
    if done_on is not None:
        return Category.DONE_ON_TIME if done_on <= due else Category.DONE_LATE
    # The due date is the last acceptable day: overdue only from the next day.
    if at > due:
        return Category.OVERDUE
    return Category.IN_PROGRESS if started else Category.NOT_YET_DUE


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
        soon,
        not state.reported,
        state.status == ReportStatus.BLOCKED,
        state.returned,
        state.confirmed,
    )
    category = categorize(due=due, done_on=finished, at=at, started=state.reported)
    return Verdict(category, finished, soon, flags)


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

"""Official categories and flags of an occurrence (plans/status.py), on plain values."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from plans.status import (
    NOTHING,
    Category,
    ReportFact,
    assess,
    categorize,
    day_end,
    is_due_soon,
    standing,
)
from tests.utils.clock import local_time

DUE = date(2026, 11, 30)


def test_labels_are_the_official_vietnamese_names() -> None:
    assert [c.label for c in Category] == [
        "Hoàn thành đúng hạn",
        "Hoàn thành quá hạn",
        "Đang thực hiện trong hạn",
        "Chưa đến hạn",
        "Chưa hoàn thành, quá hạn",
        "Không thời hạn",
    ]


def test_done_on_the_due_day_is_on_time() -> None:
    assert categorize(due=DUE, done_on=DUE, at=DUE, started=True) is Category.DONE_ON_TIME


def test_done_a_day_late_is_late_and_stays_late() -> None:
    late = DUE + timedelta(days=1)
    assert categorize(due=DUE, done_on=late, at=late, started=True) is Category.DONE_LATE
    late_seen_later = categorize(due=DUE, done_on=late, at=date(2027, 6, 1), started=True)
    assert late_seen_later is Category.DONE_LATE


def test_due_today_and_not_done_is_still_in_time() -> None:
    assert categorize(due=DUE, done_on=None, at=DUE, started=True) is Category.IN_PROGRESS
    next_day = DUE + timedelta(days=1)
    assert categorize(due=DUE, done_on=None, at=next_day, started=True) is Category.OVERDUE


def test_not_due_and_not_started_is_not_yet_due_not_in_progress() -> None:
    assert categorize(due=DUE, done_on=None, at=DUE, started=False) is Category.NOT_YET_DUE
    next_day = DUE + timedelta(days=1)
    assert categorize(due=DUE, done_on=None, at=next_day, started=False) is Category.OVERDUE


def test_no_due_date_has_no_deadline_even_when_done() -> None:
    assert categorize(due=None, done_on=None, at=DUE, started=False) is Category.NO_DEADLINE
    assert categorize(due=None, done_on=DUE, at=DUE, started=True) is Category.NO_DEADLINE


def test_due_soon_means_today_to_three_days_ahead_and_not_done() -> None:
    assert [is_due_soon(due=DUE, done_on=None, at=DUE - timedelta(days=n)) for n in range(6)] == [
        True,
        True,
        True,
        True,
        False,
        False,
    ]
    assert not is_due_soon(due=DUE, done_on=None, at=DUE + timedelta(days=1))
    assert not is_due_soon(due=DUE, done_on=DUE - timedelta(days=2), at=DUE - timedelta(days=1))
    assert not is_due_soon(due=None, done_on=None, at=DUE)


@given(
    due=st.dates(date(2024, 1, 1), date(2028, 12, 31)),
    at=st.dates(date(2024, 1, 1), date(2028, 12, 31)),
    done_after=st.one_of(st.none(), st.integers(-400, 400)),
    started=st.booleans(),
)
def test_exactly_one_category_follows_the_rules(
    due: date, at: date, done_after: int | None, started: bool
) -> None:
    done = None if done_after is None else due + timedelta(days=done_after)
    if done is not None and done > at:
        done = None  # a report after the date cannot be known at that date
    category = categorize(due=due, done_on=done, at=at, started=started or done is not None)
    assert category.done == (done is not None)
    assert (category is Category.OVERDUE) == (done is None and at > due)
    assert (category is Category.DONE_LATE) == (done is not None and done > due)
    assert (category is Category.IN_PROGRESS) == (done is None and at <= due and started)


def test_no_report_means_unreported() -> None:
    state = standing([])
    assert state is NOTHING
    assert not state.reported
    verdict = assess(due=DUE, state=state, at=DUE - timedelta(days=10))
    assert verdict.category is Category.NOT_YET_DUE  # nothing says the work has started
    assert verdict.flags == ("chưa báo cáo",)


def test_newest_report_gives_the_status_and_evidence_adds_up() -> None:
    state = standing(
        [
            ReportFact("in_progress", local_time("2026-11-20 09:00"), percent=40, evidence=1),
            ReportFact("done", local_time("2026-11-25 10:00"), note="xong", evidence=2),
        ]
    )
    assert (state.status, state.percent, state.note, state.evidence) == ("done", 100, "xong", 3)
    assert state.done_at == local_time("2026-11-25 10:00")
    assert not state.confirmed


def test_blocked_is_flagged() -> None:
    state = standing([ReportFact("blocked", local_time("2026-11-20 09:00"), note="vướng kinh phí")])
    verdict = assess(due=DUE, state=state, at=date(2026, 11, 29))
    assert verdict.category is Category.IN_PROGRESS
    assert verdict.flags == ("sắp đến hạn", "gặp khó khăn")


def test_returned_claim_reopens_the_occurrence() -> None:
    state = standing(
        [
            ReportFact("in_progress", local_time("2026-11-20 09:00"), percent=60),
            ReportFact(
                "done", local_time("2026-11-25 10:00"), returned=True, return_reason="Thiếu ảnh"
            ),
        ]
    )
    assert (state.status, state.percent, state.done_at) == ("in_progress", 60, None)
    assert state.returned and state.return_reason == "Thiếu ảnh"
    assert state.reported_at == local_time("2026-11-20 09:00")  # not the refused claim's day
    verdict = assess(due=DUE, state=state, at=date(2026, 12, 2))
    assert verdict.category is Category.OVERDUE
    assert "bị trả lại" in verdict.flags


def test_a_returned_claim_voids_earlier_done_claims_too() -> None:
    state = standing(
        [
            ReportFact("done", local_time("2026-11-20 09:00")),
            ReportFact("done", local_time("2026-11-21 09:00"), returned=True),
        ]
    )
    # The work is open again, in progress as the return says, and no report of it stands.
    assert state.status == "in_progress" and state.reported and state.returned
    assert state.reported_at is None and state.done_at is None


def test_a_new_claim_after_a_return_stands() -> None:
    state = standing(
        [
            ReportFact("done", local_time("2026-11-20 09:00"), returned=True),
            ReportFact("done", local_time("2026-11-22 09:00"), confirmed=True),
        ]
    )
    assert state.status == "done" and state.confirmed and not state.returned


def test_done_day_is_the_local_calendar_day() -> None:
    # 23:30 in Hà Nội is 16:30 UTC the same day; 00:30 the next day is still the UTC due day.
    on_time = standing([ReportFact("done", local_time("2026-11-30 23:30"))])
    late = standing([ReportFact("done", local_time("2026-12-01 00:30"))])
    at = date(2026, 12, 5)
    assert assess(due=DUE, state=on_time, at=at).category is Category.DONE_ON_TIME
    assert assess(due=DUE, state=late, at=at).category is Category.DONE_LATE


def test_day_end_is_local_midnight() -> None:
    assert day_end(DUE) == local_time("2026-12-01 00:00")
    assert local_time("2026-11-30 23:59") < day_end(DUE)

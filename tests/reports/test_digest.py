"""The digest's aggregate figures are the consolidated report's, without a row per occurrence."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from reports.digest import WeekSummary, week_summary
from reports.figures import build_report
from reports.model import PlanReport
from storage.models import Occurrence
from tests.utils.clock import local_time
from tests.utils.factories import assign, make_plan, make_report, make_task, make_unit

AT = date(2026, 11, 23)
NOW = local_time("2026-11-23 09:00")
QUARTERS = [date(2026, 3, 31), date(2026, 6, 30), date(2026, 9, 30), date(2026, 12, 31)]


def both(session: Session) -> tuple[WeekSummary, PlanReport]:
    """The digest's figures and the full report of KH-T, at the same moment."""
    session.commit()
    summary = week_summary(session, plan_code="KH-T", now=NOW)
    return summary, build_report(session, plan_code="KH-T", at=AT, now=NOW)


def assert_same(summary: WeekSummary, report: PlanReport) -> None:
    """Every figure and list head the digest shows agrees with the full report."""
    assert summary.plan == report.plan
    assert summary.tally == report.tally
    assert (summary.units_count, summary.tasks_count) == (report.units_count, report.tasks_count)
    assert summary.overdue.total == len(report.overdue_by_unit)
    assert [
        (g.unit, g.total, [(t.key, t.due_date) for t in g.tasks]) for g in summary.overdue.items
    ] == [
        (g.unit, len(g.rows), [(r.task.key, r.due_date) for r in g.rows[:6]])
        for g in report.overdue_by_unit[:25]
    ]
    assert summary.difficulties.total == len(report.difficulties)
    assert summary.difficulties.items == report.difficulties[:10]
    assert summary.silent.total == len(report.silent_units)
    assert summary.silent.items == report.silent_units[:60]


def test_every_category_flag_and_list_matches_the_full_report(session: Session) -> None:
    make_unit(session, "UBND", name="UBND huyện Cẩm Giàng")
    make_unit(session, "PGDDT", name="Phòng Giáo dục và Đào tạo", parent="UBND")
    a, b, c, d = (make_unit(session, f"TH_{x}", parent="PGDDT") for x in "ABCD")
    xa = make_unit(session, "XA_1", name="UBND xã Cẩm Vũ", parent="UBND")
    plan = make_plan(session, "KH-T", number="12/KH-UBND", coordinator="PGDDT")
    once = make_task(session, plan, "1")
    quarterly = make_task(session, plan, "2")
    ongoing = make_task(session, plan, "3", due_kind="ongoing")
    soon = make_task(session, plan, "4")
    occ: dict[str, Occurrence] = {}
    for unit in (a, b, c, xa):
        (occ[f"once-{unit.code}"],) = assign(
            session, once, unit, [date(2026, 11, 20)], periods=["once"]
        )
    for unit in (a, b, d):
        for day, found in zip(
            QUARTERS + [date(2027, 3, 31)],
            assign(session, quarterly, unit, QUARTERS + [date(2027, 3, 31)]),
            strict=True,
        ):
            occ[f"{day:%Y-%m}-{unit.code}"] = found
    (occ["ongoing-TH_A"],) = assign(session, ongoing, a)
    (occ["soon-TH_C"], retired) = assign(session, soon, c, [date(2026, 11, 25), date(2026, 12, 25)])
    retired.active = False  # a retired occurrence counts nowhere
    session.add(retired)
    make_report(session, occ["once-TH_A"], "done", local_time("2026-11-20 22:00"))  # on time
    make_report(session, occ["once-TH_B"], "done", local_time("2026-11-21 08:00"))  # late
    make_report(
        session, occ["once-TH_C"], "blocked", local_time("2026-11-20 10:00"), note="Thiếu kinh phí"
    )
    make_report(
        session, occ["2026-03-TH_A"], "in_progress", local_time("2026-03-01 08:00"), percent=40
    )
    make_report(session, occ["2026-06-TH_A"], "blocked", local_time("2026-07-01 08:00"), note="cũ")
    make_report(session, occ["2026-12-TH_A"], "in_progress", local_time("2026-11-22 08:00"))
    make_report(session, occ["2026-09-TH_B"], "done", local_time("2026-09-30 16:00"))
    make_report(session, occ["2027-03-TH_D"], "done", local_time("2026-11-01 08:00"))  # early
    make_report(session, occ["ongoing-TH_A"], "in_progress", local_time("2026-11-10 08:00"))
    summary, report = both(session)
    assert_same(summary, report)
    counts = summary.tally.counts
    assert sum(counts.values()) == len(report.rows) and all(counts.values())  # every category
    assert summary.difficulties.total == 1 and summary.silent.total == 1  # TH_C; XA_1


def test_long_lists_are_read_as_far_as_a_message_shows_them(session: Session) -> None:
    make_unit(session, "PGDDT", name="Phòng Giáo dục và Đào tạo")
    plan = make_plan(session, "KH-T", coordinator="PGDDT")
    tasks = [make_task(session, plan, str(n)) for n in range(1, 9)]
    units = [make_unit(session, f"T{n:03d}", parent="PGDDT") for n in range(70)]
    for index, unit in enumerate(units):
        for task in tasks[: 1 + index % 8]:  # units owe 1 to 8 overdue tasks
            (found,) = assign(session, task, unit, [date(2026, 11, 2)], periods=["once"])
            if index % 5 == 0:
                make_report(
                    session, found, "blocked", local_time("2026-11-20 08:00"), note=f"n{index}"
                )
    summary, report = both(session)
    assert_same(summary, report)
    assert (summary.overdue.total, len(summary.overdue.items)) == (70, 25)
    assert summary.difficulties.total > 10 and summary.silent.total == 56


def test_periods_due_on_the_same_next_day_all_count_and_later_ones_not(session: Session) -> None:
    make_unit(session, "PGDDT", name="Phòng Giáo dục và Đào tạo")
    plan = make_plan(session, "KH-T", coordinator="PGDDT")
    task = make_task(session, plan, "1")
    unit = make_unit(session, "TH_A", parent="PGDDT")
    dues = [date(2026, 12, 31), date(2026, 12, 31), date(2027, 3, 31)]
    assign(session, task, unit, dues, periods=["2026-Q4a", "2026-Q4b", "2027-Q1"])
    summary, report = both(session)
    assert_same(summary, report)
    assert sum(summary.tally.counts.values()) == len(report.rows) == 2

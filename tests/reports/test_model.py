"""The report model built from storage, /status views and the chat texts made from them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from plans.errors import UnknownUnitError
from plans.status import Category
from reports.chat_text import build_digest_text, build_status_text, telegram_length
from reports.digest import week_summary
from reports.figures import build_report, build_status
from reports.model import (
    OutOfScopeError,
    PlanReport,
    ReportRow,
    StatusScope,
    UnknownPlanError,
    UnknownTaskError,
)
from storage.models import Occurrence, Plan, Task, Unit
from tests.utils.clock import local_time
from tests.utils.factories import (
    assign,
    make_assignment,
    make_occurrence,
    make_plan,
    make_report,
    make_task,
    make_unit,
)

AT = date(2026, 11, 23)
DIGEST_TIME = local_time("2026-11-23 07:30")
QUARTERS = [date(2026, 3, 31), date(2026, 6, 30), date(2026, 9, 30), date(2026, 12, 31)]


@dataclass
class County:
    """A small directory and plan: two schools under the education office, one commune."""

    plan: Plan
    once: Task
    quarterly: Task
    ongoing: Task
    occ: dict[str, Occurrence]


@pytest.fixture
def county(session: Session) -> County:
    """Units UBND > PGDDT > {TH_A, TH_B} and XA_1; a plan with three kinds of task."""
    make_unit(session, "UBND", name="UBND huyện Cẩm Giàng")
    make_unit(session, "PGDDT", name="Phòng Giáo dục và Đào tạo", parent="UBND")
    a = make_unit(session, "TH_A", name="Trường Tiểu học A", parent="PGDDT")
    b = make_unit(session, "TH_B", name="Trường Tiểu học B", parent="PGDDT")
    xa = make_unit(session, "XA_1", name="UBND xã Cẩm Vũ", parent="UBND")
    plan = make_plan(session, "KH-T", number="12/KH-UBND", coordinator="PGDDT")
    once = make_task(session, plan, "1", title="Rà soát cơ sở vật chất")
    quarterly = make_task(session, plan, "2", title="Báo cáo quý")
    ongoing = make_task(session, plan, "3", title="Tuyên truyền", due_kind="ongoing")
    occ: dict[str, Occurrence] = {}
    for unit in (a, b, xa):
        (occ[f"once-{unit.code}"],) = assign(
            session, once, unit, [date(2026, 11, 20)], periods=["once"]
        )
    for index, occurrence in enumerate(assign(session, quarterly, a, QUARTERS), 1):
        occ[f"q{index}-TH_A"] = occurrence
    (occ["ongoing-TH_A"],) = assign(session, ongoing, a)
    session.commit()
    return County(plan, once, quarterly, ongoing, occ)


def _row(report: PlanReport, occurrence: Occurrence) -> ReportRow:
    """The report row of an occurrence."""
    return next(r for r in report.rows if r.occurrence_id == occurrence.id)


def _unit(session: Session, code: str) -> Unit:
    """A unit by code."""
    return session.exec(select(Unit).where(Unit.code == code)).one()


def test_unknown_plan(session: Session) -> None:
    with pytest.raises(UnknownPlanError):
        build_report(session, plan_code="NOPE", at=AT)


def test_header_and_one_row_per_tracked_occurrence(session: Session, county: County) -> None:
    report = build_report(session, plan_code="KH-T", at=AT)
    assert report.plan.number == "12/KH-UBND"
    assert report.plan.coordinator.name == "Phòng Giáo dục và Đào tạo"
    assert report.plan.coordinator_parent is not None
    assert report.plan.coordinator_parent.name == "UBND huyện Cẩm Giàng"
    # once × 3 units, quarters due by 23/11 (3) + the current one (31/12), ongoing: 8 rows.
    assert len(report.rows) == 8
    assert (report.units_count, report.tasks_count) == (3, 3)
    assert [r.unit.code for r in report.rows] == ["TH_A"] * 6 + ["TH_B", "XA_1"]


def test_recurring_shows_past_periods_and_only_the_next_one(
    session: Session, county: County
) -> None:
    early = build_report(session, plan_code="KH-T", at=date(2026, 5, 1))
    periods = [r.due_date for r in early.rows if r.task.key == "2"]
    assert periods == [date(2026, 3, 31), date(2026, 6, 30)]
    assert [r.category for r in early.rows if r.task.key == "2"] == [
        Category.OVERDUE,
        Category.NOT_YET_DUE,
    ]


def test_categories_from_report_history(session: Session, county: County) -> None:
    occ = county.occ
    make_report(session, occ["once-TH_A"], "done", local_time("2026-11-20 22:00"))
    make_report(
        session, occ["once-TH_B"], "in_progress", local_time("2026-11-10 08:00"), percent=50
    )
    make_report(session, occ["once-TH_B"], "done", local_time("2026-11-21 08:00"))
    make_report(session, occ["q1-TH_A"], "blocked", local_time("2026-11-18 08:00"), note="vướng")
    make_report(session, occ["ongoing-TH_A"], "in_progress", local_time("2026-11-01 08:00"))
    session.commit()
    report = build_report(session, plan_code="KH-T", at=AT)
    assert _row(report, occ["once-TH_A"]).category is Category.DONE_ON_TIME
    assert _row(report, occ["once-TH_B"]).category is Category.DONE_LATE
    assert _row(report, occ["once-XA_1"]).category is Category.OVERDUE
    assert _row(report, occ["once-XA_1"]).unreported
    blocked = _row(report, occ["q1-TH_A"])
    assert (blocked.category, blocked.blocked, blocked.note) == (Category.OVERDUE, True, "vướng")
    assert _row(report, occ["q4-TH_A"]).category is Category.NOT_YET_DUE
    assert _row(report, occ["ongoing-TH_A"]).category is Category.NO_DEADLINE
    assert report.counts == {
        Category.DONE_ON_TIME: 1,
        Category.DONE_LATE: 1,
        Category.IN_PROGRESS: 0,
        Category.NOT_YET_DUE: 1,
        Category.OVERDUE: 4,
        Category.NO_DEADLINE: 1,
    }
    assert report.completion_percent == round(100 * 2 / 7, 1)
    assert [g.unit.code for g in report.overdue_by_unit] == ["TH_A", "XA_1"]
    assert [u.code for u in report.silent_units] == ["XA_1"]
    assert [d.note for d in report.difficulties] == ["vướng"]
    assert [g.unit.code for g in report.blocked_by_unit] == ["TH_A"]


def test_a_past_date_ignores_later_reports(session: Session, county: County) -> None:
    occ = county.occ["once-TH_A"]
    make_report(session, occ, "in_progress", local_time("2026-11-15 08:00"), percent=30)
    make_report(session, occ, "done", local_time("2026-11-25 08:00"))
    session.commit()
    before = _row(build_report(session, plan_code="KH-T", at=date(2026, 11, 24)), occ)
    assert (before.category, before.status, before.percent) == (Category.OVERDUE, "in_progress", 30)
    untouched = _row(build_report(session, plan_code="KH-T", at=date(2026, 11, 14)), occ)
    assert untouched.unreported and untouched.category is Category.NOT_YET_DUE
    after = _row(build_report(session, plan_code="KH-T", at=date(2026, 11, 25)), occ)
    assert after.category is Category.DONE_LATE
    assert after.reported_on == date(2026, 11, 25)


def test_report_at_the_end_of_the_local_day_counts(session: Session, county: County) -> None:
    occ = county.occ["once-TH_A"]
    make_report(session, occ, "done", local_time("2026-11-20 23:59"))
    session.commit()
    row = _row(build_report(session, plan_code="KH-T", at=date(2026, 11, 20)), occ)
    assert row.category is Category.DONE_ON_TIME


def test_returned_claim_counts_only_after_its_return(session: Session, county: County) -> None:
    occ = county.occ["once-TH_A"]
    make_report(
        session,
        occ,
        "done",
        local_time("2026-11-19 08:00"),
        returned_at=local_time("2026-11-21 15:00"),
        return_reason="Thiếu biên bản",
    )
    session.commit()
    standing_claim = _row(build_report(session, plan_code="KH-T", at=date(2026, 11, 20)), occ)
    assert standing_claim.category is Category.DONE_ON_TIME
    reopened = _row(build_report(session, plan_code="KH-T", at=AT), occ)
    assert reopened.category is Category.OVERDUE
    assert (reopened.returned, reopened.return_reason) == (True, "Thiếu biên bản")
    assert not reopened.unreported


def test_difficulties_are_those_of_the_last_seven_days(session: Session, county: County) -> None:
    make_report(session, county.occ["q1-TH_A"], "blocked", local_time("2026-11-16 23:00"))
    make_report(
        session, county.occ["q2-TH_A"], "blocked", local_time("2026-11-17 08:00"), note="mới"
    )
    session.commit()
    report = build_report(session, plan_code="KH-T", at=AT)
    assert [d.note for d in report.difficulties] == ["mới"]
    assert report.tally.blocked == 2


def test_inactive_rows_are_not_tracked(session: Session, county: County) -> None:
    county.occ["once-TH_B"].active = False
    stopped = make_assignment(session, county.ongoing, _unit(session, "TH_B"), active=False)
    make_occurrence(session, stopped)
    session.commit()
    report = build_report(session, plan_code="KH-T", at=AT)
    assert county.occ["once-TH_B"].id not in {r.occurrence_id for r in report.rows}
    assert len(report.rows) == 7


def test_queries_do_not_grow_with_the_plan(
    session: Session, engine: Engine, county: County
) -> None:
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    build_report(session, plan_code="KH-T", at=AT)
    small = len(statements)
    for i in range(30):
        unit = make_unit(session, f"TH_X{i}", parent="PGDDT")
        (occurrence,) = assign(session, county.once, unit, [date(2026, 11, 20)], periods=["once"])
        make_report(session, occurrence, "done", local_time("2026-11-19 08:00"))
    session.commit()
    statements.clear()
    build_report(session, plan_code="KH-T", at=AT)
    event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == small <= 7  # 7th: the coordinator's closings (reports/reads.py)


def head_of(*codes: str) -> StatusScope:
    """The scope of a head of these units."""
    return StatusScope(unit_codes=frozenset(codes))


def test_status_scope_is_the_callers_subtree(session: Session, county: County) -> None:
    view = build_status(session, at=AT, plan_code="KH-T", scope=head_of("PGDDT"))
    assert {line.unit.code for line in view.units} == {"TH_A", "TH_B"}
    assert view.tally.total == 7
    assert view.rows == []
    with pytest.raises(OutOfScopeError):
        build_status(session, at=AT, plan_code="KH-T", unit_code="XA_1", scope=head_of("PGDDT"))
    with pytest.raises(UnknownUnitError):
        build_status(session, at=AT, unit_code="NOPE")


def test_a_coordinator_sees_every_unit_of_their_plans_and_nothing_of_other_plans(
    session: Session, county: County
) -> None:
    other = make_plan(session, "KH-U", coordinator="UBND")  # someone else's plan
    assign(session, make_task(session, other, "1"), _unit(session, "TH_A"), [date(2026, 12, 15)])
    session.commit()
    coordinator = StatusScope(plan_ids=frozenset({county.plan.id}))
    view = build_status(session, at=AT, scope=coordinator)
    assert [line.plan.code for line in view.plans] == ["KH-T"]
    assert {line.unit.code for line in view.units} == {"TH_A", "TH_B", "XA_1"}
    drilled = build_status(session, at=AT, unit_code="TH_A", scope=coordinator)
    assert {r.task.plan_id for r in drilled.rows} == {county.plan.id}
    with pytest.raises(OutOfScopeError):
        build_status(session, at=AT, plan_code="KH-U", unit_code="TH_A", scope=coordinator)
    both = StatusScope(frozenset({"PGDDT"}), frozenset({county.plan.id}))  # head and coordinator
    assert [line.plan.code for line in build_status(session, at=AT, scope=both).plans] == [
        "KH-T",
        "KH-U",
    ]


def test_status_drills_down_to_a_unit_or_a_task(session: Session, county: County) -> None:
    unit_view = build_status(session, at=AT, plan_code="KH-T", unit_code="TH_A")
    assert unit_view.unit is not None and unit_view.unit.code == "TH_A"
    assert len(unit_view.rows) == 6
    task_view = build_status(session, at=AT, plan_code="KH-T", task_key="1")
    assert sorted(r.unit.code for r in task_view.rows) == ["TH_A", "TH_B", "XA_1"]
    with pytest.raises(UnknownTaskError):
        build_status(session, at=AT, plan_code="KH-T", task_key="9")


def test_status_without_a_plan_lists_plans(session: Session, county: County) -> None:
    other = make_plan(session, "KH-U", coordinator="PGDDT")
    task = make_task(session, other, "1")
    assign(session, task, _unit(session, "XA_1"), [date(2026, 12, 15)])
    session.commit()
    view = build_status(session, at=AT, scope=head_of("UBND"))
    assert [line.plan.code for line in view.plans] == ["KH-T", "KH-U"]
    assert view.plan is None
    text = build_status_text(view)
    assert "KH-U" in text and telegram_length(text) <= 4096


def test_digest_fits_telegram_with_500_units(session: Session) -> None:
    make_unit(session, "PGDDT", name="Phòng Giáo dục và Đào tạo")
    plan = make_plan(session, "KH-500", title="Kế hoạch " + "rất dài " * 100)
    tasks = [make_task(session, plan, f"III.{i}", title=f"Nhiệm vụ {i}") for i in range(1, 4)]
    for i in range(500):
        unit = make_unit(
            session, f"T{i:03d}", name=f"Trường Trung học cơ sở số {i} <xã> & thị trấn"
        )
        for task in tasks:
            (occurrence,) = assign(session, task, unit, [date(2026, 11, 1)], periods=["once"])
            if i % 7 == 0:
                make_report(
                    session, occurrence, "blocked", local_time("2026-11-20 08:00"), note="x" * 900
                )
    session.commit()
    summary = week_summary(session, plan_code="KH-500", now=DIGEST_TIME)
    text = build_digest_text(summary, attached=True)
    assert telegram_length(text) <= 4096
    assert "... và " in text and "đơn vị khác" in text
    assert "&lt;xã&gt; &amp;" in text and "<xã>" not in text
    assert "Chưa hoàn thành, quá hạn: <b>1.500</b>" in text
    assert telegram_length(build_digest_text(summary, attached=True, limit=2000)) <= 2000  # Zalo
    status = build_status_text(build_status(session, at=AT, plan_code="KH-500", task_key="III.1"))
    assert telegram_length(status) <= 4096 and "nhiệm vụ khác" in status


def test_digest_lists_everything_when_it_is_short(session: Session, county: County) -> None:
    make_report(
        session, county.occ["q1-TH_A"], "blocked", local_time("2026-11-20 08:00"), note="<b>"
    )
    session.commit()
    summary = week_summary(session, plan_code="KH-T", now=DIGEST_TIME)
    text = build_digest_text(summary, attached=True)
    assert "Quá hạn theo đơn vị" in text and "Trường Tiểu học A" in text
    assert "Khó khăn mới trong tuần" in text and "&lt;b&gt;" in text
    assert "Đơn vị chưa báo cáo lần nào" in text and "UBND xã Cẩm Vũ" in text
    assert "khác" not in text

"""Small factories that insert units, plans, tasks, assignments, occurrences and reports."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

from sqlmodel import Session, func, select

from storage.models import Assignment, Contact, Occurrence, Plan, Report, Task, Unit

IMPORTED_AT = datetime(2026, 1, 1, tzinfo=UTC)


def make_unit(
    session: Session, code: str, *, name: str | None = None, parent: str | None = None
) -> Unit:
    """An active unit."""
    unit = Unit(code=code, name=name or f"Đơn vị {code}", parent_code=parent)
    session.add(unit)
    session.flush()
    return unit


def make_plan(
    session: Session,
    code: str = "KH-TEST",
    *,
    coordinator: str = "PGDDT",
    number: str | None = None,
    title: str | None = None,
    issuer: str | None = "UBND huyện Cẩm Giàng",
    issued: date = date(2026, 1, 5),
) -> Plan:
    """A plan with no tasks yet."""
    plan = Plan(
        code=code,
        number=number,
        title=title or f"Kế hoạch {code}",
        issuer=issuer,
        issued=issued,
        coordinator_code=coordinator,
        imported_at=IMPORTED_AT,
    )
    session.add(plan)
    session.flush()
    return plan


def make_task(
    session: Session,
    plan: Plan,
    key: str,
    *,
    title: str | None = None,
    owner: str = "",
    due_text: str = "",
    due_kind: str = "dated",
    position: int | None = None,
) -> Task:
    """A task of a plan; its position defaults to the order of creation."""
    assert plan.id is not None
    task = Task(
        plan_id=plan.id,
        key=key,
        position=position if position is not None else _next_position(session, plan),
        title=title or f"Nhiệm vụ {key}",
        owner_code=owner,
        due_text=due_text,
        due_kind=due_kind,
    )
    session.add(task)
    session.flush()
    return task


def make_assignment(session: Session, task: Task, unit: Unit, *, active: bool = True) -> Assignment:
    """A task owned by one unit."""
    assert task.id is not None and unit.id is not None
    assignment = Assignment(task_id=task.id, unit_id=unit.id, active=active)
    session.add(assignment)
    session.flush()
    return assignment


def make_occurrence(
    session: Session,
    assignment: Assignment,
    due: date | None = None,
    *,
    period: str | None = None,
    active: bool = True,
) -> Occurrence:
    """One due date of an assignment; the period defaults to the ISO date (or "ongoing")."""
    assert assignment.id is not None
    occurrence = Occurrence(
        assignment_id=assignment.id,
        period=period or (due.isoformat() if due else "ongoing"),
        due_date=due,
        active=active,
    )
    session.add(occurrence)
    session.flush()
    return occurrence


def assign(
    session: Session,
    task: Task,
    unit: Unit,
    dues: Sequence[date | None] = (None,),
    *,
    periods: Sequence[str] | None = None,
) -> list[Occurrence]:
    """An assignment with one occurrence per due date (None: an ongoing task)."""
    assignment = make_assignment(session, task, unit)
    keys = periods or [None] * len(dues)
    return [
        make_occurrence(session, assignment, due, period=key)
        for due, key in zip(dues, keys, strict=True)
    ]


def make_contact(
    session: Session, unit: Unit, *, role: str = "contact", chat_id: str = "1"
) -> Contact:
    """A registered Telegram contact of a unit."""
    assert unit.id is not None
    contact = Contact(
        channel="telegram", chat_id=chat_id, unit_id=unit.id, role=role, created_at=IMPORTED_AT
    )
    session.add(contact)
    session.flush()
    return contact


def make_report(
    session: Session,
    occurrence: Occurrence,
    status: str,
    at: datetime,
    *,
    percent: int | None = None,
    note: str = "",
    evidence: Sequence[str] = (),
    contact: Contact | None = None,
    confirmed_at: datetime | None = None,
    returned_at: datetime | None = None,
    return_reason: str | None = None,
) -> Report:
    """A status report created at `at`; the occurrence's current status follows it."""
    assert occurrence.id is not None
    report = Report(
        occurrence_id=occurrence.id,
        contact_id=contact.id if contact else None,
        status=status,
        percent=percent,
        note=note,
        evidence=list(evidence),
        created_at=at,
        confirmed_at=confirmed_at,
        returned_at=returned_at,
        return_reason=return_reason,
    )
    session.add(report)
    if returned_at is None:
        occurrence.status = status
        occurrence.percent = percent
        occurrence.reported_at = at
        occurrence.done_at = at if status == "done" else None
        occurrence.confirmed_at = confirmed_at
    else:  # returned: the work is open again, as handlers/confirmations.py leaves it
        occurrence.status = "in_progress"
        occurrence.percent = None
        occurrence.done_at = None
    session.add(occurrence)
    session.flush()
    return report


def _next_position(session: Session, plan: Plan) -> int:
    """The number of tasks the plan already has."""
    return session.exec(select(func.count()).select_from(Task).where(Task.plan_id == plan.id)).one()

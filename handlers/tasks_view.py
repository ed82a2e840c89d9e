"""/viec and /baocao: the unit's current tasks, each with its short code and buttons."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, select

from chat.buttons import status_buttons
from chat.messages import Button, Capabilities
from chat.texts import message
from handlers.reporting import OpenItem
from handlers.types import Outcome
from plans.clock import local_date
from plans.status import STATUS_LABELS
from storage.enums import AssignmentRole, ReportStatus, Role
from storage.models import Assignment, Contact, Occurrence, Plan, Task, Unit
from storage.queries import ensure_ref_code, with_occurrence_context

LIST_LIMIT = 15
TITLE_LIMIT = 120


@dataclass(frozen=True)
class ListedTask:
    """A task line of /viec."""

    code: str
    plan_label: str
    task_key: str
    title: str
    unit_name: str
    due_label: str
    status_label: str
    partner: bool = False  # the unit takes part ("phối hợp"); without a code it does not report


def current_occurrences(
    session: Session, unit_id: int, *, today_iso: str, include_done: bool
) -> list[tuple[Occurrence, Task, Plan, Unit]]:
    """Per assignment: occurrences already due and not done, plus the next upcoming one."""
    rows = session.exec(
        with_occurrence_context(select(Occurrence, Task, Plan, Unit))
        .where(Assignment.unit_id == unit_id, Assignment.active, Occurrence.active, Task.active)
        .where(col(Task.due_kind).in_(("dated", "ongoing")))
        .order_by(col(Occurrence.due_date), col(Task.position))
    ).all()
    chosen: list[tuple[Occurrence, Task, Plan, Unit]] = []
    upcoming_seen: set[int] = set()
    for occurrence, task, plan, unit in rows:
        closed = occurrence.status == ReportStatus.DONE and (
            not include_done or occurrence.confirmed_at is not None
        )
        due = occurrence.due_date
        if due is None or due.isoformat() <= today_iso:
            if not closed:
                chosen.append((occurrence, task, plan, unit))
        elif occurrence.assignment_id not in upcoming_seen:
            upcoming_seen.add(occurrence.assignment_id)
            if not closed:
                chosen.append((occurrence, task, plan, unit))
    return chosen


def task_list(
    session: Session,
    shows: Capabilities,
    contacts: list[Contact],
    *,
    now: datetime,
    include_done: bool,
) -> Outcome:
    """List the chat's units' current tasks with a row of status buttons each."""
    today = local_date(now)
    lines: list[ListedTask] = []
    buttons: list[list[Button]] = []
    for contact in contacts:
        if contact.role != Role.CONTACT or contact.id is None:
            continue
        rows = current_occurrences(
            session, contact.unit_id, today_iso=today.isoformat(), include_done=include_done
        )
        partners = _partner_assignments(session, contact.unit_id)
        for occurrence, task, plan, unit in rows:
            assert occurrence.id is not None
            partner = occurrence.assignment_id in partners
            if partner and not task.partners_report:  # shown, marked; nothing to report
                if not include_done:
                    lines.append(_listed("", occurrence, task, plan, unit, today, partner=True))
                continue
            code = ensure_ref_code(
                session=session, contact_id=contact.id, occurrence_id=occurrence.id, now=now
            )
            lines.append(_listed(code, occurrence, task, plan, unit, today, partner=partner))
            buttons.append(list(status_buttons(code, with_labels=False)))
    if not lines:
        if not any(c.role == Role.CONTACT for c in contacts):
            return Outcome(messages=(message(shows, "not_allowed"),))
        return Outcome(messages=(message(shows, "no_open"),))
    shown = lines[:LIST_LIMIT]
    title = "Báo cáo nhiệm vụ" if include_done else "Nhiệm vụ đang mở"
    msg = message(
        shows,
        "task_list",
        buttons=buttons[:LIST_LIMIT],
        title=title,
        items=shown,
        more=len(lines) - len(shown),
    )
    return Outcome(messages=(msg,))


def _partner_assignments(session: Session, unit_id: int) -> set[int]:
    """The ids of the unit's assignments in which it is a partner ("phối hợp")."""
    found = session.exec(
        select(col(Assignment.id)).where(
            Assignment.unit_id == unit_id,
            Assignment.active,
            Assignment.role == AssignmentRole.PARTNER,
        )
    )
    return {assignment_id for assignment_id in found if assignment_id is not None}


def _listed(
    code: str,
    occurrence: Occurrence,
    task: Task,
    plan: Plan,
    unit: Unit,
    today: date,
    *,
    partner: bool = False,
) -> ListedTask:
    """One line of the list."""
    due = occurrence.due_date
    if due is None:
        due_label = "thường xuyên"
    else:
        days = (due - today).days
        when = (
            f"còn {days} ngày" if days > 0 else "hôm nay" if days == 0 else f"quá hạn {-days} ngày"
        )
        due_label = f"hạn {due:%d/%m/%Y} ({when})"
    status = STATUS_LABELS[occurrence.status]
    if occurrence.status == ReportStatus.IN_PROGRESS and occurrence.percent is not None:
        status = f"{status} {occurrence.percent}%"
    title = task.title if len(task.title) <= TITLE_LIMIT else task.title[: TITLE_LIMIT - 1] + "…"
    return ListedTask(
        code=code,
        plan_label=plan.number or plan.code,
        task_key=task.key,
        title=title,
        unit_name=unit.name,
        due_label=due_label,
        status_label=status if code else "",
        partner=partner,
    )


def pick(shows: Capabilities, items: list[OpenItem]) -> Outcome:
    """Ask which task a reply to a combined reminder is about."""
    rows = [list(status_buttons(i.ref.code, with_labels=False)) for i in items]
    listed = [
        {"code": i.ref.code, "task_key": i.task.key, "title": i.task.title[:120]} for i in items
    ]
    return Outcome(messages=(message(shows, "pick_task", buttons=rows, items=listed),))

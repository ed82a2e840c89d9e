"""Give an undated task a deadline of a coordinator's choosing."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from plans.calendar import Calendar, default_calendar
from plans.deadline import Deadline, parse_deadline
from plans.errors import DondocError
from plans.expansion import UNDATED, horizon_for, read_task, task_changes
from plans.import_scope import ImportScope, directory_from_db
from plans.import_writer import BATCH_ROWS, BatchWriter, ImportSummary, assign, write_changes
from plans.policy import ReminderPolicy
from storage.models import Task
from storage.queries import plan_by_code


class TaskDueError(DondocError):
    """A date given to a task that cannot take it; nothing is changed."""


def set_task_due(
    session: Session,
    *,
    plan_code: str,
    task_key: str,
    expression: str,
    now: datetime,
    calendar: Calendar | None = None,
) -> Deadline:
    """Give an undated task of a shown plan a deadline; its units are reminded from then on.

    The plan's imports keep it until the file gives the task a date of its own. Bad input
    raises TaskDueError or DeadlineError and changes nothing.
    """
    calendar = calendar or default_calendar()
    plan = plan_by_code(session=session, code=plan_code)
    if plan is None or plan.id is None or not plan.visible:
        raise TaskDueError(f"Không có kế hoạch mã {plan_code}.")
    task = session.exec(
        select(Task).where(Task.plan_id == plan.id, Task.key == task_key, Task.active)
    ).first()
    if task is None or task.id is None:
        raise TaskDueError(f"Kế hoạch {plan.code} không có nhiệm vụ {task_key}.")
    if task.due_kind != UNDATED and task.due_override is None:
        raise TaskDueError(f"Nhiệm vụ {task.key} đã có thời hạn trong kế hoạch: {task.due_text}.")
    deadline = parse_deadline(expression, issued=plan.issued, calendar=calendar)
    if deadline.kind != "dated":
        raise TaskDueError(
            "Thời hạn phải cho ra ngày cụ thể, ví dụ «trước ngày 30/6/2026» "
            "hoặc «Tháng 12 hằng năm»."
        )
    text = deadline.text.strip()
    assign(task, {"due_text": text, "due_kind": deadline.kind, "due_override": text})
    session.flush()
    scope = ImportScope(
        directory=directory_from_db(session),
        unit_ids={},
        horizon=plan.horizon or horizon_for(now, plan.issued, plan.until),
        now=now,
        policy=ReminderPolicy.from_mapping(plan.reminders),
        calendar=calendar,
    )
    state = read_task(session, task.id)
    units = {unit: held.role for unit, held in state.assignments.items() if held.active}
    writer = BatchWriter(session.get_bind(), size=BATCH_ROWS)
    writer.session = session
    changes = task_changes(state, units, scope.wanted(deadline), today=scope.today)
    write_changes(writer, task.id, changes, ImportSummary())
    return deadline

"""/dathan: a coordinator gives an undated task of a plan they coordinate its deadline."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, func, select

from chat.messages import Capabilities
from chat.texts import message
from handlers.confirmations import coordinated_plan_ids
from handlers.types import Outcome
from plans.errors import DondocError
from plans.task_due import set_task_due
from storage.enums import Role
from storage.models import Contact, Plan


def give_due(
    session: Session,
    shows: Capabilities,
    contacts: list[Contact],
    args: list[str],
    *,
    now: datetime,
) -> Outcome:
    """`/dathan KẾ_HOẠCH NHIỆM_VỤ THỜI_HẠN`; bad input gets a reason and changes nothing."""
    if not any(c.role == Role.COORDINATOR for c in contacts):
        return Outcome(messages=(message(shows, "not_allowed"),))
    if len(args) < 3:
        return Outcome(messages=(message(shows, "due_usage"),))
    plan_code, task_key, expression = args[0], args[1], " ".join(args[2:])
    plan = session.exec(select(Plan).where(func.upper(Plan.code) == plan_code.upper())).first()
    if plan is None or plan.id not in coordinated_plan_ids(session, contacts):
        return Outcome(messages=(message(shows, "due_not_coordinated", plan_code=plan_code),))
    try:
        deadline = set_task_due(
            session, plan_code=plan.code, task_key=task_key, expression=expression, now=now
        )
    except DondocError as exc:
        return Outcome(messages=(message(shows, "refused", reason=str(exc)),))
    reply = message(
        shows,
        "due_set",
        plan_code=plan.code,
        task_key=task_key,
        text=deadline.text,
        dates=deadline.dates()[:3],
    )
    return Outcome(messages=(reply,))

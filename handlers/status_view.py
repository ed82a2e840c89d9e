"""/status for heads and coordinators: a summary, then drill-down, only inside their scope."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from chat.buttons import DrillDown, plan_button, unit_button
from chat.messages import Button, Capabilities, OutgoingMessage
from chat.texts import message, to_plain
from handlers.confirmations import coordinated_plan_ids
from handlers.types import Outcome
from plans.clock import local_date
from reports.chat_text import build_status_text
from reports.figures import build_status
from reports.model import ReportError, StatusScope, StatusView
from storage.enums import Role
from storage.models import Contact, Plan, Unit

MAX_BUTTONS = 8
LEADERS = (Role.HEAD, Role.COORDINATOR)


def scope_of(session: Session, contacts: list[Contact]) -> StatusScope:
    """What the caller may see: a head's unit and all below it; a coordinator's own plans."""
    unit_ids = [c.unit_id for c in contacts if c.role == Role.HEAD]
    codes = session.exec(select(Unit.code).where(col(Unit.id).in_(unit_ids))).all()
    return StatusScope(frozenset(codes), frozenset(coordinated_plan_ids(session, contacts)))


def status(
    session: Session,
    shows: Capabilities,
    contacts: list[Contact],
    args: list[str],
    *,
    now: datetime,
) -> Outcome:
    """`/status [plan] [unit|task]`."""
    if not any(c.role in LEADERS for c in contacts):
        return Outcome(messages=(message(shows, "not_allowed"),))
    plan_codes = {p.upper(): p for p in session.exec(select(Plan.code)).all()}
    unit_codes = set(session.exec(select(Unit.code)).all())
    plan_code = unit_code = task_key = None
    rest = list(args[:2])
    if rest and rest[0].upper() in plan_codes:
        plan_code = plan_codes[rest.pop(0).upper()]
    if rest:
        word = rest.pop(0)
        if word.upper() in unit_codes:
            unit_code = word.upper()
        elif plan_code is not None:
            task_key = word
        else:
            return Outcome(messages=(message(shows, "status_unknown", word=word),))
    return _answer(session, shows, contacts, now, plan_code, unit_code, task_key)


def drill_down(
    session: Session,
    shows: Capabilities,
    contacts: list[Contact],
    drill: DrillDown,
    *,
    now: datetime,
) -> Outcome:
    """A drill-down button: re-checked against the caller's scope."""
    if not any(c.role in LEADERS for c in contacts):
        return Outcome(messages=(message(shows, "stale_button"),), popup="Nút không hợp lệ.")
    plan = session.get(Plan, drill.plan_id)
    unit = session.get(Unit, drill.unit_id) if drill.unit_id is not None else None
    if plan is None or (drill.unit_id is not None and unit is None):
        return Outcome(messages=(message(shows, "stale_button"),), popup="Nút không hợp lệ.")
    return _answer(session, shows, contacts, now, plan.code, unit.code if unit else None, None)


def _answer(
    session: Session,
    shows: Capabilities,
    contacts: list[Contact],
    now: datetime,
    plan_code: str | None,
    unit_code: str | None,
    task_key: str | None,
) -> Outcome:
    """Build the view within scope and render it with drill-down buttons."""
    try:
        view = build_status(
            session,
            at=local_date(now),
            plan_code=plan_code,
            unit_code=unit_code,
            task_key=task_key,
            scope=scope_of(session, contacts),
            now=now,
        )
    except ReportError as exc:
        return Outcome(messages=(message(shows, "refused", reason=str(exc)),), popup=str(exc))
    command = "/status" if shows.html else "status"
    text = build_status_text(view, command=command)
    if not shows.html:
        text = to_plain(text)
    return Outcome(messages=(OutgoingMessage(text=text, buttons=_buttons(view, shows)),))


def _buttons(view: StatusView, shows: Capabilities) -> tuple[tuple[Button, ...], ...]:
    """Plans to open from the summary, units to open from a plan."""
    if not shows.html:
        return ()
    if view.plan is None:
        return tuple(
            (plan_button(line.plan.id, line.plan.code),) for line in view.plans[:MAX_BUTTONS]
        )
    if view.unit is None:
        return tuple(
            (unit_button(view.plan.id, line.unit.id, line.unit.name),)
            for line in view.units[:MAX_BUTTONS]
        )
    return ()

"""Chat commands (with or without '/'): /help, /huy, /viec, /baocao, /status, /xacnhan, …"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from handlers import closing, confirmations, plan_intake, status_view, task_due, tasks_view
from handlers.replies import say
from handlers.reply_parser import fold
from handlers.state import clear_state, get_state
from handlers.types import Incoming, Outcome
from storage.enums import Role
from storage.models import Contact

COMMANDS = {
    "start",
    "help",
    "viec",
    "baocao",
    "status",
    "huy",
    "xacnhan",
    "dathan",
    "kehoach",
    "dongviec",
}


def command_of(text: str) -> tuple[str | None, list[str]]:
    """A command word (with or without '/'), or None for ordinary text."""
    if not text:
        return None, []
    words = text.split()
    head = words[0]
    slash = head.startswith("/")
    name = fold(head.lstrip("/").split("@", 1)[0])
    if name in COMMANDS:
        return name, words[1:]
    if slash:
        return head, []
    return None, []


def run_command(
    session: Session,
    incoming: Incoming,
    contacts: list[Contact],
    command: str,
    args: list[str],
    now: datetime,
    pending_ttl: timedelta,
) -> Outcome:
    """Run a command for a registered chat."""
    ch, shows = incoming.channel, incoming.capabilities
    roles = {c.role for c in contacts}
    if command in ("help", "start"):
        return say(
            shows,
            "help",
            is_contact=Role.CONTACT in roles,
            is_head=bool(roles & {Role.HEAD, Role.COORDINATOR}),
            is_coordinator=Role.COORDINATOR in roles,
        )
    if command == "huy":
        had_step = bool(get_state(session, ch, incoming.chat_id, now=now, ttl=pending_ttl))
        clear_state(session, ch, incoming.chat_id)
        return say(shows, "cancelled", had_step=had_step)
    if command in ("viec", "baocao"):
        return tasks_view.task_list(
            session, shows, contacts, now=now, include_done=command == "baocao"
        )
    if command == "status":
        return status_view.status(session, shows, contacts, args, now=now)
    if command == "xacnhan":
        return confirmations.pending_list(session, incoming, contacts, args, now=now)
    if command == "dongviec":
        return closing.close_command(session, incoming, contacts, args, now=now)
    if command == "dathan":
        return task_due.give_due(session, shows, contacts, args, now=now)
    if command == "kehoach":
        return plan_intake.howto(incoming, contacts)
    return say(shows, "unknown_command", command=command)

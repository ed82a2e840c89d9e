"""Build a small district through the real import path: units, a plan, registered contacts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from plans.importer import load_and_import_plan
from plans.units_file import load_units_file
from plans.units_import import import_units
from storage.db import session_scope
from storage.models import Contact, Unit


@dataclass(frozen=True)
class World:
    """Codes and chat ids of what was built."""

    plan_code: str
    schools: list[str]
    school_chats: dict[str, str]
    head_chat: str
    coordinator_chat: str


def units_yaml(schools: int) -> str:
    """A units file: UBND, PGDDT and `schools` schools under it."""
    lines = [
        "units:",
        "  - {code: UBND, name: UBND huyện}",
        "  - {code: PGDDT, name: Phòng Giáo dục và Đào tạo, parent: UBND}",
    ]
    for i in range(1, schools + 1):
        lines.append(
            f"  - {{code: THCS_{i:04d}, name: Trường THCS số {i}, parent: PGDDT, groups: [TRUONG]}}"
        )
    lines.append("groups:\n  TRUONG: Các trường")
    return "\n".join(lines) + "\n"


def plan_yaml(
    tasks: list[tuple[str, str, str]], reminders: str = "", issued: str = "2026-11-01"
) -> str:
    """A plan coordinated by PGDDT with (id, owner, due) tasks."""
    body = [
        "code: KH-TEST",
        'number: "99/KH-PGDDT"',
        "title: Kế hoạch thử nghiệm",
        f"issued: {issued}",
        "coordinator: PGDDT",
    ]
    if reminders:
        body.append(reminders)
    body.append("tasks:")
    for key, owner, due in tasks:
        body += [
            f'  - id: "{key}"',
            f"    title: Nhiệm vụ {key} của các trường",
            f"    owner: {owner}",
            f"    due: {due}",
        ]
    return "\n".join(body) + "\n"


def build_world(
    engine: Engine,
    folder: Path,
    *,
    now: datetime,
    schools: int = 3,
    tasks: list[tuple[str, str, str]] | None = None,
    channel: str = "telegram",
    reminders: str = "",
    issued: str = "2026-11-01",
    register: bool = True,
) -> World:
    """Import units and a plan, and register a contact per school, a head and a coordinator."""
    tasks = tasks or [("1", "TRUONG", "30/11/2026")]
    units_path = folder / "units.yaml"
    units_path.write_text(units_yaml(schools), encoding="utf-8")
    plan_path = folder / "plan.yaml"
    plan_path.write_text(plan_yaml(tasks, reminders, issued), encoding="utf-8")
    with session_scope(engine) as session:
        import_units(session, load_units_file(units_path), now=now)
    load_and_import_plan(engine, plan_path, now=now)
    chats: dict[str, str] = {}
    if not register:
        return World("KH-TEST", [f"THCS_{i:04d}" for i in range(1, schools + 1)], {}, "", "")
    with session_scope(engine) as session:
        units = {u.code: u for u in session.exec(select(Unit))}
        for i in range(1, schools + 1):
            code = f"THCS_{i:04d}"
            chats[code] = str(100_000 + i)
            add_contact(session, units[code], chats[code], "contact", now, channel)
        add_contact(session, units["PGDDT"], "900001", "head", now, channel)
        add_contact(session, units["PGDDT"], "900002", "coordinator", now, channel)
    return World("KH-TEST", sorted(chats), chats, "900001", "900002")


def add_contact(
    session: Session, unit: Unit, chat_id: str, role: str, now: datetime, channel: str
) -> Contact:
    """Register a chat directly (the invite flow has its own tests)."""
    contact = Contact(
        channel=channel,
        chat_id=chat_id,
        unit_id=unit.id,  # type: ignore[arg-type]
        role=role,
        display_name=f"{role} {unit.code}",
        created_at=now,
    )
    session.add(contact)
    return contact

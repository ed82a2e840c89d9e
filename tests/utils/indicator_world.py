"""A district whose plan asks figures of its schools, imported through the real path."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from plans.importer import load_and_import_plan
from plans.units_file import load_units_file
from plans.units_import import import_units
from storage.db import session_scope
from storage.models import Assignment, Contact, Occurrence, Task, Unit
from storage.queries import ensure_ref_code
from tests.utils.world import World, add_contact

# Two clusters of schools under the office: a tree with levels, so reports subtotal it.
UNITS = """\
units:
  - {code: UBND, name: UBND huyện}
  - {code: PGDDT, name: Phòng Giáo dục và Đào tạo, parent: UBND}
  - {code: CUM_1, name: Cụm trường số 1, parent: PGDDT}
  - {code: CUM_2, name: Cụm trường số 2, parent: PGDDT}
  - {code: THCS_0001, name: Trường THCS số 1, parent: CUM_1, groups: [TRUONG]}
  - {code: THCS_0002, name: Trường THCS số 2, parent: CUM_1, groups: [TRUONG]}
  - {code: THCS_0003, name: Trường THCS số 3, parent: CUM_2, groups: [TRUONG]}
groups:
  TRUONG: Các trường
"""
PLAN = """\
code: KH-TEST
number: "99/KH-PGDDT"
title: Kế hoạch thử nghiệm
issued: 2026-11-01
coordinator: PGDDT
tasks:
  - id: "A"
    title: Rà soát cơ sở vật chất, báo cáo phòng học kiên cố
    owner: TRUONG
    due: {due_a}
    indicators:
      - code: phong
        name: Phòng học kiên cố
        unit: phòng
        kind: ratio
        target: 100%
        target_unit: 100%
      - code: ns
        name: Kinh phí sửa chữa
        unit: triệu đồng
        kind: number
      - code: ht
        name: Đã quán triệt
        kind: yesno
        target_unit: có
  - id: "B"
    title: Tuyên truyền
    owner: TRUONG
    due: {due_b}
"""
SCHOOLS = ("THCS_0001", "THCS_0002", "THCS_0003")


def indicator_world(
    engine: Engine,
    folder: Path,
    *,
    now: datetime,
    channel: str = "telegram",
    due_a: str = "30/11/2026",
    due_b: str = "26/11/2026",
    register: bool = True,
) -> World:
    """Import the units and the plan; register each school's contact, a head, a coordinator."""
    (folder / "units.yaml").write_text(UNITS, encoding="utf-8")
    plan = PLAN.replace("{due_a}", due_a).replace("{due_b}", due_b)
    (folder / "plan.yaml").write_text(plan, encoding="utf-8")
    with session_scope(engine) as session:
        import_units(session, load_units_file(folder / "units.yaml"), now=now)
    load_and_import_plan(engine, folder / "plan.yaml", now=now)
    if not register:
        return World("KH-TEST", list(SCHOOLS), {}, "", "")
    chats = {code: str(100_000 + n) for n, code in enumerate(SCHOOLS, 1)}
    with session_scope(engine) as session:
        units = {u.code: u for u in session.exec(select(Unit))}
        for code, chat in chats.items():
            add_contact(session, units[code], chat, "contact", now, channel)
        add_contact(session, units["PGDDT"], "900001", "head", now, channel)
        add_contact(session, units["PGDDT"], "900002", "coordinator", now, channel)
    return World("KH-TEST", list(SCHOOLS), chats, "900001", "900002")


def codes_for(engine: Engine, chat_id: str, now: datetime) -> dict[str, list[str]]:
    """Short codes a reminder would give the chat: task key → one per occurrence, by due date."""
    codes: dict[str, list[str]] = {}
    with Session(engine) as session:
        contact = session.exec(select(Contact).where(Contact.chat_id == chat_id)).one()
        rows = session.exec(
            select(Occurrence, Task)
            .join(Assignment, Assignment.id == Occurrence.assignment_id)
            .join(Task, Task.id == Assignment.task_id)
            .where(Assignment.unit_id == contact.unit_id, Occurrence.active)
            .order_by(Task.key, Occurrence.due_date)
        ).all()
        for occurrence, task in rows:
            assert contact.id is not None and occurrence.id is not None
            code = ensure_ref_code(
                session=session, contact_id=contact.id, occurrence_id=occurrence.id, now=now
            )
            codes.setdefault(task.key, []).append(code)
        session.commit()
    return codes

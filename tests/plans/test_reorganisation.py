"""The 2025 reorganisation replayed on the example units and plans after a month of history:
the district offices are dissolved and three communes merge into a new one (1 July 2025)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from plans.importer import load_and_import_plan
from plans.units_file import load_units_file
from plans.units_import import import_units
from reports.figures import build_report
from reports.templates import render
from storage.db import session_scope
from storage.enums import Role
from storage.models import Assignment, Occurrence, Outbox, Task, Unit
from tests.plans.test_plan_model import code_of, run_tick, say
from tests.utils.clock import local_time
from tests.utils.world import add_contact

IMPORTED = local_time("2025-06-02 09:00")
REORGANISED = local_time("2025-07-01 09:00")
OFFICES = ("PNV", "PTCKH", "PLDTBXH", "PTNMT", "PKTHT", "PVHTT")  # dissolved: no successor
COMMUNES = ("XA_CAM_HUNG", "XA_CAM_HOANG", "XA_CAM_VAN")  # merged into XA_TUE_TINH
CHATS = {code: str(1000 + i) for i, code in enumerate((*OFFICES, *COMMUNES))}
NEW_COMMUNE_CHAT = "2000"
PLAN = "KH-GDDT-2023"


def reorganised_units(examples: Path) -> str:
    """The example units file as it reads after 1 July 2025."""
    text = (examples / "units.yaml").read_text(encoding="utf-8")
    for code in (*OFFICES, *COMMUNES):
        into = "    merged_into: XA_TUE_TINH\n" if code in COMMUNES else ""
        text, found = re.subn(
            rf"(  - code: {code}\n    name: [^\n]+\n)", rf"\1    active: false\n{into}", text
        )
        assert found == 1, code
    new = "  - code: XA_TUE_TINH\n    name: UBND xã Tuệ Tĩnh\n    parent: UBND\n    groups: [XA]\n"
    marker = "  # --- Đảng ủy các xã, thị trấn ---\n"
    return text.replace(marker, new + marker, 1)


def report_md(engine: Engine, at: date) -> str:
    """The district plan's consolidated report in Markdown at the end of `at`."""
    with Session(engine) as session:
        return render("report.md.j2", report=build_report(session, plan_code=PLAN, at=at))


def rows_of(report: str, unit_name: str) -> list[str]:
    """The detail rows of a unit in a Markdown report."""
    return [line for line in report.splitlines() if f"| {unit_name} |" in line]


def test_the_2025_reorganisation_keeps_history_moves_open_work_and_stops_reminders(
    engine: Engine, examples: Path, tmp_path: Path
) -> None:
    with session_scope(engine) as session:
        import_units(session, load_units_file(examples / "units.yaml"), now=IMPORTED)
    for name in ("kh-gddt-2023.yaml", "kh-315-hu.yaml"):
        load_and_import_plan(engine, examples / name, now=IMPORTED)
    with session_scope(engine) as session:
        units = {u.code: u for u in session.exec(select(Unit))}
        for code, chat in CHATS.items():
            add_contact(session, units[code], chat, Role.CONTACT, IMPORTED, "telegram")
    # A month of history: daily ticks, check-ins on the 25th, a few replies.
    june = [IMPORTED.date() + timedelta(days=n) for n in range(29)]
    sent = {day: run_tick(engine, f"{day} 08:00") for day in june}
    assert "Nhiệm vụ IV.3.2" in sent[date(2025, 6, 25)].text(CHATS["PTCKH"])  # a check-in
    for commune in ("XA_CAM_HUNG", "XA_CAM_HOANG"):  # IV.10 (owner XA, TRUONG) is overdue
        assert "IV.10" in say(engine, CHATS[commune], "/viec", "2025-06-10 09:00")
    done = code_of(engine, CHATS["XA_CAM_HUNG"], "IV.10")
    say(engine, CHATS["XA_CAM_HUNG"], f"{done} 1 đã báo cáo UBND huyện", "2025-06-10 09:05")
    started = code_of(engine, CHATS["XA_CAM_HOANG"], "IV.10")
    say(engine, CHATS["XA_CAM_HOANG"], f"{started} 2 đạt 60%", "2025-06-10 09:10")
    before = report_md(engine, date(2025, 6, 30))
    assert rows_of(before, "UBND xã Cẩm Hoàng") and rows_of(before, "Phòng Nội vụ")

    units_file = tmp_path / "units.yaml"
    units_file.write_text(reorganised_units(examples), encoding="utf-8")
    with session_scope(engine) as session:
        summary = import_units(session, load_units_file(units_file), now=REORGANISED)
        new = session.exec(select(Unit).where(Unit.code == "XA_TUE_TINH")).one()
        add_contact(session, new, NEW_COMMUNE_CHAT, Role.CONTACT, REORGANISED, "telegram")
    assert sorted(summary.retired) == sorted((*OFFICES, *COMMUNES))

    # Reports dated before the reorganisation are unchanged.
    assert report_md(engine, date(2025, 6, 30)) == before
    after = report_md(engine, date(2025, 7, 31))
    # The merged communes' open work went to the new commune, which says where it came from;
    # what Cẩm Hưng finished stays its own.
    (taken,) = rows_of(after, "UBND xã Tuệ Tĩnh")
    assert "IV.10" in taken and "tiếp nhận từ UBND xã Cẩm Hoàng" in taken
    (kept,) = rows_of(after, "UBND xã Cẩm Hưng")
    assert "Đã hoàn thành" in kept
    assert not rows_of(after, "UBND xã Cẩm Hoàng") and not rows_of(after, "UBND xã Cẩm Văn")
    # The dissolved offices' open work is closed, out of the percentages, and footnoted.
    assert not rows_of(after, "Phòng Nội vụ")
    footnote = after[after.index("đơn vị đã giải thể") :]
    assert "Phòng Nội vụ (giải thể ngày 01/07/2025) — nhiệm vụ IV.2.1" in footnote
    with Session(engine) as session:
        report = build_report(session, plan_code=PLAN, at=date(2025, 7, 31))
    closed = {(item.unit.code, item.task.key) for item in report.dissolved}
    assert ("PNV", "IV.2.1") in closed
    assert not closed & {(row.unit.code, row.task.key) for row in report.rows}
    # The new commune joined group XA after the import: no deadline already past of its own.
    with Session(engine) as session:
        dues = session.exec(
            select(Occurrence.due_date, Occurrence.taken_from_id)
            .join(Assignment, Assignment.id == Occurrence.assignment_id)
            .join(Task, Task.id == Assignment.task_id)
            .where(Assignment.unit_id == new.id, Occurrence.active)
            .order_by(col(Occurrence.due_date))
        ).all()
    assert all(day >= REORGANISED.date() or taken for day, taken in dues if day)

    # No retired unit is reminded again; each of their contacts is told once.
    july = [REORGANISED.date() + timedelta(days=n) for n in range(31)]
    later = {day: run_tick(engine, f"{day} 08:00") for day in july}
    for code, chat in CHATS.items():
        messages = [m.text for day in july for m in later[day].of(chat)]
        assert len(messages) == 1, code
        assert "đã ngừng hoạt động từ ngày 01/07/2025" in messages[0]
    assert "sáp nhập vào UBND xã Tuệ Tĩnh" in later[july[0]].text(CHATS["XA_CAM_VAN"])
    assert "đã đóng (đơn vị đã giải thể)" in later[july[0]].text(CHATS["PNV"])
    assert "IV.10" in say(engine, NEW_COMMUNE_CHAT, "/viec", "2025-07-02 09:00")
    with Session(engine) as session:
        retired_units = [u.id for u in session.exec(select(Unit).where(~col(Unit.active)))]
        reminders = session.exec(
            select(Outbox.id)
            .join(Occurrence, Occurrence.id == Outbox.occurrence_id)
            .join(Assignment, Assignment.id == Occurrence.assignment_id)
            .where(
                col(Assignment.unit_id).in_(retired_units),
                col(Outbox.planned_for) >= REORGANISED,
            )
        ).all()
    assert reminders == []

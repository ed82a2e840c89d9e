"""The plan model end to end: co-owners, partners, group aliases and membership over time, a date
given to an undated task, the plan's own frame — import → tick → reminders → /status → report."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from bot.channels.telegram import TelegramSender
from bot.cli import app
from chat.messages import OutgoingMessage
from handlers.conversation import handle_incoming
from handlers.types import Incoming
from plans.errors import DeadlineError
from plans.importer import load_and_import_plan
from plans.task_due import TaskDueError, set_task_due
from plans.units_file import load_units_file
from plans.units_import import import_units
from reports.figures import build_report
from reports.templates import render
from scheduler.dispatcher import Dispatcher
from scheduler.ratelimit import unlimited
from scheduler.tick import tick
from storage.db import session_scope
from storage.enums import AssignmentRole, Role
from storage.models import Assignment, Contact, MessageRef, Occurrence, Plan, Task, Unit
from tests.utils.clock import local_time
from tests.utils.db import snapshot
from tests.utils.world import add_contact

IMPORTED = local_time("2026-11-02 09:00")
UPDATES = itertools.count(1)
UNITS = """\
units:
  - {code: UBND, name: UBND huyện}
  - {code: PGDDT, name: Phòng Giáo dục và Đào tạo, parent: UBND, aliases: ["Phòng GD&ĐT"]}
  - {code: PNV, name: Phòng Nội vụ, parent: UBND}
  - {code: XA_A, name: UBND xã An, parent: UBND, groups: [XA]}
  - {code: XA_B, name: UBND xã Bình, parent: UBND, groups: [XA]}
  - {code: TH_A, name: Trường Tiểu học An, parent: PGDDT, groups: [TRUONG]}
  - {code: TH_B, name: Trường Tiểu học Bình, parent: PGDDT, groups: [TRUONG]}
groups:
  XA: {name: UBND các xã, aliases: [các địa phương]}
  TRUONG: {name: Các trường học, aliases: [các nhà trường]}
"""
# Owners and partners by code, by name, by alias and by group alias.
PLAN = """\
code: KH-MAU
number: "7/KH-UBND"
title: Kế hoạch mẫu về cơ sở vật chất trường học
issuer: UBND huyện
issued: 2026-11-01
until: 2027-06-30
implements: 91-KL/TW
coordinator: PGDDT
tasks:
  - id: "1"
    title: Rà soát cơ sở vật chất
    owner: ["Phòng GD&ĐT", Phòng Nội vụ]
    partners: [các địa phương, {external: Sở Giáo dục và Đào tạo}]
    due: 30/11/2026
  - id: "2"
    title: Báo cáo sĩ số học sinh
    owner: các nhà trường
    partners: [PNV]
    partners_report: true
    due: 30/11/2026
  - id: "3"
    title: Tổng hợp tình hình hằng tháng
    owner: TRUONG
    due: Hằng tháng
  - id: "4"
    title: Xây dựng quy chế phối hợp
    owner: PGDDT
    due: không thời hạn
"""
CHATS = {"PGDDT": "100", "PNV": "200", "XA_A": "300", "XA_B": "400", "TH_A": "500", "TH_B": "600"}
COORDINATOR = "900"
PLAN_TABLES = ("plan", "task", "assignment", "occurrence", "outbox")


@dataclass
class Inbox:
    """A Telegram-shaped sender that keeps every message by chat."""

    channel = "telegram"
    max_text = 4096
    capabilities = TelegramSender.capabilities
    sent: list[tuple[str, OutgoingMessage]] = field(default_factory=list)

    async def send(self, chat_id: str, message: OutgoingMessage) -> str | None:
        """Keep the message."""
        self.sent.append((chat_id, message))
        return str(len(self.sent))

    def of(self, chat_id: str) -> list[OutgoingMessage]:
        """The messages a chat got."""
        return [message for chat, message in self.sent if chat == chat_id]

    def text(self, chat_id: str) -> str:
        """Everything a chat read."""
        return "\n".join(message.text for message in self.of(chat_id))


def run_tick(engine: Engine, at: str) -> Inbox:
    """One scheduler pass at a local moment; what it sent."""
    inbox = Inbox()
    dispatcher = Dispatcher(engine, {"telegram": inbox}, limiter=unlimited())
    asyncio.run(tick(engine, dispatcher, now=local_time(at)))
    return inbox


def say(engine: Engine, chat_id: str, text: str, at: str) -> str:
    """What the bot answers a chat's message (the real inbound path)."""
    incoming = Incoming(
        channel="telegram", chat_id=chat_id, update_key=f"u{next(UPDATES)}", text=text
    )
    outcome = handle_incoming(engine, incoming, now=local_time(at))
    return "\n".join(m.text for m in outcome.messages)


def report_md(engine: Engine, at: date) -> str:
    """The consolidated report of KH-MAU in Markdown, as of the end of `at`."""
    with Session(engine) as session:
        return render("report.md.j2", report=build_report(session, plan_code="KH-MAU", at=at))


def import_all(engine: Engine, folder: Path, now: datetime, units: str = UNITS) -> None:
    """Import the units file and the plan as an operator would."""
    (folder / "units.yaml").write_text(units, encoding="utf-8")
    if not (folder / "plan.yaml").exists():
        (folder / "plan.yaml").write_text(PLAN, encoding="utf-8")
    with session_scope(engine) as session:
        import_units(session, load_units_file(folder / "units.yaml"), now=now)
    load_and_import_plan(engine, folder / "plan.yaml", now=now)


@pytest.fixture
def district(engine: Engine, tmp_path: Path) -> Path:
    """The district imported, a contact per unit and a coordinator at PGDDT."""
    import_all(engine, tmp_path, IMPORTED)
    with session_scope(engine) as session:
        units = {u.code: u for u in session.exec(select(Unit))}
        for code, chat in CHATS.items():
            add_contact(session, units[code], chat, Role.CONTACT, IMPORTED, "telegram")
        add_contact(session, units["PGDDT"], COORDINATOR, Role.COORDINATOR, IMPORTED, "telegram")
    return tmp_path


def assigned(engine: Engine, key: str, role: AssignmentRole | None = None) -> set[str]:
    """The units actively assigned a task of KH-MAU (in a role)."""
    query = (
        select(Unit.code)
        .join(Assignment, Assignment.unit_id == Unit.id)
        .join(Task, Task.id == Assignment.task_id)
        .where(Task.key == key, Assignment.active)
    )
    if role is not None:
        query = query.where(Assignment.role == role)
    with Session(engine) as session:
        return set(session.exec(query))


def code_of(engine: Engine, chat_id: str, key: str) -> str:
    """The short code a chat was given for a task."""
    with Session(engine) as session:
        return session.exec(
            select(MessageRef.code)
            .join(Contact, Contact.id == MessageRef.contact_id)
            .join(Occurrence, Occurrence.id == MessageRef.occurrence_id)
            .join(Assignment, Assignment.id == Occurrence.assignment_id)
            .join(Task, Task.id == Assignment.task_id)
            .where(Contact.chat_id == chat_id, Task.key == key)
        ).one()


def dues(engine: Engine, key: str, unit: str) -> list[date | None]:
    """The due dates a unit is tracked for on a task, in order."""
    with Session(engine) as session:
        found = session.exec(
            select(Occurrence.due_date)
            .join(Assignment, Assignment.id == Occurrence.assignment_id)
            .join(Task, Task.id == Assignment.task_id)
            .join(Unit, Unit.id == Assignment.unit_id)
            .where(Task.key == key, Unit.code == unit, Occurrence.active)
            .order_by(col(Occurrence.due_date))
        )
        return list(found)


def test_co_owners_are_each_assigned_reminded_and_reported(engine: Engine, district: Path) -> None:
    assert assigned(engine, "1", AssignmentRole.OWNER) == {"PGDDT", "PNV"}

    week_before = run_tick(engine, "2026-11-23 08:00")

    for chat in (CHATS["PGDDT"], CHATS["PNV"]):
        text = week_before.text(chat)
        assert "Nhiệm vụ 1: Rà soát cơ sở vật chất" in text
        assert "Phối hợp: UBND các xã, Sở Giáo dục và Đào tạo" in text
    code = code_of(engine, CHATS["PNV"], "1")
    assert "Đã ghi nhận" in say(
        engine, CHATS["PNV"], f"{code} 1 đã rà soát xong", "2026-11-24 09:00"
    )
    status = say(engine, COORDINATOR, "/status KH-MAU 1", "2026-11-24 10:00")
    assert "Phòng Giáo dục và Đào tạo" in status and "Phòng Nội vụ" in status
    assert "phối hợp: UBND các xã, Sở Giáo dục và Đào tạo" in status
    report = report_md(engine, date(2026, 11, 24))
    rows = [line for line in report.splitlines() if "| 1 — Rà soát" in line]
    assert len(rows) == 2  # one row per lead unit, none for the partners
    assert any("Phòng Nội vụ" in r and "Đã hoàn thành" in r for r in rows)
    assert any("Phòng Giáo dục và Đào tạo" in r and "Chưa báo cáo" in r for r in rows)
    assert all("phối hợp: UBND các xã, Sở Giáo dục và Đào tạo" in r for r in rows)


def test_partners_are_told_once_and_report_only_when_the_task_asks(
    engine: Engine, district: Path
) -> None:
    assert assigned(engine, "1", AssignmentRole.PARTNER) == {"XA_A", "XA_B"}

    first = run_tick(engine, "2026-11-23 08:00")
    later = [run_tick(engine, f"2026-11-{day} 08:00") for day in (27, 30)]

    for chat in (CHATS["XA_A"], CHATS["XA_B"]):
        (notice,) = first.of(chat)
        assert "Phối hợp thực hiện" in notice.text and "Nhiệm vụ 1" in notice.text
        assert "<b>Phối hợp thực hiện</b>" in notice.text  # as the Telegram sender shows it
        assert "Chủ trì: Phòng Giáo dục và Đào tạo, Phòng Nội vụ" in notice.text
        assert not notice.buttons  # nothing to report
        assert all(not inbox.of(chat) for inbox in later)
    listed = say(engine, CHATS["XA_A"], "/viec", "2026-11-24 09:00")
    assert "1: Rà soát cơ sở vật chất" in listed and "phối hợp, không cần báo cáo" in listed
    # PNV partners task 2, which asks partners to report: reminded like the schools, with codes.
    assert "Nhiệm vụ 2: Báo cáo sĩ số học sinh" in first.text(CHATS["PNV"])
    code = code_of(engine, CHATS["PNV"], "2")
    say(engine, CHATS["PNV"], f"{code} 2 đạt 50%", "2026-11-24 09:00")
    report = report_md(engine, date(2026, 11, 24))
    partner_rows = [line for line in report.splitlines() if "| 2 — Báo cáo sĩ số" in line]
    assert len(partner_rows) == 3  # two schools and PNV
    (pnv,) = [r for r in partner_rows if "| Phòng Nội vụ |" in r]
    assert "đơn vị phối hợp" in pnv and "Đang thực hiện" in pnv
    assert "UBND xã An" not in report  # a partner that does not report has no row


def test_a_unit_joining_a_group_gets_no_past_deadline_and_one_leaving_keeps_its_history(
    engine: Engine, district: Path
) -> None:
    code = code_of_after_tick(engine, CHATS["TH_B"], "2")
    say(engine, CHATS["TH_B"], f"{code} 1", "2026-11-25 09:00")  # TH_B reports task 2 done
    before = report_md(engine, date(2026, 11, 30))
    moved = UNITS.replace(
        "{code: TH_B, name: Trường Tiểu học Bình, parent: PGDDT, groups: [TRUONG]}",
        "{code: TH_B, name: Trường Tiểu học Bình, parent: PGDDT}\n"
        "  - {code: TH_C, name: Trường Tiểu học Cường, parent: PGDDT, groups: [TRUONG]}",
    )
    import_all(engine, district, local_time("2026-12-02 09:00"), units=moved)
    with session_scope(engine) as session:
        th_c = session.exec(select(Unit).where(Unit.code == "TH_C")).one()
        add_contact(session, th_c, "700", Role.CONTACT, IMPORTED, "telegram")

    assert dues(engine, "2", "TH_C") == []  # 30/11 had passed when it joined
    assert dues(engine, "3", "TH_C")[0] == date(2026, 12, 31)  # nothing from November
    assert "TH_B" not in assigned(engine, "3")
    reminded = run_tick(engine, "2026-12-24 08:00")  # a week before 31/12
    assert "Nhiệm vụ 3" in reminded.text("700")
    assert not reminded.of(CHATS["TH_B"])
    assert report_md(engine, date(2026, 11, 30)) == before  # history as it stood
    after = report_md(engine, date(2026, 12, 31))
    th_b = [line for line in after.splitlines() if "Trường Tiểu học Bình" in line and "|" in line]
    assert len(th_b) == 1 and "Đã hoàn thành" in th_b[0]  # its done task 2 still counts
    assert "Trường Tiểu học Cường" in after


def code_of_after_tick(engine: Engine, chat_id: str, key: str) -> str:
    """A chat's code for a task, once the week-before reminder has gone out."""
    run_tick(engine, "2026-11-23 08:00")
    return code_of(engine, chat_id, key)


def test_an_undated_task_given_a_date_is_reminded_and_keeps_it_until_the_file_gives_one(
    engine: Engine, district: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "Nhiệm vụ 4" not in run_tick(engine, "2026-11-23 08:00").text(CHATS["PGDDT"])
    before = snapshot(engine)
    with session_scope(engine) as session, pytest.raises(TaskDueError):
        set_task_due(
            session, plan_code="KH-MAU", task_key="1", expression="15/12/2026", now=IMPORTED
        )
    with session_scope(engine) as session, pytest.raises(DeadlineError):
        set_task_due(
            session, plan_code="KH-MAU", task_key="4", expression="sớm nhất có thể", now=IMPORTED
        )
    assert snapshot(engine) == before

    monkeypatch.setenv("DONDOC_DATABASE_URL", database_url)
    result = CliRunner().invoke(app, ["plan", "set-due", "KH-MAU", "4", "15/12/2026"])
    assert result.exit_code == 0, result.output
    assert "15/12/2026" in result.stdout
    refused = CliRunner().invoke(app, ["plan", "set-due", "KH-MAU", "1", "15/12/2026"])
    assert refused.exit_code == 2 and "đã có thời hạn" in refused.stderr

    assert "Nhiệm vụ 4" in run_tick(engine, "2026-12-08 08:00").text(CHATS["PGDDT"])
    load_and_import_plan(engine, district / "plan.yaml", now=local_time("2026-12-09 09:00"))
    assert dues(engine, "4", "PGDDT") == [date(2026, 12, 15)]  # the file still gives none
    dated = PLAN.replace("due: không thời hạn", "due: 31/12/2026")
    (district / "plan.yaml").write_text(dated, encoding="utf-8")
    load_and_import_plan(engine, district / "plan.yaml", now=local_time("2026-12-10 09:00"))
    assert dues(engine, "4", "PGDDT") == [date(2026, 12, 31)]  # now the file's date holds
    with Session(engine) as session:
        assert session.exec(select(Task.due_override).where(Task.key == "4")).one() is None


def test_the_plan_frame_caps_recurring_deadlines_and_is_shown(
    engine: Engine, district: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monthly = dues(engine, "3", "TH_A")
    assert monthly[-1] == date(2027, 6, 30)  # "Hằng tháng" stops with the plan (until)
    run_tick(engine, "2027-01-04 08:00")  # the tick extends horizons: never past `until`
    assert dues(engine, "3", "TH_A")[-1] == date(2027, 6, 30)
    with Session(engine) as session:
        plan = session.exec(select(Plan)).one()
        assert (plan.implements, plan.until) == ("91-KL/TW", date(2027, 6, 30))
    monkeypatch.setenv("DONDOC_DATABASE_URL", database_url)
    shown = CliRunner().invoke(app, ["plan", "show", "KH-MAU"]).stdout
    assert "Thực hiện văn bản: 91-KL/TW" in shown and "đến hết ngày 30/06/2027" in shown
    report = report_md(engine, date(2026, 11, 24))
    assert "Thực hiện văn bản: 91-KL/TW" in report and "đến hết ngày 30/06/2027" in report


def test_units_left_out_of_a_file_are_listed_and_retired_only_when_asked(
    engine: Engine, district: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DONDOC_DATABASE_URL", database_url)
    runner = CliRunner()
    without = district / "without.yaml"
    without.write_text(
        UNITS.replace("  - {code: XA_B, name: UBND xã Bình, parent: UBND, groups: [XA]}\n", ""),
        "utf-8",
    )

    listed = runner.invoke(app, ["units", "import", str(without)])
    assert listed.exit_code == 0, listed.output
    assert "không có trong tệp" in listed.stdout and "XA_B" in listed.stdout
    assert assigned(engine, "1", AssignmentRole.PARTNER) == {"XA_A", "XA_B"}  # still active
    retired = runner.invoke(app, ["units", "import", str(without), "--retire-missing"])
    assert retired.exit_code == 0 and "Ngừng hoạt động: XA_B" in retired.stdout
    assert assigned(engine, "1", AssignmentRole.PARTNER) == {"XA_A"}

    moved = runner.invoke(app, ["units", "retire", "PNV", "--into", "PGDDT"])
    assert moved.exit_code == 0, moved.output
    assert assigned(engine, "2", AssignmentRole.PARTNER) == {"PGDDT"}  # PNV's part, taken over
    assert assigned(engine, "1", AssignmentRole.OWNER) == {"PGDDT"}  # it led task 1 already
    with Session(engine) as session:  # the command line retires as of the real clock
        retired_on = session.exec(select(Unit.retired_on).where(Unit.code == "PNV")).one()
    assert retired_on is not None
    rows = report_md(engine, retired_on).splitlines()
    (taken,) = [r for r in rows if "| Phòng Giáo dục và Đào tạo | 2 —" in r]
    assert "tiếp nhận từ Phòng Nội vụ" in taken
    before = snapshot(engine)
    again = runner.invoke(app, ["units", "retire", "PNV"])
    assert again.exit_code == 2 and "đã ngừng hoạt động" in again.stderr
    unknown = runner.invoke(app, ["units", "retire", "XA_Z", "--into", "XA_A"])
    assert unknown.exit_code == 2 and "XA_Z" in unknown.stderr
    assert snapshot(engine) == before


def test_a_coordinator_gives_an_undated_task_its_date_in_chat(
    engine: Engine, district: Path
) -> None:
    before = snapshot(engine)
    assert "dành cho" in say(
        engine, CHATS["PGDDT"], "/dathan KH-MAU 4 15/12/2026", "2026-12-01 09:00"
    )
    assert "Cách dùng" in say(engine, COORDINATOR, "/dathan KH-MAU 4", "2026-12-01 09:00")
    unreadable = say(engine, COORDINATOR, "/dathan KH-MAU 4 khi nào xong", "2026-12-01 09:00")
    assert "Không đọc được thời hạn" in unreadable
    dated = say(engine, COORDINATOR, "/dathan KH-MAU 1 15/12/2026", "2026-12-01 09:00")
    assert "đã có thời hạn" in dated
    after = snapshot(engine)
    assert [after[t] == before[t] for t in PLAN_TABLES] == [True] * len(PLAN_TABLES)

    answer = say(engine, COORDINATOR, "/dathan kh-mau 4 15/12/2026", "2026-12-01 09:00")

    assert "Đã đặt thời hạn cho nhiệm vụ 4" in answer and "15/12/2026" in answer
    assert dues(engine, "4", "PGDDT") == [date(2026, 12, 15)]
    assert "Nhiệm vụ 4" in run_tick(engine, "2026-12-08 08:00").text(CHATS["PGDDT"])

"""`dondoc demo`: embedded database, example plans, simulated contacts and a simulated month."""

from __future__ import annotations

import asyncio
import random
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import yaml
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.channels.console import ConsoleSender
from chat.messages import OutgoingMessage, to_plain
from handlers.conversation import handle_incoming
from handlers.invites import create_invite
from handlers.types import Incoming
from plans.calendar import default_calendar
from plans.clock import at_local, local_date
from plans.deadline import parse_deadline
from plans.importer import load_and_import_plan
from plans.indicator_store import task_indicators
from plans.indicators import IndicatorKind, IndicatorSpec, write_number
from plans.units_file import load_units_file
from plans.units_import import import_units
from reports.figures import build_report
from reports.files import write_report
from scheduler.dispatcher import Dispatcher
from scheduler.ratelimit import unlimited
from scheduler.tick import tick
from storage.db import make_engine, session_scope
from storage.models import Assignment, Contact, MessageRef, Occurrence, Plan, Task
from storage.schema import migrate

EXAMPLES = Path(__file__).resolve().parents[1] / "plans" / "examples"
PLAN_FILES = ("kh-gddt-2023.yaml", "kh-315-hu.yaml")
# One plan starts from its own document: drafted, checked by the operator (the checked file is
# kh-315-hu.yaml: its title, coordinator and indicators), then imported with the others.
SEED_DOCUMENT, SEED_CHECKED = "phu-luc-nhiem-vu-kh-315-KH-HU.txt", "kh-315-hu.yaml"
CODE_RE = re.compile(r"Mã: ([A-Z2-9]{3,8})")
# Who is registered in the simulation: (unit, role). Every office of the district plan, a few
# schools and party committees, the heads that receive escalations, and both coordinators.
CAST = (
    ("PGDDT", "contact"),
    ("PNV", "contact"),
    ("PTCKH", "contact"),
    ("PLDTBXH", "contact"),
    ("PTNMT", "contact"),
    ("PKTHT", "contact"),
    ("PVHTT", "contact"),
    ("MTTQ", "contact"),
    ("HUYEN_DOAN", "contact"),
    ("UBND", "contact"),
    ("HDND", "contact"),
    ("THCS_CAM_VU", "contact"),
    ("TH_CAM_VU", "contact"),
    ("MN_CAM_VU", "contact"),
    ("DU_CAM_VU", "contact"),
    ("DU_LUONG_DIEN", "contact"),
    ("UBND", "head"),
    ("HUYEN_UY", "head"),
    ("PGDDT", "coordinator"),
    ("BTG_HU", "coordinator"),
)
WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")
REPLIES = (
    (0.40, "{code} 1 Đã hoàn thành, đã gửi văn bản về Phòng"),
    (0.22, "{code} 2 đạt {pct}%, đang hoàn thiện hồ sơ"),
    (0.08, "{code} 3 vướng kinh phí, đề nghị hỗ trợ"),
)
# What the district counts for the example plans' ratios: classrooms, schools.
WHOLES = {"phòng": 450, "trường": 25}


@dataclass
class Simulation:
    """State of the simulated month."""

    engine: Engine
    console: Console
    rng: random.Random
    names: dict[str, str] = field(default_factory=dict)
    inbox: list[tuple[Contact, OutgoingMessage]] = field(default_factory=list)
    update_id: int = 0

    def say(self, chat_id: str, text: str, now: datetime) -> list[str]:
        """A simulated person writes to the bot; return the bot's answers."""
        self.update_id += 1
        incoming = Incoming("console", chat_id, f"demo-{self.update_id}", text=text)
        outcome = handle_incoming(self.engine, incoming, now=now)
        return [to_plain(m.text) for m in outcome.messages]


def run_demo(out: Path, *, start: date, days: int, console: Console) -> list[Path]:
    """Run the whole demo and return the report files written."""
    out.mkdir(parents=True, exist_ok=True)
    db = out / "demo.db"
    for stale in (db, db.with_suffix(".db-wal"), db.with_suffix(".db-shm")):
        stale.unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{db}")
    migrate(engine)
    began = at_local(start, 7)
    _import(engine, began, console, out)
    _show_plans(engine, start, days, console)
    sim = Simulation(engine, console, random.Random(20241125))
    _register_cast(sim, began)
    asyncio.run(_simulate(sim, start, days, out))
    end = start + timedelta(days=days - 1)
    _closing_conversations(sim, at_local(end, 16))
    return _write_reports(engine, end, out / "reports", console)


def _import(engine: Engine, now: datetime, console: Console, out: Path) -> None:
    """Import the example units, and the plans already issued, as an operator would."""
    with session_scope(engine) as session:
        import_units(session, load_units_file(EXAMPLES / "units.yaml"), now=now)
    _import_issued(engine, now, console, out)


def _draft_seed(out: Path, now: datetime, console: Console) -> None:
    """Read the seed plan's own document into a draft, as `dondoc plan draft` does, and show
    its summary and doubts; the operator's checked file is what gets imported."""
    from plans.intake import texts
    from plans.intake.draft import draft_plan
    from plans.intake.owners import UnitIndex

    units = UnitIndex.from_units_file(load_units_file(EXAMPLES / "units.yaml"))
    draft = draft_plan(EXAMPLES / SEED_DOCUMENT, units, today=local_date(now))
    target = out / SEED_DOCUMENT.replace(".txt", ".draft.yaml")
    target.write_text(draft.text, encoding="utf-8")
    console.rule(f"[bold]📄 Đọc văn bản kế hoạch {SEED_DOCUMENT}[/bold]")
    console.print(
        texts.DRAFT_WRITTEN.format(path=target, tasks=draft.tasks, doubts=len(draft.doubts)),
        markup=False,
    )
    if draft.doubts:
        console.print(texts.DOUBTS_HEADER, markup=False)
    for doubt in draft.doubts:
        line = texts.DOUBT_LINE.format(path=target.name, line=doubt.line, message=doubt.message)
        console.print(line, markup=False)
    console.print(
        f"✍️ Người vận hành kiểm tra bản nháp, sửa các chỗ trên, bổ sung chỉ tiêu và lưu thành "
        f"{SEED_CHECKED}: kế hoạch được nhập từ tệp đó.",
        markup=False,
    )


def _import_issued(engine: Engine, now: datetime, console: Console, out: Path) -> None:
    """Import each example plan on the day it is issued: nothing is reminded or answered before."""
    with Session(engine) as session:
        imported = set(session.exec(select(Plan.code)))
    for name in PLAN_FILES:
        head = yaml.safe_load((EXAMPLES / name).read_text(encoding="utf-8"))
        if head["code"] in imported or head["issued"] > local_date(now):
            continue
        if name == SEED_CHECKED:  # the day it arrives, its document is drafted first
            _draft_seed(out, now, console)
        spec, _ = load_and_import_plan(engine, EXAMPLES / name, now=now)
        console.print(
            f"📥 Đã nhập kế hoạch [bold]{spec.code}[/bold] (ban hành ngày "
            f"{spec.issued:%d/%m/%Y}) — {len(spec.tasks)} nhiệm vụ"
        )


def _show_plans(engine: Engine, start: date, days: int, console: Console) -> None:
    """Each plan's tasks with their computed due dates around the simulated window."""
    calendar = default_calendar()
    until = start + timedelta(days=days + 365)
    with Session(engine) as session:
        for plan in session.exec(select(Plan).order_by(Plan.code)):
            table = Table(
                title=f"{plan.code} — {plan.number or ''} {plan.title[:80]}", show_lines=False
            )
            for column in ("Nhiệm vụ", "Chủ trì", "Thời hạn (nguyên văn)", "Hạn tính được"):
                table.add_column(column)
            tasks = session.exec(
                select(Task).where(col(Task.plan_id) == plan.id).order_by(col(Task.position))
            )
            for task in tasks:
                deadline = parse_deadline(task.due_text, issued=plan.issued, calendar=calendar)
                if deadline.kind == "dated":
                    dates = [
                        d for d in deadline.dates(until=until) if d >= start - timedelta(days=60)
                    ]
                    shown = ", ".join(f"{d:%d/%m/%Y}" for d in dates[:3]) or "(đã qua)"
                else:
                    shown = {"ongoing": "thường xuyên", "on_request": "theo yêu cầu"}.get(
                        deadline.kind, "chưa xác định"
                    )
                table.add_row(task.key, task.owner_code, task.due_text, shown)
            console.print(table)


def _register_cast(sim: Simulation, now: datetime) -> None:
    """Every simulated person registers with an invite, through the real conversation."""
    table = Table(title="Người dùng mô phỏng (kênh console)")
    for column in ("Đơn vị", "Vai trò", "Đăng ký"):
        table.add_column(column)
    for index, (unit_code, role) in enumerate(CAST, start=1):
        with session_scope(sim.engine) as session:
            issued = create_invite(session, unit_code=unit_code, role=role, now=now)
            unit_name = issued.unit.name
        chat_id = f"sim-{index:02d}"
        sim.names[chat_id] = f"{unit_name} ({role})"
        answer = sim.say(chat_id, issued.zalo_text, now)
        table.add_row(unit_name, role, "✅" if "thành công" in answer[0] else answer[0])
    sim.console.print(table)


async def _simulate(sim: Simulation, start: date, days: int, out: Path) -> None:
    """Advance the clock day by day: 08:00 tick, then some contacts answer at 10:00."""
    sender = ConsoleSender(sim.console, sim.names, files=out / "attachments")

    def remember(contact: Contact, message: OutgoingMessage) -> None:
        sim.inbox.append((contact, message))

    dispatcher = Dispatcher(sim.engine, {"console": sender}, limiter=unlimited(), on_sent=remember)
    calendar = default_calendar()
    for offset in range(days):
        day = start + timedelta(days=offset)
        if not calendar.is_working_day(day):
            continue
        sim.console.rule(f"[bold]📅 {WEEKDAYS[day.weekday()]} {day:%d/%m/%Y}[/bold]")
        _import_issued(sim.engine, at_local(day, 7), sim.console, out)
        await tick(sim.engine, dispatcher, now=at_local(day, 8))
        _answer_some(sim, at_local(day, 10))
        await tick(sim.engine, dispatcher, now=at_local(day, 10, 5))  # notices, returns


def _answer_some(sim: Simulation, now: datetime) -> None:
    """Simulated principals answer part of the reminders they received (some stay silent)."""
    received, sim.inbox = sim.inbox, []
    for contact, message in received:
        if contact.role != "contact":
            continue
        for code in CODE_RE.findall(message.text):
            roll, threshold = sim.rng.random(), 0.0
            for share, template in REPLIES:
                threshold += share
                if roll < threshold:
                    text = template.format(code=code, pct=sim.rng.choice((30, 50, 60, 80)))
                    _report(sim, contact, code, text, now)
                    break


def _report(sim: Simulation, contact: Contact, code: str, text: str, now: datetime) -> None:
    """A status reply; a task's figures go with it in one line, or answer the bot's questions."""
    specs = _indicators(sim.engine, contact, code)
    in_line = bool(specs) and sim.rng.random() < 0.5
    if in_line:
        text += " " + " ".join(f"{spec.code}={_figure(spec, sim.rng)}" for spec in specs)
    _converse(sim, contact.chat_id, text, now)
    if specs and not in_line:  # the bot asks for each figure in the task's order
        for spec in specs:
            _converse(sim, contact.chat_id, _figure(spec, sim.rng), now)


def _converse(sim: Simulation, chat_id: str, text: str, now: datetime) -> None:
    """Print what a simulated contact writes and the bot's answers, whole."""
    sim.console.print(f"💬 {sim.names[chat_id]}: {text}", markup=False)
    for answer in sim.say(chat_id, text, now):
        sim.console.print(f"   ↳ {answer}".replace("\n", "\n     "), markup=False, style="green")


def _indicators(engine: Engine, contact: Contact, code: str) -> list[IndicatorSpec]:
    """The indicators of the task a reminder's code stands for."""
    with Session(engine) as session:
        task_id = session.exec(
            select(Assignment.task_id)
            .join(Occurrence, col(Occurrence.assignment_id) == col(Assignment.id))
            .join(MessageRef, col(MessageRef.occurrence_id) == col(Occurrence.id))
            .where(MessageRef.contact_id == contact.id, MessageRef.code == code)
        ).first()
        found = task_indicators(session, [task_id]).get(task_id, []) if task_id else []
    return [indicator.spec for indicator in found]


def _figure(spec: IndicatorSpec, rng: random.Random) -> str:
    """A plausible figure, written as a Vietnamese officer would ("20,4%", "412/450", "có")."""
    if spec.kind == IndicatorKind.PERCENT:
        aim = spec.target.value if spec.target else Decimal(50)
        return f"{write_number(aim + Decimal(rng.randint(-10, 25)) / 10)}%"
    if spec.kind == IndicatorKind.RATIO:
        whole = WHOLES.get(spec.unit, 40)
        return f"{rng.randint(whole * 4 // 5, whole)}/{whole}"
    if spec.kind == IndicatorKind.NUMBER:
        return write_number(Decimal(rng.randint(20, 900)))
    if spec.kind == IndicatorKind.YESNO:
        return rng.choice(("có", "có", "chưa"))
    return "Đã triển khai theo kế hoạch"


def _closing_conversations(sim: Simulation, now: datetime) -> None:
    """At the end of the month a head asks /status and a coordinator confirms and returns claims."""
    head = next(c for c, (u, r) in zip(sim.names, CAST, strict=True) if (u, r) == ("UBND", "head"))
    coordinator = next(
        c for c, (u, r) in zip(sim.names, CAST, strict=True) if (u, r) == ("PGDDT", "coordinator")
    )

    def converse(chat_id: str, text: str) -> list[str]:
        """Say `text` from a chat and print what the bot answers."""
        sim.console.rule(f"💬 {sim.names[chat_id]}: {text}", align="left")
        answers = sim.say(chat_id, text, now)
        for answer in answers:
            sim.console.print(answer, markup=False)
        return answers

    converse(head, "status")
    converse(head, "status KH-GDDT-2023")
    converse(head, "status KH-315-HU")  # its figures: the budget share, solid classrooms
    claims = re.findall(r"^(\d+)\. ", "\n".join(converse(coordinator, "xacnhan")), re.M)
    if claims:
        converse(coordinator, f"xacnhan ok {claims[0]}")
    if len(claims) > 1:
        converse(coordinator, f"xacnhan tralai {claims[1]} Thiếu biên bản kèm theo")


def _write_reports(engine: Engine, at: date, folder: Path, console: Console) -> list[Path]:
    """The four report files of each example plan."""
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with Session(engine) as session:
        codes = list(session.exec(select(Plan.code).order_by(Plan.code)))
        for code in codes:
            report = build_report(session, plan_code=code, at=at)
            for fmt in ("md", "html", "docx", "xlsx"):
                written.append(write_report(report, fmt, folder / f"bao-cao-{code}.{fmt}"))
    console.rule("[bold]📄 Báo cáo tổng hợp[/bold]")
    for path in written:
        console.print(f"  {path}")
    return written

"""The demo's month read as a principal, a head and a coordinator would read it."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pytest
from rich.console import Console
from sqlmodel import Session, select

from bot.demo import run_demo
from plans.clock import local_date
from storage.db import make_engine
from storage.models import Assignment, Occurrence, Plan, Report, Task

START = date(2024, 11, 25)  # `dondoc demo`'s defaults
DAYS = 35
DAY_RE = re.compile(r"📅 \S+(?: \S+)? (\d\d/\d\d/\d{4})")
FRONT = "Ủy ban MTTQ Việt Nam huyện Cẩm Giàng (contact)"


@dataclass(frozen=True)
class Demo:
    """What the demo printed, and the database it left behind."""

    text: str
    folder: Path

    def days(self) -> dict[date, str]:
        """The text printed under each simulated day."""
        parts = DAY_RE.split(self.text)
        return {
            datetime.strptime(day, "%d/%m/%Y").date(): body
            for day, body in zip(parts[1::2], parts[2::2], strict=True)
        }


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """One simulated month, printed to a string."""
    folder = tmp_path_factory.mktemp("demo")
    buffer = io.StringIO()
    console = Console(file=buffer, width=100, highlight=False, color_system=None)
    run_demo(folder, start=START, days=DAYS, console=console)
    return Demo(buffer.getvalue(), folder)


def test_no_reply_is_dated_before_its_plan_was_issued(demo: Demo) -> None:
    days = demo.days()
    before = "".join(body for day, body in days.items() if day < date(2024, 11, 29))
    assert "315-KH/HU" not in before  # the party plan is issued on 29/11: nothing about it before
    assert "📥 Đã nhập kế hoạch KH-315-HU (ban hành ngày 29/11/2024)" in days[date(2024, 11, 29)]
    engine = make_engine(f"sqlite:///{demo.folder / 'demo.db'}")
    with Session(engine) as session:
        rows = session.exec(
            select(Report.created_at, Plan.issued)
            .join(Occurrence, Occurrence.id == Report.occurrence_id)
            .join(Assignment, Assignment.id == Occurrence.assignment_id)
            .join(Task, Task.id == Assignment.task_id)
            .join(Plan, Plan.id == Task.plan_id)
        ).all()
    engine.dispose()
    assert rows and all(local_date(created) >= issued for created, issued in rows)


def test_every_confirmation_prints_whole(demo: Demo) -> None:
    lines = demo.text.splitlines()
    answers = [n for n, line in enumerate(lines) if line.startswith("   ↳ ")]
    assert answers
    for n in answers:
        if lines[n].endswith(":"):  # a heading line: what it announces follows, indented
            assert lines[n + 1].startswith("     ") and lines[n + 1].strip(), lines[n]
    recorded = [n for n in answers if "Đã ghi nhận báo cáo" in lines[n]]
    assert recorded and all("Trạng thái:" in lines[n + 1] for n in recorded)


def test_the_coordinators_list_is_numbered_from_one_and_typed_by_its_numbers(demo: Demo) -> None:
    listed = demo.text.split("(coordinator): xacnhan ─")[1].split("💬")[0]
    numbers = [int(n) for n in re.findall(r"^(\d+)\. ", listed, re.M)]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 2
    first = re.search(r"^1\. \S+ · (\S+) · (.+?) · ", listed, re.M)
    assert first is not None
    confirmed = demo.text.split("(coordinator): xacnhan ok 1 ")[1]
    assert f"nhiệm vụ {first[1]} — {first[2]}." in confirmed.splitlines()[1]


def test_overdue_work_is_chased_through_the_month(demo: Demo) -> None:
    days = demo.days()
    front = [day for day, body in days.items() if f"→ {FRONT}" in body]
    assert front and front[0] == START  # the Front's task of 2023 is chased from day one
    chased = days[START].split(f"→ {FRONT}")[1].split("→ ")[0]
    assert "IV.9" in chased and "quá hạn" in chased
    escalated = {
        day.isocalendar().week
        for day, body in days.items()
        if "Chưa hoàn thành — báo cáo lãnh đạo" in body
    }
    assert len(escalated) >= 4  # the heads hear of overdue work every week

"""A coordinator closes overdue work that will never be reported: /dongviec lists it numbered
1, 2, 3, «dongviec N lý do» closes line N; who, when and why are kept; anything amiss is refused
and changes nothing."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from plans.clock import local_date
from storage.db import session_scope
from storage.models import Assignment, Closing, Contact, Occurrence, Task, Unit
from tests.handlers.conftest import Chat, Scene
from tests.handlers.test_conversation import text_of
from tests.utils.clock import local_time
from tests.utils.world import add_contact

LATE = local_time("2026-12-02 10:00")  # tasks B (due 26/11) and A (due 30/11) are overdue


def open_work(engine: Engine) -> list[tuple[str, str]]:
    """(unit code, task key) of every occurrence still open, in code order."""
    with Session(engine) as session:
        rows = session.exec(
            select(Unit.code, Task.key)
            .join(Assignment, Assignment.unit_id == Unit.id)
            .join(Task, Task.id == Assignment.task_id)
            .join(Occurrence, Occurrence.assignment_id == Assignment.id)
            .where(Occurrence.active)
            .order_by(Unit.code, Task.key)
        ).all()
    return [(code, key) for code, key in rows]


def closings(engine: Engine) -> list[tuple[str, str, str, str]]:
    """(unit code, task key, closer's chat, reason) of every closing, oldest first."""
    with Session(engine) as session:
        rows = session.exec(
            select(Unit.code, Task.key, Contact.chat_id, Closing.reason)
            .join(Occurrence, Occurrence.id == Closing.occurrence_id)
            .join(Assignment, Assignment.id == Occurrence.assignment_id)
            .join(Task, Task.id == Assignment.task_id)
            .join(Unit, Unit.id == Assignment.unit_id)
            .join(Contact, Contact.id == Closing.contact_id)
            .order_by(Closing.closed_at)
        ).all()
    return [(unit, key, chat, reason) for unit, key, chat, reason in rows]


def listed_lines(text: str) -> list[str]:
    """The numbered lines of a list."""
    return [line for line in text.splitlines() if re.match(r"\d+\. ", line)]


def test_the_coordinator_closes_a_line_of_the_numbered_list(engine: Engine, scene: Scene) -> None:
    coordinator = scene.coordinator
    lines = listed_lines(text_of(coordinator.send("/dongviec", at=LATE)))
    assert [line.split(" · ")[1:3] for line in lines] == [  # oldest due date first
        ["B", "Trường THCS số 1"],
        ["B", "Trường THCS số 2"],
        ["A", "Trường THCS số 1"],
        ["A", "Trường THCS số 2"],
    ]
    assert lines[0].startswith("1. ") and "hạn 26/11/2026" in lines[0]
    answer = text_of(coordinator.send("/dongviec 2 Trường đã sáp nhập điểm lẻ", at=LATE))
    assert "Đã đóng nhiệm vụ B (99/KH-PGDDT) — Trường THCS số 2, hạn 26/11/2026" in answer
    assert "Lý do: Trường đã sáp nhập điểm lẻ" in answer and "không nhắc" in answer
    # Closing 2 does not shift the list: 3 is still task A of the first school, as it was shown.
    later = LATE + timedelta(minutes=5)
    assert "nhiệm vụ A (99/KH-PGDDT) — Trường THCS số 1" in text_of(
        coordinator.send("/dongviec 3 đã thực hiện theo kế hoạch khác", at=later)
    )
    assert open_work(engine) == [("THCS_0001", "B"), ("THCS_0002", "A")]
    assert closings(engine) == [
        ("THCS_0002", "B", "900002", "Trường đã sáp nhập điểm lẻ"),
        ("THCS_0001", "A", "900002", "đã thực hiện theo kế hoạch khác"),
    ]
    with Session(engine) as session:
        when = session.exec(select(Closing.closed_at).order_by(Closing.closed_at)).all()
        until = session.exec(select(Occurrence.until).where(col(Occurrence.until).is_not(None)))
        ended = set(until)
    assert when == [LATE, later] and ended == {local_date(LATE)}
    relisted = listed_lines(text_of(coordinator.send("/dongviec", at=later)))
    assert len(relisted) == 2 and relisted[0].startswith("1. 99/KH-PGDDT · B · Trường THCS số 1")


def test_a_code_keeps_one_unit_or_one_plan(scene: Scene) -> None:
    coordinator = scene.coordinator
    unit = listed_lines(text_of(coordinator.send("dongviec thcs_0002", at=LATE)))
    assert [line.split(" · ")[1:3] for line in unit] == [
        ["B", "Trường THCS số 2"],
        ["A", "Trường THCS số 2"],
    ]
    assert len(listed_lines(text_of(coordinator.send("dongviec KH-TEST", at=LATE)))) == 4
    none = text_of(coordinator.send("dongviec KH-KHAC", at=LATE))
    assert "Không có nhiệm vụ quá hạn nào đang mở của KH-KHAC" in none


def test_others_are_refused_and_nothing_changes(engine: Engine, scene: Scene) -> None:
    for chat in (scene.principal, scene.head):
        chat.send("/dongviec", at=LATE)
        refused = text_of(chat.send("/dongviec 1 không cần nữa", at=LATE))
        assert "dành cho văn phòng điều phối" in refused
    assert len(open_work(engine)) == 4 and closings(engine) == []


def test_bad_input_is_explained_and_changes_nothing(engine: Engine, scene: Scene) -> None:
    coordinator = scene.coordinator
    unlisted = text_of(coordinator.send("/dongviec 1 không còn phù hợp", at=LATE))
    assert "Không có nhiệm vụ số 1 trong danh sách đang xem" in unlisted  # nothing shown yet
    coordinator.send("/dongviec", at=LATE)
    assert "Cần ghi lý do" in text_of(coordinator.send("/dongviec 1", at=LATE))
    too_long = text_of(coordinator.send("/dongviec 1 " + "x" * 501, at=LATE))
    assert "dài quá 500 ký tự" in too_long
    assert "Không có nhiệm vụ số 5" in text_of(coordinator.send("/dongviec 5 lý do", at=LATE))
    stale = coordinator.send("/dongviec 1 lý do", at=LATE + timedelta(days=2))  # list expired
    assert "Không có nhiệm vụ số 1 trong danh sách đang xem" in text_of(stale)
    assert len(open_work(engine)) == 4 and closings(engine) == []


def test_work_reported_or_closed_since_the_list_is_not_closed(engine: Engine, scene: Scene) -> None:
    coordinator = scene.coordinator
    coordinator.send("/dongviec", at=LATE)
    scene.principal.send(f"{scene.codes['B']} 1 đã nộp", at=LATE)  # line 1: done meanwhile
    gone = text_of(coordinator.send("/dongviec 1 không còn phù hợp", at=LATE))
    assert "Nhiệm vụ số 1 không còn mở" in gone and "không có gì thay đổi" in gone
    coordinator.send("/dongviec 2 không còn phù hợp", at=LATE)
    twice = text_of(coordinator.send("/dongviec 2 lần nữa", at=LATE))
    assert "Nhiệm vụ số 2 không còn mở" in twice
    assert closings(engine) == [("THCS_0002", "B", "900002", "không còn phù hợp")]
    with Session(engine) as session:
        statuses = session.exec(select(Occurrence.status).order_by(Occurrence.id)).all()
    assert "done" in statuses  # the report stands: the closing did not touch it


def test_the_coordinator_help_names_the_command(scene: Scene) -> None:
    assert "/dongviec" in text_of(scene.coordinator.send("/help"))
    assert "dongviec" not in text_of(scene.principal.send("/help"))


def test_on_zalo_the_same_words_without_slash(engine: Engine, scene: Scene) -> None:
    with session_scope(engine) as session:
        office = session.exec(select(Unit).where(Unit.code == "PGDDT")).one()
        add_contact(session, office, "z-1", "coordinator", LATE, "zalo")
    zalo = Chat(engine, "z-1", channel="zalo")
    listed = text_of(zalo.send("dongviec", at=LATE))
    assert "«dongviec 1 lý do»" in listed and "/dongviec" not in listed and "<b>" not in listed
    assert "Đã đóng nhiệm vụ B" in text_of(zalo.send("Đóngviệc 1 trường đã giải thể", at=LATE))
    assert closings(engine) == [("THCS_0001", "B", "z-1", "trường đã giải thể")]

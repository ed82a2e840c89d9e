"""A pending step (a note, a return reason) expires; a reply to a reminder or a code wins."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from handlers.state import PENDING_TTL
from storage.db import session_scope
from storage.models import Assignment, Contact, MessageRef, Occurrence, Outbox, Report
from tests.handlers.conftest import NOW, Chat, Scene, sent_reminder
from tests.handlers.test_conversation import reports, text_of


def test_a_reply_to_a_reminder_answers_it_even_with_a_note_pending(
    engine: Engine, scene: Scene
) -> None:
    sent_reminder(engine, scene.principal.chat_id, scene.codes["B"], "502")
    scene.principal.send(button=f"s:{scene.codes['A']}:2")  # asks for a note on task A
    answer = scene.principal.send("xong", reply_to="502", at=NOW + timedelta(minutes=1))
    assert "nhiệm vụ B" in text_of(answer) and "Đã hoàn thành" in text_of(answer)
    assert reports(engine) == [("in_progress", None, ""), ("done", 100, "xong")]
    assert "Không có bước" in text_of(scene.principal.send("/huy"))  # the note step is gone


def test_a_reply_to_the_reminder_of_the_pending_note_is_that_note(
    engine: Engine, scene: Scene
) -> None:
    sent_reminder(engine, scene.principal.chat_id, scene.codes["A"], "501")
    scene.principal.send(button=f"s:{scene.codes['A']}:2")
    answer = scene.principal.send("còn thiếu hồ sơ", reply_to="501")
    assert "nhiệm vụ A" in text_of(answer) and "còn thiếu hồ sơ" in text_of(answer)
    assert reports(engine) == [("in_progress", None, "còn thiếu hồ sơ")]


def test_a_reply_to_a_reminder_of_a_done_task_is_about_that_task(
    engine: Engine, scene: Scene
) -> None:
    sent_reminder(engine, scene.principal.chat_id, scene.codes["A"], "501")
    scene.principal.send(f"{scene.codes['A']} 1")
    answer = scene.principal.send("đang làm, đạt 80%", reply_to="501")  # a correction of A
    assert "nhiệm vụ A" in text_of(answer)
    assert reports(engine) == [("done", 100, ""), ("in_progress", 80, "đang làm, đạt 80%")]


def test_a_pending_note_expires_and_later_text_is_a_fresh_reply(
    engine: Engine, scene: Scene
) -> None:
    scene.principal.send(button=f"s:{scene.codes['A']}:2")  # task A, never followed by a note
    later = NOW + PENDING_TTL + timedelta(minutes=1)
    answer = scene.principal.send("xong", at=later)
    assert "nhiệm vụ B" in text_of(answer) and "Đã hoàn thành" in text_of(answer)
    assert reports(engine) == [("in_progress", None, ""), ("done", 100, "xong")]
    assert "Không có bước" in text_of(scene.principal.send("/huy", at=later))


def test_the_expiry_is_a_parameter(engine: Engine, scene: Scene) -> None:
    principal = Chat(engine, scene.principal.chat_id, pending_ttl=timedelta(minutes=5))
    principal.send(button=f"s:{scene.codes['A']}:3")
    principal.send("thiếu kinh phí", at=NOW + timedelta(minutes=4))  # in time: the note
    principal.send(button=f"s:{scene.codes['A']}:2", at=NOW + timedelta(minutes=10))
    principal.send("xong", at=NOW + timedelta(minutes=16))  # too late: a reply on B
    assert reports(engine) == [
        ("blocked", None, "thiếu kinh phí"),
        ("in_progress", None, ""),
        ("done", 100, "xong"),
    ]


def test_a_return_reason_step_expires(engine: Engine, scene: Scene) -> None:
    scene.principal.send(f"{scene.codes['B']} 1")
    listed = scene.coordinator.send("/xacnhan")
    ret = next(b for row in listed.messages[0].buttons for b in row if b.data.startswith("c:ret:"))
    assert "lý do" in text_of(scene.coordinator.send(button=ret.data))
    answer = scene.coordinator.send("cảm ơn anh", at=NOW + timedelta(days=10))
    assert "Đã trả lại" not in text_of(answer) and "Hướng dẫn" in text_of(answer)
    with Session(engine) as session:
        assert session.exec(select(Occurrence.status).where(Occurrence.status != "none")).one() == (
            "done"
        )
        assert session.exec(select(Report.return_reason)).one() is None
        assert session.exec(select(Outbox).where(Outbox.step == "returned")).all() == []


def foreign_code(engine: Engine, scene: Scene) -> str:
    """A code of another school's contact, unlike any of the principal's."""
    code = next(c for c in ("QQQ", "RRR", "SSS") if c not in scene.codes.values())
    with session_scope(engine) as session:
        other = session.exec(
            select(Contact).where(Contact.chat_id == scene.world.school_chats["THCS_0002"])
        ).one()
        occurrence_id = session.exec(
            select(Occurrence.id)
            .join(Assignment, Assignment.id == Occurrence.assignment_id)
            .where(Assignment.unit_id == other.unit_id)
        ).first()
        session.add(
            MessageRef(
                code=code,
                contact_id=other.id,  # type: ignore[arg-type]
                occurrence_id=occurrence_id,  # type: ignore[arg-type]
                created_at=NOW,
            )
        )
    return code


@pytest.mark.parametrize("note_pending", [False, True], ids=["no-step", "note-pending"])
def test_a_code_that_is_not_this_chats_is_refused(
    engine: Engine, scene: Scene, note_pending: bool
) -> None:
    before = [("in_progress", None, "")] if note_pending else []
    if note_pending:
        scene.principal.send(button=f"s:{scene.codes['A']}:2")
    nowhere = next(c for c in ("ZZZ", "YYY") if c not in scene.codes.values())
    for code in (foreign_code(engine, scene), nowhere):
        answer = text_of(scene.principal.send(f"{code.lower()} 1 đã xong"))
        assert f"Mã {code}" in answer and "/viec" in answer
    assert reports(engine) == before
    if note_pending:  # the refused text changed nothing: the note is still awaited
        scene.principal.send("đạt 50%")
        assert reports(engine) == [("in_progress", 50, "đạt 50%")]

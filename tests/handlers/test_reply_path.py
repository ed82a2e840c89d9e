"""A contact's reply is written in one place (handlers/reporting.py), whatever path it takes."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from handlers.reporting import NOTE_LIMIT
from storage.enums import MessageKind, OutboxState, ReportStatus, Role
from storage.models import Contact, Occurrence, Outbox, Report
from tests.handlers.conftest import Scene
from tests.handlers.test_conversation import reports, text_of


def test_a_caption_on_evidence_is_a_note_cut_like_any_other(engine: Engine, scene: Scene) -> None:
    scene.principal.send(f"{scene.codes['A']} 2")
    caption = "Biên bản kiểm tra cơ sở vật chất. " * 100  # 3,400 characters
    assert "Đã lưu 1 minh chứng" in text_of(scene.principal.send(caption, files=("photo-1",)))
    ((status, _, note),) = reports(engine)
    assert status == "in_progress" and note == caption.strip()[:NOTE_LIMIT]


def test_a_percentage_in_the_note_after_a_button_shows_in_the_task_list(
    engine: Engine, scene: Scene
) -> None:
    scene.principal.send(button=f"s:{scene.codes['A']}:2")
    scene.principal.send("đã sửa xong 3 phòng, đạt 60%")
    assert "Đang thực hiện 60%" in text_of(scene.principal.send("/viec"))


def test_a_claim_returned_with_its_reason_in_one_command(engine: Engine, scene: Scene) -> None:
    scene.principal.send(f"{scene.codes['B']} 1")
    with Session(engine) as session:
        claim = session.exec(select(Occurrence).where(Occurrence.status == "done")).one()
    scene.coordinator.send("/xacnhan")  # the list shown: its line 1 is the claim
    answer = scene.coordinator.send("/xacnhan tralai 1 Thiếu biên bản hội nghị")
    assert "Đã trả lại" in text_of(answer)
    assert "Đã trả lại" not in text_of(scene.coordinator.send("cảm ơn"))  # no step left behind
    with Session(engine) as session:
        (notice,) = session.exec(select(Outbox).where(Outbox.step == "returned")).all()
        assert "Thiếu biên bản hội nghị" in (notice.text or "")
        reopened = session.get(Occurrence, claim.id)
        assert reopened is not None and reopened.status == "in_progress"


def test_stored_words_read_back_as_the_vocabulary(engine: Engine, scene: Scene) -> None:
    scene.principal.send(f"{scene.codes['B']} 1")
    scene.coordinator.send("/xacnhan")
    scene.coordinator.send("/xacnhan tralai 1 Thiếu biên bản")
    with Session(engine) as session:
        report = session.exec(select(Report)).one()
        contact = session.get(Contact, report.contact_id)
        occurrence = session.get(Occurrence, report.occurrence_id)
        notice = session.exec(select(Outbox)).one()
    assert report.status is ReportStatus.DONE
    assert contact is not None and contact.role is Role.CONTACT
    assert occurrence is not None and occurrence.status is ReportStatus.IN_PROGRESS
    assert notice.kind is MessageKind.NOTICE and notice.status is OutboxState.PENDING

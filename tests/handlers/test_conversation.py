"""The channel-neutral conversation, as a principal, a head and a coordinator use it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from chat.texts import to_plain
from handlers.conversation import handle_incoming
from handlers.invites import create_invite
from handlers.types import Incoming, Outcome
from storage.db import session_scope
from storage.models import Contact, Inbound, Occurrence, Outbox, Report
from tests.handlers.conftest import NOW, Chat, Scene


def text_of(outcome: Outcome) -> str:
    """All message texts of an outcome, as the user reads them."""
    return "\n".join(to_plain(m.text) for m in outcome.messages)


def reports(engine: Engine) -> list[tuple[str, int | None, str]]:
    """(status, percent, note) of every report, oldest first."""
    with Session(engine) as session:
        return [
            (r.status, r.percent, r.note) for r in session.exec(select(Report).order_by(Report.id))
        ]


def test_registration_with_invite_is_single_use_and_expires(engine: Engine, scene: Scene) -> None:
    with session_scope(engine) as session:
        code = create_invite(session, unit_code="THCS_0002", role="contact", now=NOW).code
        old = create_invite(
            session, unit_code="THCS_0002", role="contact", now=NOW - timedelta(days=15)
        ).code
    newcomer = Chat(engine, "555")
    assert "Đăng ký thành công" in text_of(newcomer.send(f"/start {code}"))
    assert "không hợp lệ" in text_of(Chat(engine, "556").send(f"/start {code}"))
    assert "không hợp lệ" in text_of(Chat(engine, "557").send(f"/start {old}"))
    zalo = Chat(engine, "z-1", channel="zalo")
    with session_scope(engine) as session:
        zcode = create_invite(session, unit_code="THCS_0002", role="contact", now=NOW).code
    assert "Đăng ký thành công" in text_of(zalo.send(f"DK {zcode}"))


def test_unregistered_chat_gets_only_the_how_to(engine: Engine, scene: Scene) -> None:
    stranger = Chat(engine, "777")
    for text in ("xin chào", "/status", "xong", "ABC 1"):
        assert "chưa được đăng ký" in text_of(stranger.send(text))
    assert stranger.send(button=f"s:{scene.codes['A']}:1").popup == "Bạn chưa đăng ký."
    assert reports(engine) == []


def test_button_then_note_is_recorded_and_confirmed(engine: Engine, scene: Scene) -> None:
    asked = scene.principal.send(button=f"s:{scene.codes['A']}:2")
    assert "ghi chú" in text_of(asked)
    done = scene.principal.send("Đã hoàn thành 60% hồ sơ")
    assert "Đang thực hiện" in text_of(done) and "60%" in text_of(done)
    assert reports(engine) == [("in_progress", 60, "Đã hoàn thành 60% hồ sơ")]


def test_note_can_be_skipped(engine: Engine, scene: Scene) -> None:
    scene.principal.send(button=f"s:{scene.codes['B']}:1")
    skipped = scene.principal.send(button="n:skip")
    assert "Đã ghi nhận" in text_of(skipped)
    assert reports(engine) == [("done", 100, "")]


def test_free_text_replies_are_understood(engine: Engine, scene: Scene) -> None:
    assert "Gặp khó khăn" in text_of(scene.principal.send("vướng kinh phí sửa chữa"))
    assert "Đã hoàn thành" in text_of(scene.principal.send(f"{scene.codes['A']} 1 xong rồi"))
    assert [r[0] for r in reports(engine)] == ["blocked", "done"]


def test_control_characters_are_dropped_before_anything_is_stored(
    engine: Engine, scene: Scene
) -> None:
    # PostgreSQL text refuses NUL, DOCX and XLSX refuse every C0 control character.
    outcome = scene.principal.send("đang làm\x00, đạt 40%\x07 sửa\x1b mái\ud800")
    assert "Đang thực hiện" in text_of(outcome)
    assert reports(engine) == [("in_progress", 40, "đang làm, đạt 40% sửa mái")]


def test_unreadable_reply_gets_the_buttons_again(engine: Engine, scene: Scene) -> None:
    outcome = scene.principal.send("hôm nay trời đẹp")
    assert "Chưa hiểu" in text_of(outcome)
    assert outcome.messages[0].buttons
    assert reports(engine) == []


def test_correction_until_confirmed_then_refused(engine: Engine, scene: Scene) -> None:
    code = scene.codes["A"]
    scene.principal.send(f"{code} 2 đạt 50%")
    scene.principal.send(f"{code} 1 đã xong")
    listed = scene.coordinator.send("/xacnhan")
    assert "chờ xác nhận" in text_of(listed)
    (row,) = [b for row in listed.messages[0].buttons for b in row if b.data.startswith("c:ok:")]
    assert "Đã xác nhận" in text_of(scene.coordinator.send(button=row.data))
    refused = scene.principal.send(f"{code} 2 sửa lại")
    assert "đã được xác nhận" in text_of(refused)
    assert [r[0] for r in reports(engine)] == ["in_progress", "done"]


def test_returned_claim_reopens_and_tells_the_contact(engine: Engine, scene: Scene) -> None:
    scene.principal.send(f"{scene.codes['B']} 1")
    listed = scene.coordinator.send("/xacnhan")
    ret = next(b for row in listed.messages[0].buttons for b in row if b.data.startswith("c:ret:"))
    assert "lý do" in text_of(scene.coordinator.send(button=ret.data))
    assert "Đã trả lại" in text_of(scene.coordinator.send("Thiếu biên bản hội nghị"))
    with Session(engine) as session:
        occurrence = session.exec(select(Occurrence).where(Occurrence.status != "none")).one()
        assert occurrence.status == "in_progress" and occurrence.next_reminder_at is not None
        notice = session.exec(select(Outbox).where(Outbox.step == "returned")).one()
        assert "Thiếu biên bản hội nghị" in (notice.text or "")


def test_stale_forged_and_foreign_buttons_change_nothing(engine: Engine, scene: Scene) -> None:
    other = Chat(engine, scene.world.school_chats["THCS_0002"])
    for data in (f"s:{scene.codes['A']}:1", "s:ZZZ:1", "s:AB:9", "x" * 64, "c:ok:1", "st:p:999"):
        outcome = other.send(button=data)
        assert outcome.popup or outcome.messages
    assert reports(engine) == []


def test_status_for_head_only_and_contact_is_refused(engine: Engine, scene: Scene) -> None:
    scene.principal.send(f"{scene.codes['A']} 1")
    status = text_of(scene.head.send("/status"))
    assert "Tình hình thực hiện" in status
    assert "Lệnh này dành cho" in text_of(scene.principal.send("/status"))
    drill = scene.head.send("/status KH-TEST")
    assert any(b.data.startswith("st:u:") for row in drill.messages[0].buttons for b in row)


def test_a_coordinator_follows_the_plans_they_coordinate(engine: Engine, scene: Scene) -> None:
    status = scene.coordinator.send("/status KH-TEST")
    assert "Tình hình thực hiện" in text_of(status)
    assert any(b.data.startswith("st:u:") for row in status.messages[0].buttons for b in row)


def test_viec_lists_open_tasks_with_buttons(engine: Engine, scene: Scene) -> None:
    outcome = scene.principal.send("/viec")
    assert "Nhiệm vụ đang mở" in text_of(outcome)
    assert len(outcome.messages[0].buttons) == 2


def test_evidence_attaches_to_latest_report(engine: Engine, scene: Scene) -> None:
    assert "chưa biết gắn" in text_of(scene.principal.send(files=("photo-1",)))
    scene.principal.send(f"{scene.codes['A']} 1 xong")
    assert "Đã lưu 1 minh chứng" in text_of(scene.principal.send(files=("photo-2",)))
    with Session(engine) as session:
        assert session.exec(select(Report)).one().evidence == ["photo-2"]


def test_duplicate_update_is_handled_once(engine: Engine, scene: Scene) -> None:
    incoming = Incoming("telegram", scene.principal.chat_id, "dup-1", text=f"{scene.codes['A']} 1")
    assert handle_incoming(engine, incoming, now=NOW).messages
    assert handle_incoming(engine, incoming, now=NOW).messages == ()
    assert len(reports(engine)) == 1
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Inbound)).one() == 1


def test_pending_note_survives_a_restart(engine: Engine, scene: Scene) -> None:
    scene.principal.send(button=f"s:{scene.codes['A']}:3")
    engine.dispose()  # a new process would open new connections; the step is in the database
    fresh = Chat(engine, scene.principal.chat_id, counter=100)
    assert "Gặp khó khăn" in text_of(fresh.send("thiếu kinh phí"))
    assert reports(engine)[-1] == ("blocked", None, "thiếu kinh phí")


def test_cancel_and_help_and_unknown_command(engine: Engine, scene: Scene) -> None:
    scene.principal.send(button=f"s:{scene.codes['A']}:2")
    assert "Đã hủy" in text_of(scene.principal.send("/huy"))
    assert "Không có bước" in text_of(scene.principal.send("/huy"))
    assert "/viec" in text_of(scene.principal.send("/help"))
    assert "Không có lệnh" in text_of(scene.principal.send("/xoa"))
    with Session(engine) as session:
        contact = session.exec(
            select(Contact).where(Contact.chat_id == scene.principal.chat_id)
        ).one()
        assert contact.role == "contact"


def test_short_codes_never_spell_a_command() -> None:
    from handlers.conversation import COMMANDS
    from storage.queries import REF_ALPHABET, RESERVED_CODES

    spellable = {c.upper() for c in COMMANDS if set(c.upper()) <= set(REF_ALPHABET)}
    assert spellable <= RESERVED_CODES


def test_coded_reply_wins_over_a_pending_note(engine: Engine, scene: Scene) -> None:
    scene.principal.send(button=f"s:{scene.codes['A']}:2")  # asks for a note on task A
    recorded = scene.principal.send(f"{scene.codes['B']} 1 đã gửi báo cáo")
    assert "nhiệm vụ B" in text_of(recorded) and "Đã hoàn thành" in text_of(recorded)
    assert "Không có bước" in text_of(scene.principal.send("/huy"))  # the note step is gone
    assert reports(engine) == [("in_progress", None, ""), ("done", 100, "đã gửi báo cáo")]

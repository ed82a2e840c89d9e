"""Plan intake in chat: a coordinator's document → draft, doubts and buttons → the plan imported."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from reportlab.pdfgen import canvas
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from chat.messages import Capabilities
from chat.texts import to_plain
from handlers.conversation import handle_incoming
from handlers.invites import create_invite
from handlers.types import Incoming, IncomingDocument, Outcome
from plans.intake.draft import draft_plan
from plans.intake.owners import UnitIndex
from plans.units_file import load_units_file
from plans.units_import import import_units
from storage.db import session_scope
from storage.models import Plan, PlanDraft, Report, Task
from tests.utils.clock import local_time

EXAMPLES = Path(__file__).resolve().parents[2] / "plans" / "examples"
SEED = Path(__file__).resolve().parents[1] / "plans" / "intake" / "data"
SEED_TEXT = SEED / "phu-luc-nhiem-vu-kh-315-KH-HU.txt"
NOW = local_time("2025-01-06 09:00")
TELEGRAM = Capabilities(html=True, text_limit=4096, items_per_message=8, files=True)
ZALO = Capabilities(html=False, text_limit=2000, items_per_message=3, files=False)
KEYS = itertools.count(1)


@dataclass
class Person:
    """Someone registered in the chat, sending files, texts and taps."""

    engine: Engine
    chat_id: str
    shows: Capabilities = TELEGRAM

    def send(
        self,
        text: str = "",
        *,
        file: tuple[str, bytes] | None = None,
        button: str | None = None,
    ) -> Outcome:
        """One update from this chat; a file comes with its platform id, as Telegram gives it."""
        incoming = Incoming(
            channel="telegram" if self.shows.files else "zalo",
            chat_id=self.chat_id,
            update_key=f"intake-{next(KEYS)}",
            text=text,
            button_data=button,
            attachments=("file-id",) if file else (),
            documents=(IncomingDocument(*file),) if file else (),
            capabilities=self.shows,
        )
        return handle_incoming(self.engine, incoming, now=NOW)


def said(outcome: Outcome) -> str:
    """What the chat reads."""
    return "\n".join(to_plain(m.text) for m in outcome.messages)


def register(engine: Engine, unit: str, role: str, chat_id: str, shows: Capabilities) -> Person:
    """A person registered through an invite, as in chat."""
    with session_scope(engine) as session:
        code = create_invite(session, unit_code=unit, role=role, now=NOW).code
    person = Person(engine, chat_id, shows)
    assert "thành công" in said(person.send(f"/start {code}"))
    return person


@dataclass
class Office:
    """The district's units, the plan's coordinator (Huyện ủy), another one and a principal."""

    engine: Engine
    coordinator: Person
    other_coordinator: Person
    principal: Person


@pytest.fixture
def office(engine: Engine) -> Office:
    """The example units, with people registered on Telegram."""
    with session_scope(engine) as session:
        import_units(session, load_units_file(EXAMPLES / "units.yaml"), now=NOW)
    return Office(
        engine,
        register(engine, "HUYEN_UY", "coordinator", "901", TELEGRAM),
        register(engine, "BTG_HU", "coordinator", "902", TELEGRAM),
        register(engine, "THCS_CAM_VU", "contact", "903", TELEGRAM),
    )


def seed() -> tuple[str, bytes]:
    """The KH-315 appendix as a text file."""
    return SEED_TEXT.name, SEED_TEXT.read_bytes()


def buttons_of(outcome: Outcome) -> dict[str, str]:
    """Button caption → data, of every message."""
    return {b.text: b.data for m in outcome.messages for row in m.buttons for b in row}


def plans(engine: Engine) -> list[str]:
    """The codes of the plans stored."""
    with Session(engine) as session:
        return list(session.exec(select(Plan.code)))


def drafts(engine: Engine) -> list[tuple[str, str]]:
    """(file name, state) of every draft kept, oldest first."""
    with Session(engine) as session:
        rows = session.exec(select(PlanDraft).order_by(col(PlanDraft.id)))
        return [(d.filename, d.state) for d in rows]


def corrected(outcome: Outcome) -> tuple[str, bytes]:
    """The draft file the bot sent, with its one doubt corrected as the coordinator would."""
    (file,) = [a for m in outcome.messages for a in m.attachments]
    text = file.content.decode()
    text = text.replace(
        "title: Kế hoạch số 315-KH/HU  # KIỂM TRA: không thấy tên kế hoạch (dòng sau «KẾ HOẠCH»)",
        "title: Kế hoạch thực hiện Kết luận số 91-KL/TW",
    )
    return file.filename, text.encode()


def test_a_document_gets_a_summary_the_draft_file_its_doubts_and_buttons(office: Office) -> None:
    shown = office.coordinator.send(file=seed())
    text = said(shown)
    assert "Bản nháp kế hoạch KH-315-HU" in text
    assert "9 nhiệm vụ" in text and "1 chỗ cần kiểm tra" in text
    assert "dòng 6: không thấy tên kế hoạch" in text
    (file,) = shown.messages[0].attachments
    assert file.filename == "phu-luc-nhiem-vu-kh-315-KH-HU.draft.yaml"
    with Session(office.engine) as session:  # the file is what `dondoc plan draft` writes
        expected = draft_plan(SEED_TEXT, UnitIndex.from_session(session), today=date(2025, 1, 6))
    assert file.content.decode() == expected.text
    assert set(buttons_of(shown)) == {"📥 Nhập kế hoạch", "✖️ Hủy"}
    assert drafts(office.engine) == [(file.filename, "pending")]


def test_import_waits_for_the_doubts_then_the_corrected_yaml_imports_once(office: Office) -> None:
    first = office.coordinator.send(file=seed())
    refused = office.coordinator.send(button=buttons_of(first)["📥 Nhập kế hoạch"])
    assert "Chưa nhập" in said(refused) and "còn 1 chỗ cần kiểm tra" in said(refused)
    assert plans(office.engine) == []

    second = office.coordinator.send(file=corrected(first))
    assert "Không còn chỗ nào cần kiểm tra" in said(second)
    stale = office.coordinator.send(button=buttons_of(first)["📥 Nhập kế hoạch"])
    assert stale.popup == "Bản nháp này không còn hiệu lực." and not stale.messages

    imported = office.coordinator.send(button=buttons_of(second)["📥 Nhập kế hoạch"])
    assert "Đã nhập kế hoạch KH-315-HU: 9 nhiệm vụ" in said(imported)
    with Session(office.engine) as session:
        plan = session.exec(select(Plan).where(Plan.code == "KH-315-HU")).one()
        assert plan.visible and plan.title == "Kế hoạch thực hiện Kết luận số 91-KL/TW"
        tasks = session.exec(select(func.count()).where(Task.plan_id == plan.id)).one()
    assert tasks == 9
    again = office.coordinator.send(button=buttons_of(second)["📥 Nhập kế hoạch"])
    assert again.popup == "Bản nháp này không còn hiệu lực." and not again.messages
    assert [state for _, state in drafts(office.engine)] == ["replaced", "imported"]
    status = said(office.coordinator.send("/status KH-315-HU"))
    assert "Tình hình thực hiện — Kế hoạch số 315-KH/HU" in status


def test_a_draft_that_does_not_validate_is_refused_with_the_reason(office: Office) -> None:
    name, content = corrected(office.coordinator.send(file=seed()))
    broken = content.decode().replace("due: Tháng 12/2024", "due: ngày mai nhé", 1).encode()
    shown = office.coordinator.send(file=(name, broken))
    refused = office.coordinator.send(button=buttons_of(shown)["📥 Nhập kế hoạch"])
    assert "Kế hoạch chưa hợp lệ" in said(refused)
    assert f"{name}:" in said(refused) and "ngày mai nhé" in said(refused)
    assert plans(office.engine) == []
    assert drafts(office.engine)[-1] == (name, "pending")  # still there to correct


def test_cancel_drops_the_draft_and_its_buttons(office: Office) -> None:
    shown = office.coordinator.send(file=corrected(office.coordinator.send(file=seed())))
    cancelled = office.coordinator.send(button=buttons_of(shown)["✖️ Hủy"])
    assert "Đã hủy bản nháp" in said(cancelled)
    late = office.coordinator.send(button=buttons_of(shown)["📥 Nhập kế hoạch"])
    assert late.popup == "Bản nháp này không còn hiệu lực."
    assert plans(office.engine) == []


def test_a_plan_another_office_coordinates_is_not_imported(office: Office) -> None:
    name, content = corrected(office.coordinator.send(file=seed()))
    shown = office.other_coordinator.send(file=(name, content))  # coordinator: HUYEN_UY
    refused = office.other_coordinator.send(button=buttons_of(shown)["📥 Nhập kế hoạch"])
    assert "đơn vị đầu mối của KH-315-HU là HUYEN_UY" in said(refused)
    assert plans(office.engine) == []


def test_others_sending_a_file_attach_evidence_and_cannot_press_import(office: Office) -> None:
    shown = office.coordinator.send(file=corrected(office.coordinator.send(file=seed())))
    answer = office.principal.send(file=seed())
    assert "chưa biết gắn vào báo cáo nào" in said(answer)  # the evidence path, as before
    pressed = office.principal.send(button=buttons_of(shown)["📥 Nhập kế hoạch"])
    assert pressed.popup == "Bản nháp này không còn hiệu lực."
    assert plans(office.engine) == [] and len(drafts(office.engine)) == 2
    with Session(office.engine) as session:
        assert session.exec(select(func.count()).select_from(Report)).one() == 0


def scanned_pdf(tmp_path: Path) -> bytes:
    """A PDF whose page is a picture: no text layer."""
    path = tmp_path / "scan.pdf"
    page = canvas.Canvas(str(path))
    page.rect(50, 50, 400, 600, fill=1)
    page.showPage()
    page.save()
    return path.read_bytes()


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        (
            "ke-hoach.doc",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504),
            "Lưu thành… định dạng .docx",
        ),
        ("ke-hoach.pdf", None, "OCR"),
        ("ke-hoach.docx", b"", "tệp quá lớn"),
        ("thu-moi.txt", "Kính mời dự họp lúc 8 giờ.".encode(), "không tìm thấy nhiệm vụ nào"),
        ("sai.yaml", b"- a\n- b\n", "không phải tệp kế hoạch YAML"),
        ("sai.yml", b"code: [\n", "lỗi cú pháp YAML, dòng"),
    ],
)
def test_a_file_that_gives_no_draft_is_explained_and_changes_nothing(
    office: Office, tmp_path: Path, name: str, content: bytes | None, expected: str
) -> None:
    office.coordinator.send(file=seed())
    answer = office.coordinator.send(
        file=(name, scanned_pdf(tmp_path) if content is None else content)
    )
    assert expected in said(answer) and "Không có gì thay đổi" in said(answer)
    assert [state for _, state in drafts(office.engine)] == ["pending"]


def test_kehoach_explains_where_plans_are_sent(office: Office, engine: Engine) -> None:
    on_telegram = said(office.coordinator.send("/kehoach"))
    assert "Gửi tệp kế hoạch (.docx, .pdf có lớp chữ, .txt) vào cuộc trò chuyện này" in on_telegram
    on_zalo = register(engine, "HUYEN_UY", "coordinator", "z-904", ZALO)
    answer = said(on_zalo.send("kehoach"))
    assert "Kênh này không nhận được tệp" in answer and "dondoc plan draft" in answer
    assert "Telegram" in answer
    assert "dành cho lãnh đạo" in said(office.principal.send("/kehoach"))
    assert "/kehoach" in said(office.coordinator.send("/help"))
    assert "kehoach" not in said(office.principal.send("/help"))

"""Indicator values in the conversation: in the reply's line, or asked for one at a time."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from chat.texts import to_plain
from handlers.types import Outcome
from storage.models import IndicatorValue, Occurrence, Report, TaskIndicator
from tests.handlers.conftest import NOW, Chat, sent_reminder
from tests.utils.clock import local_time
from tests.utils.indicator_world import codes_for, indicator_world
from tests.utils.world import World


def text_of(outcome: Outcome) -> str:
    """All message texts of an outcome, as the user reads them."""
    return "\n".join(to_plain(m.text) for m in outcome.messages)


def button_data(outcome: Outcome) -> list[str]:
    """The data of every button of an outcome."""
    return [b.data for m in outcome.messages for row in m.buttons for b in row]


def stored(engine: Engine) -> list[tuple[str, str | None, str | None, str | None]]:
    """(indicator code, number, whole, text) of every stored value, oldest first."""
    with Session(engine) as session:
        rows = session.exec(
            select(TaskIndicator.code, IndicatorValue)
            .join(IndicatorValue, IndicatorValue.indicator_id == TaskIndicator.id)
            .order_by(IndicatorValue.id)  # type: ignore[arg-type]
        ).all()
    return [(code, v.number, v.whole, v.text) for code, v in rows]


def reports(engine: Engine) -> list[tuple[str, int | None, str]]:
    """(status, percent, note) of every report, oldest first."""
    with Session(engine) as session:
        found = session.exec(select(Report).order_by(Report.id)).all()  # type: ignore[arg-type]
    return [(r.status, r.percent, r.note) for r in found]


@pytest.fixture
def world(engine: Engine, tmp_path: Path) -> World:
    """Three schools; task A asks three figures, task B none."""
    return indicator_world(engine, tmp_path, now=local_time("2026-11-02 09:00"))


@pytest.fixture
def school(engine: Engine, world: World) -> Chat:
    """The first school's contact on Telegram."""
    return Chat(engine, world.school_chats["THCS_0001"])


@pytest.fixture
def codes(engine: Engine, world: World) -> dict[str, str]:
    """The first school's short code of each task."""
    found = codes_for(engine, world.school_chats["THCS_0001"], NOW)
    return {key: values[0] for key, values in found.items()}


def test_values_in_the_coded_reply_are_recorded_and_echoed(
    engine: Engine, school: Chat, codes: dict[str, str]
) -> None:
    answer = school.send(f"{codes['A']} 2 đạt 60% phong=45/50 ns=1.234,5 ht=có")
    text = text_of(answer)
    assert "Đang thực hiện (60%)" in text
    assert "Phòng học kiên cố: 45/50 (90%)" in text
    assert "Kinh phí sửa chữa: 1.234,5 triệu đồng" in text
    assert "Đã quán triệt: có" in text
    assert len(answer.messages) == 1  # nothing left to ask
    assert reports(engine) == [("in_progress", 60, "đạt 60%")]
    assert stored(engine) == [
        ("phong", "45", "50", None),
        ("ns", "1234.5", None, None),
        ("ht", "1", None, None),
    ]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("phong=55/50", "55 lớn hơn tổng 50"),
        ("phong=45/50 ns=1,234.5", "viết số theo kiểu Việt Nam"),
        ("ns=-3", "không được âm"),
        ("ht=có lẽ", "không phải có/không"),
        ("phong=45", "không phải dạng số trên tổng"),
        ("ns=12 ns=13", "ghi hai lần"),
        ("phong=45/50 xyz=1", "không có chỉ tiêu mã «xyz»"),
    ],
)
def test_a_wrong_value_refuses_the_whole_reply_and_stores_nothing(
    engine: Engine, school: Chat, codes: dict[str, str], line: str, reason: str
) -> None:
    answer = text_of(school.send(f"{codes['A']} 1 xong {line}"))
    assert "Chưa ghi báo cáo nhiệm vụ A" in answer and reason in answer
    assert "phong=45/50 ns=120 ht=có" in answer  # how to write it
    assert reports(engine) == [] and stored(engine) == []
    with Session(engine) as session:
        assert {o.status for o in session.exec(select(Occurrence))} == {"none"}


def test_after_a_status_button_each_value_is_asked_in_turn(
    engine: Engine, school: Chat, codes: dict[str, str]
) -> None:
    school.send(button=f"s:{codes['A']}:2")
    first = school.send(button="n:skip")  # no note: the figures come next
    assert "Đã ghi nhận báo cáo nhiệm vụ A" in text_of(first)
    assert "Phòng học kiên cố" in text_of(first) and "đơn vị: phòng" in text_of(first)
    assert "1/3" in text_of(first) and "45/50" in text_of(first)
    assert "v:skip" in button_data(first)
    second = school.send("46/50")
    assert "Đã ghi Phòng học kiên cố: 46/50 (92%)" in text_of(second)
    assert "Kinh phí sửa chữa" in text_of(second) and "2/3" in text_of(second)
    third = school.send(button="v:skip")
    assert "Đã quán triệt" in text_of(third)
    summary = text_of(school.send("không"))
    assert "Phòng học kiên cố: 46/50 (92%)" in summary
    assert "Kinh phí sửa chữa: chưa có số liệu" in summary
    assert "Đã quán triệt: không" in summary
    assert stored(engine) == [("phong", "46", "50", None), ("ht", "0", None, None)]
    assert "Không có bước" in text_of(school.send("/huy"))  # the step is over


@pytest.mark.parametrize(
    ("answer", "number"),
    [
        ("1.234,5", "1234.5"),
        ("1234,5", "1234.5"),
        ("1.234.567", "1234567"),
        ("12 triệu đồng", "12"),
    ],
)
def test_numbers_are_read_as_vietnamese_write_them(
    engine: Engine, school: Chat, codes: dict[str, str], answer: str, number: str
) -> None:
    school.send(f"{codes['A']} 2 phong=45/50")  # asks for ns, then ht
    school.send(answer)
    assert stored(engine)[-1] == ("ns", number, None, None)


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("1,234.5", "viết số theo kiểu Việt Nam"),
        ("mười hai", "không phải là số"),
        ("-5", "không được âm"),
        ("12%", "không ghi %"),
    ],
)
def test_a_wrong_answer_is_refused_and_asked_again(
    engine: Engine, school: Chat, codes: dict[str, str], answer: str, reason: str
) -> None:
    school.send(f"{codes['A']} 2 phong=45/50")
    refused = school.send(answer)
    assert "Chưa ghi" in text_of(refused) and reason in text_of(refused)
    assert "Kinh phí sửa chữa" in text_of(refused)  # the same question again
    assert stored(engine) == [("phong", "45", "50", None)]
    school.send("120")
    assert stored(engine)[-1] == ("ns", "120", None, None)


def test_the_remaining_values_can_come_in_one_line(
    engine: Engine, school: Chat, codes: dict[str, str]
) -> None:
    school.send(f"{codes['A']} 1")
    summary = text_of(school.send("45/50; 1.200; có"))
    assert "Kinh phí sửa chữa: 1.200 triệu đồng" in summary
    school.send(f"{codes['A']} 2")
    school.send("ht=không ns=15")  # keyed: any of them, in any order
    assert stored(engine)[-2:] == [("ht", "0", None, None), ("ns", "15", None, None)]


def test_last_periods_value_is_shown_with_the_question(engine: Engine, tmp_path: Path) -> None:
    world = indicator_world(
        engine, tmp_path, now=local_time("2026-11-02 09:00"), due_a="ngày 25 hằng tháng"
    )
    chat = world.school_chats["THCS_0001"]
    november, december = codes_for(engine, chat, NOW)["A"][:2]
    school = Chat(engine, chat)
    school.send(f"{november} 1 phong=45/50 ns=12 ht=có")
    asked = text_of(school.send(f"{december} 2"))
    assert "Kỳ trước: 45/50 (90%)" in asked
    school.send("48/50")
    with Session(engine) as session:
        by_period = dict(
            session.exec(
                select(Occurrence.due_date, IndicatorValue.number)
                .join(IndicatorValue, IndicatorValue.occurrence_id == Occurrence.id)
                .join(TaskIndicator, TaskIndicator.id == IndicatorValue.indicator_id)
                .where(TaskIndicator.code == "phong")
            ).all()
        )
    assert [by_period[d] for d in sorted(by_period)] == ["45", "48"]  # each period its own


def test_values_can_be_corrected_until_the_coordinator_confirms(
    engine: Engine, world: World, school: Chat, codes: dict[str, str]
) -> None:
    school.send(f"{codes['A']} 1 phong=45/50 ns=12 ht=có")
    corrected = text_of(school.send(f"{codes['A']} 1 phong=47/50 ns=12 ht=có"))
    assert "47/50 (94%)" in corrected
    assert [v[1] for v in stored(engine) if v[0] == "phong"] == ["45", "47"]  # history kept
    coordinator = Chat(engine, world.coordinator_chat)
    listed = coordinator.send("/xacnhan")
    (ok,) = [d for d in button_data(listed) if d.startswith("c:ok:")]
    coordinator.send(button=ok)
    refused = text_of(school.send(f"{codes['A']} 1 phong=50/50"))
    assert "đã được xác nhận" in refused
    assert [v[1] for v in stored(engine) if v[0] == "phong"] == ["45", "47"]


def test_a_pending_question_is_refused_once_the_report_is_confirmed(
    engine: Engine, world: World, school: Chat, codes: dict[str, str]
) -> None:
    school.send(f"{codes['A']} 1")  # asks for phong
    coordinator = Chat(engine, world.coordinator_chat)
    (ok,) = [d for d in button_data(coordinator.send("/xacnhan")) if d.startswith("c:ok:")]
    coordinator.send(button=ok)
    assert "đã được xác nhận" in text_of(school.send("45/50"))
    assert stored(engine) == []


def test_on_zalo_the_questions_say_what_to_type(engine: Engine, tmp_path: Path) -> None:
    now = local_time("2026-11-02 09:00")
    chat = indicator_world(engine, tmp_path, now=now, channel="zalo").school_chats["THCS_0002"]
    code = codes_for(engine, chat, NOW)["A"][0]
    school = Chat(engine, chat, channel="zalo")
    asked = school.send(f"{code} 2 ns=3")
    (recorded, question) = asked.messages
    assert question.buttons == () and "<b>" not in question.text
    assert "Gõ «bỏ qua»" in question.text and "phong=45/50 ht=có" in question.text
    school.send("bỏ qua")
    summary = text_of(school.send("có"))
    assert "Phòng học kiên cố: chưa có số liệu" in summary and "Đã quán triệt: có" in summary


def test_a_task_without_indicators_reads_its_reply_as_before(
    engine: Engine, school: Chat, codes: dict[str, str]
) -> None:
    answer = school.send(f"{codes['B']} 1 xong ht=co, tl=20%")
    assert len(answer.messages) == 1 and "Số liệu" not in text_of(answer)
    assert reports(engine) == [("done", 100, "xong ht=co, tl=20%")]
    assert stored(engine) == []


def test_free_text_with_values_reads_its_status_from_the_words(
    engine: Engine, school: Chat, codes: dict[str, str]
) -> None:
    sent_reminder(engine, school.chat_id, codes["A"], "m-1")
    answer = school.send("xong rồi ns=20 phong=50/50 ht=có", reply_to="m-1")
    assert "Đã hoàn thành" in text_of(answer)
    assert reports(engine) == [("done", 100, "xong rồi")]
    assert [v[0] for v in stored(engine)] == ["phong", "ns", "ht"]
    with Session(engine) as session:
        value = session.exec(select(IndicatorValue).order_by(IndicatorValue.id)).first()  # type: ignore[arg-type]
    assert value is not None and Decimal(value.number or "0") == 50

"""Zalo updates through the real conversation and database, answers through the fake Zalo API."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from bot.channels import answers
from bot.channels.zalo import ZaloApi, ZaloConversation, ZaloPoller, ZaloSender
from handlers.invites import create_invite
from scheduler.dispatcher import Dispatcher
from scheduler.planner import plan_due_reminders
from scheduler.ratelimit import unlimited
from storage.db import session_scope
from storage.models import Contact, Inbound, Occurrence, Report, SentCounter
from tests.fakes.zalo_api import FakeZaloApi, ZaloFault
from tests.utils.clock import local_time
from tests.utils.world import World, build_world

NOW = local_time("2026-11-23 08:00")
CODE_RE = re.compile(r"Mã: ([A-Z0-9]+)")


@pytest.fixture
def poller(engine: Engine, api: ZaloApi) -> ZaloPoller:
    """A poller feeding the real conversation at a fixed time, without long polling."""
    conversation = ZaloConversation(engine, ZaloSender(api), clock=lambda: NOW)
    return ZaloPoller(api, conversation.handle_update, long_poll=0)


def zalo_world(engine: Engine, folder: Path, tasks: int = 1) -> World:
    """One school whose contact is on Zalo, with `tasks` tasks due 30/11/2026."""
    return build_world(
        engine,
        folder,
        now=local_time("2026-11-02 09:00"),
        schools=1,
        channel="zalo",
        tasks=[(str(i), "TRUONG", "30/11/2026") for i in range(1, tasks + 1)],
    )


def sent_this_month(engine: Engine) -> int:
    """The Zalo sent-message counter for November 2026."""
    with Session(engine) as session:
        row = session.get(SentCounter, ("zalo", "2026-11"))
        return row.count if row else 0


async def test_registration_answered_once_even_when_replayed(
    engine: Engine, tmp_path: Path, fake: FakeZaloApi, poller: ZaloPoller
) -> None:
    zalo_world(engine, tmp_path)
    with session_scope(engine) as session:
        invite = create_invite(session, unit_code="THCS_0001", role="contact", now=NOW)
    chat = "84911111111"
    update = fake.user_says(chat, invite.zalo_text, name="Lê Văn Cường")
    fake.replay(update)
    for _ in range(3):
        await poller.poll_once()
    (answer,) = fake.texts_for(chat)
    assert "Đăng ký thành công" in answer and "Trường THCS số 1" in answer
    assert "<b>" not in answer  # plain text on Zalo
    with Session(engine) as session:
        contact = session.exec(select(Contact).where(Contact.chat_id == chat)).one()
        assert (contact.channel, contact.role, contact.display_name) == (
            "zalo",
            "contact",
            "Lê Văn Cường",
        )
        keys = session.exec(select(Inbound.update_key).where(Inbound.channel == "zalo")).all()
        assert keys == [update["message"]["message_id"]]
    assert sent_this_month(engine) == 1
    assert "sendChatAction" in fake.calls


async def test_unregistered_chat_is_told_how_to_register_and_stickers_get_nothing(
    engine: Engine, fake: FakeZaloApi, poller: ZaloPoller
) -> None:
    sticker = fake.user_says("84922222222", "")
    sticker["event_name"] = "message.sticker.received"
    fake.user_says("84922222222", "alo")
    for _ in range(2):
        await poller.poll_once()
    (answer,) = fake.texts_for("84922222222")
    assert "DK mã-mời" in answer


async def test_reminder_then_coded_and_uncoded_replies_and_a_photo(
    engine: Engine, tmp_path: Path, fake: FakeZaloApi, api: ZaloApi, poller: ZaloPoller
) -> None:
    world = zalo_world(engine, tmp_path, tasks=2)
    chat = world.school_chats["THCS_0001"]
    plan_due_reminders(engine, now=NOW)
    dispatcher = Dispatcher(engine, {"zalo": ZaloSender(api)}, limiter=unlimited())
    result = await dispatcher.dispatch(now=NOW)
    assert result.messages == 1
    (reminder,) = fake.texts_for(chat)
    first, second = CODE_RE.findall(reminder)
    assert f"Trả lời: {first} 1 (xong), {first} 2 (đang làm), {first} 3 (khó khăn)" in reminder

    fake.user_says(chat, f"{first} 2 đạt 60%, đang hoàn thiện hồ sơ")
    await poller.poll_once()
    fake.user_says(chat, "xong")
    await poller.poll_once()
    fake.user_sends_photo(chat, "https://photo.zalo.me/bien-ban.jpg", caption="biên bản")
    await poller.poll_once()
    answers = fake.texts_for(chat)[1:]
    assert len(answers) == 3
    assert "nhiệm vụ 1 —" in answers[0] and "(60%)" in answers[0]
    assert "nhiệm vụ 2 —" in answers[1] and "Đã hoàn thành" in answers[1]
    assert "Đã lưu 1 minh chứng" in answers[2]
    with Session(engine) as session:
        reports = session.exec(select(Report).order_by(Report.id)).all()
        assert [(r.status, r.percent) for r in reports] == [("in_progress", 60), ("done", 100)]
        assert reports[0].note == "đạt 60%, đang hoàn thiện hồ sơ"
        assert reports[1].evidence == ["https://photo.zalo.me/bien-ban.jpg"]
        statuses = session.exec(select(Occurrence.status).order_by(Occurrence.id)).all()
        assert sorted(statuses) == ["done", "in_progress"]
    assert sent_this_month(engine) == 4  # the reminder (dispatcher) and three replies


async def test_a_reply_that_meets_one_server_error_is_sent_again(
    engine: Engine, fake: FakeZaloApi, poller: ZaloPoller, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(answers, "TRANSIENT_PAUSE", 0.0)
    fake.faults = [ZaloFault("500", chat_id="84933333333")]
    fake.user_says("84933333333", "alo")
    assert await poller.poll_once() == 1.0
    assert len(fake.texts_for("84933333333")) == 1  # the second try went through
    assert sent_this_month(engine) == 1


async def test_a_failed_reply_is_logged_not_raised_nor_counted(
    engine: Engine,
    tmp_path: Path,
    fake: FakeZaloApi,
    poller: ZaloPoller,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.channels")
    monkeypatch.setattr(answers, "TRANSIENT_PAUSE", 0.0)
    fake.faults = [ZaloFault("500", chat_id="84933333333", times=answers.ATTEMPTS)]
    fake.user_says("84933333333", "alo")
    assert await poller.poll_once() == 1.0
    assert fake.texts_for("84933333333") == []
    assert sent_this_month(engine) == 0
    assert any("not delivered" in r.getMessage() for r in caplog.records)
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Inbound)).one() == 1


async def test_a_foreign_code_is_refused_and_a_stale_return_reason_is_not_applied(
    engine: Engine, tmp_path: Path, fake: FakeZaloApi, api: ZaloApi
) -> None:
    world = zalo_world(engine, tmp_path)
    chat, coordinator = world.school_chats["THCS_0001"], world.coordinator_chat
    clock = [NOW]
    conversation = ZaloConversation(
        engine, ZaloSender(api), clock=lambda: clock[0], pending_ttl=timedelta(minutes=5)
    )
    poller = ZaloPoller(api, conversation.handle_update, long_poll=0)
    plan_due_reminders(engine, now=NOW)
    await Dispatcher(engine, {"zalo": ZaloSender(api)}, limiter=unlimited()).dispatch(now=NOW)
    (code,) = CODE_RE.findall(fake.texts_for(chat)[0])
    nowhere = next(c for c in ("ZZZ", "YYY") if c != code)
    for text in (f"{nowhere} 1 xong", f"{code} 1 xong"):
        fake.user_says(chat, text)
        await poller.poll_once()
    refused, recorded = fake.texts_for(chat)[1:]
    assert f"Mã {nowhere}" in refused and "Gõ viec" in refused
    assert "Đã hoàn thành" in recorded
    with Session(engine) as session:
        claim = session.exec(select(Occurrence).where(Occurrence.status == "done")).one()
    fake.user_says(coordinator, "xacnhan")  # the list shown: its line 1 is the claim
    await poller.poll_once()
    fake.user_says(coordinator, "xacnhan tralai 1")
    await poller.poll_once()
    clock[0] = NOW + timedelta(minutes=6)  # the reason never came in time
    fake.user_says(coordinator, "cảm ơn anh")
    await poller.poll_once()
    asked, answered = fake.texts_for(coordinator)[-2:]
    assert "lý do" in asked and "Đã trả lại" not in answered
    with Session(engine) as session:
        assert session.get(Occurrence, claim.id).status == "done"  # type: ignore[union-attr]
        assert [r.status for r in session.exec(select(Report))] == ["done"]

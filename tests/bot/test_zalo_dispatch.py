"""A unit with contacts on Telegram and Zalo: the real dispatcher reaches both.

One channel marking its contact unreachable does not stop the other.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.channels.telegram import TelegramSender
from bot.channels.zalo import ZaloApi, ZaloSender
from chat.texts import to_plain
from scheduler.dispatcher import Dispatcher
from scheduler.planner import plan_due_reminders
from scheduler.ratelimit import unlimited
from storage.db import session_scope
from storage.models import Contact, Outbox, SentCounter, Unit
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.zalo_api import TOKEN, FakeZaloApi
from tests.utils.clock import local_time
from tests.utils.world import World, add_contact, build_world

NOW = local_time("2026-11-23 08:00")
ZALO_CHAT = "84955555555"


@pytest.fixture
def telegram_api() -> Iterator[FakeBotApi]:
    """The fake Telegram Bot API in a thread."""
    server = FakeBotApi().start()
    yield server
    server.stop()


@pytest.fixture
def zalo_api() -> Iterator[FakeZaloApi]:
    """The fake Zalo Bot API in a thread."""
    with FakeZaloApi() as server:
        yield server


@pytest.fixture
async def dispatcher(
    engine: Engine, telegram_api: FakeBotApi, zalo_api: FakeZaloApi
) -> AsyncIterator[Dispatcher]:
    """The real dispatcher with both real senders, on the two fakes."""
    bot = Bot("123:TEST", base_url=telegram_api.api_url(), request=HTTPXRequest(read_timeout=2))

    async def no_sleep(seconds: float) -> None:
        return None

    async with ZaloApi(TOKEN, base_url=zalo_api.api_url(), timeout=2.0) as api:
        senders = {"telegram": TelegramSender(bot), "zalo": ZaloSender(api)}
        yield Dispatcher(engine, senders, limiter=unlimited(), sleep=no_sleep)


def school_on_both_channels(engine: Engine, folder: Path) -> World:
    """One school with a Telegram contact (from the world) and a Zalo contact."""
    world = build_world(engine, folder, now=local_time("2026-11-02 09:00"), schools=1)
    with session_scope(engine) as session:
        unit = session.exec(select(Unit).where(Unit.code == "THCS_0001")).one()
        add_contact(session, unit, ZALO_CHAT, "contact", NOW, "zalo")
    return world


async def test_both_channels_receive_the_reminder(
    engine: Engine,
    tmp_path: Path,
    telegram_api: FakeBotApi,
    zalo_api: FakeZaloApi,
    dispatcher: Dispatcher,
) -> None:
    world = school_on_both_channels(engine, tmp_path)
    plan_due_reminders(engine, now=NOW)
    result = await dispatcher.dispatch(now=NOW)
    assert result.messages == 2 and result.unreachable == 0
    (telegram_text,) = telegram_api.texts_for(world.school_chats["THCS_0001"])
    (zalo_text,) = zalo_api.texts_for(ZALO_CHAT)
    assert to_plain(telegram_text).startswith("🔔 Nhắc việc")
    assert zalo_text.startswith("🔔 Nhắc việc") and "<b>" not in zalo_text
    assert "Mã: " in zalo_text and "Trả lời: " in zalo_text
    with Session(engine) as session:
        counts = {c.channel: c.count for c in session.exec(select(SentCounter))}
    assert counts == {"telegram": 1, "zalo": 1}


async def test_telegram_blocked_zalo_still_delivers(
    engine: Engine,
    tmp_path: Path,
    telegram_api: FakeBotApi,
    zalo_api: FakeZaloApi,
    dispatcher: Dispatcher,
) -> None:
    world = school_on_both_channels(engine, tmp_path)
    telegram_chat = world.school_chats["THCS_0001"]
    telegram_api.blocked.add(telegram_chat)
    plan_due_reminders(engine, now=NOW)
    result = await dispatcher.dispatch(now=NOW)
    assert result.unreachable == 1
    assert telegram_api.texts_for(telegram_chat) == []
    (zalo_text,) = zalo_api.texts_for(ZALO_CHAT)
    assert "Nhiệm vụ 1:" in zalo_text and "Mã: " in zalo_text
    with Session(engine) as session:
        contacts = {
            c.channel: c for c in session.exec(select(Contact).where(Contact.role == "contact"))
        }
        assert contacts["telegram"].reachable is False
        assert contacts["zalo"].reachable is True
        zalo_rows = session.exec(
            select(Outbox).where(Outbox.contact_id == contacts["zalo"].id)
        ).all()
        assert [r.status for r in zalo_rows] == ["sent"]
    # The coordinator (on Telegram) is told which contact is lost, and which channel.
    (notice,) = telegram_api.texts_for(world.coordinator_chat)
    assert "Không gửi được" in notice and "telegram" in notice


async def test_zalo_blocked_telegram_still_delivers(
    engine: Engine,
    tmp_path: Path,
    telegram_api: FakeBotApi,
    zalo_api: FakeZaloApi,
    dispatcher: Dispatcher,
) -> None:
    world = school_on_both_channels(engine, tmp_path)
    zalo_api.blocked.add(ZALO_CHAT)
    plan_due_reminders(engine, now=NOW)
    result = await dispatcher.dispatch(now=NOW)
    assert result.unreachable == 1
    assert zalo_api.texts_for(ZALO_CHAT) == []
    assert len(telegram_api.texts_for(world.school_chats["THCS_0001"])) == 1
    with Session(engine) as session:
        zalo_contact = session.exec(select(Contact).where(Contact.chat_id == ZALO_CHAT)).one()
        assert zalo_contact.reachable is False

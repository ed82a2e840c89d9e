"""Telegram polling: a batch is stored before the next getUpdates confirms it, then answered."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from telegram import Bot

import bot.channels.inbox
from bot.channels.inbox import Inbox
from bot.channels.telegram import TelegramChannel
from bot.channels.telegram.poller import TelegramPoller
from bot.channels.telegram.sender import build_bot
from bot.settings import load_settings
from storage.models import Inbound
from tests.bot.test_telegram_webhook import update
from tests.fakes.bot_api import FakeBotApi

HELP = "/help"  # answered to anyone, registered or not


@pytest.fixture
async def telegram_bot(bot_api: FakeBotApi) -> AsyncIterator[Bot]:
    """The Bot `dondoc run` builds, on the fake API."""
    settings = load_settings(telegram_bot_token="123:POLL", telegram_api_url=bot_api.api_url())
    async with build_bot(settings) as started:
        yield started


async def answered(api: FakeBotApi, count: int) -> int:
    """How many messages the fake API received, once there are `count` (answers travel apart)."""
    for _ in range(500):  # waiting for the inbox's tasks on this loop, not for a schedule
        if len(api.sent) >= count:
            break
        await asyncio.sleep(0.01)
    return len(api.sent)


def stored(engine: Engine) -> list[str]:
    """The update keys stored, oldest first."""
    with Session(engine) as session:
        return list(session.exec(select(Inbound.update_key).order_by(col(Inbound.id))))


async def test_a_polled_batch_is_stored_before_it_is_confirmed_and_then_answered(
    bot_api: FakeBotApi, telegram_bot: Bot, engine: Engine
) -> None:
    bot_api.updates = [update(7, 41, HELP), update(8, 42, HELP), update(9, 41, HELP)]
    inbox = Inbox(engine)
    inbox.add(TelegramChannel(telegram_bot))
    poller = TelegramPoller(telegram_bot, inbox, long_poll=0)
    try:
        async with poller.request:
            assert await poller.poll_once() == 0.0  # a batch came: ask again at once
            assert stored(engine) == ["7", "8", "9"]  # stored while still unconfirmed
            assert bot_api.offsets == [None] and len(bot_api.updates) == 3
            assert await poller.poll_once() == poller.interval  # nothing new
            assert bot_api.offsets == [None, 10] and bot_api.updates == []
            assert await answered(bot_api, 3) == 3
    finally:
        await inbox.stop()  # lets the answers on their way go out
    assert len(bot_api.texts_for("41")) == 2 and len(bot_api.texts_for("42")) == 1


async def test_a_batch_not_stored_is_asked_for_again_not_confirmed(
    bot_api: FakeBotApi, telegram_bot: Bot, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot_api.updates = [update(7, 41, HELP), update(8, 42, HELP)]

    def broken(*args: object, **kwargs: object) -> set[str]:
        raise RuntimeError("disk full")

    inbox = Inbox(engine)
    inbox.add(TelegramChannel(telegram_bot))
    poller = TelegramPoller(telegram_bot, inbox, long_poll=0)
    try:
        async with poller.request:
            with monkeypatch.context() as patched:
                patched.setattr(bot.channels.inbox, "store_many", broken)
                assert await poller.poll_once() > 0  # backs off
            assert stored(engine) == [] and len(bot_api.updates) == 2
            await poller.poll_once()  # the same batch, now stored
            await poller.poll_once()
            assert await answered(bot_api, 2) == 2
    finally:
        await inbox.stop()
    assert bot_api.offsets == [None, None, 9]
    assert stored(engine) == ["7", "8"]
    assert len(bot_api.texts_for("41")) == 1 and len(bot_api.texts_for("42")) == 1

"""The weekly digest: from Monday 07:30 local, once a week per plan and coordinator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from telegram import Bot

from bot.telegram_channel import TelegramSender
from handlers.texts import to_plain
from scheduler.dispatcher import Dispatcher
from scheduler.ratelimit import unlimited
from scheduler.tick import tick
from tests.fakes.bot_api import FakeBotApi
from tests.utils.clock import local_time
from tests.utils.world import build_world


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    """A fake Bot API in a thread."""
    server = FakeBotApi().start()
    yield server
    server.stop()


async def test_digest_goes_to_coordinators_on_monday_morning_once(
    engine: Engine, tmp_path: Path, api: FakeBotApi
) -> None:
    world = build_world(engine, tmp_path, now=local_time("2026-11-02 09:00"), schools=3)
    bot = Bot("123:TEST", base_url=api.api_url())
    dispatcher = Dispatcher(engine, {"telegram": TelegramSender(bot)}, limiter=unlimited())
    async with bot:
        await tick(engine, dispatcher, now=local_time("2026-11-30 07:29"))
        assert [m for m in api.sent if m["chat_id"] == world.coordinator_chat] == []
        await tick(engine, dispatcher, now=local_time("2026-11-30 07:30"))
        await tick(engine, dispatcher, now=local_time("2026-11-30 09:00"))
        await tick(engine, dispatcher, now=local_time("2026-12-02 09:00"))
    to_coordinator = [m for m in api.sent if m["chat_id"] == world.coordinator_chat]
    assert [m["method"] for m in to_coordinator] == ["sendMessage", "sendDocument", "sendPhoto"]
    text = to_plain(to_coordinator[0]["text"])
    assert "Tổng hợp tuần" in text and "99/KH-PGDDT" in text
    assert len(to_coordinator[0]["text"]) <= 4096
    assert [m for m in api.sent if m["chat_id"] == world.head_chat] == []

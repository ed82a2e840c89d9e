"""Dispatch through the real Telegram sender against a fake Bot API that misbehaves."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from telegram import Bot

from bot.channels.telegram import TelegramSender
from bot.channels.telegram.transport import AiohttpRequest
from chat.messages import OutgoingMessage
from chat.texts import to_plain
from scheduler.dispatcher import Dispatcher
from scheduler.planner import plan_due_reminders
from scheduler.ratelimit import unlimited
from storage.models import Contact, Outbox
from tests.fakes.bot_api import FakeBotApi, Fault
from tests.utils.clock import local_time
from tests.utils.world import build_world

NOW = local_time("2026-11-23 08:00")


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    """A fake Bot API in a thread."""
    server = FakeBotApi().start()
    yield server
    server.stop()


def make_dispatcher(engine: Engine, api: FakeBotApi, waits: list[float]) -> Dispatcher:
    """A dispatcher with the real sender and a sleep that only records."""
    bot = Bot(
        "123:TEST",
        base_url=api.api_url(),
        request=AiohttpRequest(read_timeout=0.5, connect_timeout=1.0),
    )

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    return Dispatcher(
        engine, {"telegram": TelegramSender(bot)}, limiter=unlimited(), sleep=fake_sleep
    )


async def test_every_reminder_delivered_once_despite_faults(
    engine: Engine, tmp_path: Path, api: FakeBotApi
) -> None:
    world = build_world(engine, tmp_path, now=local_time("2026-11-02 09:00"), schools=5)
    chats = [world.school_chats[c] for c in world.schools]
    api.faults = [
        Fault("429", chat_id=chats[0], retry_after=3),
        Fault("500", chat_id=chats[1], times=2),
        Fault("drop", chat_id=chats[2]),
        Fault("slow", chat_id=chats[3], seconds=1.0),
        Fault("403", chat_id=chats[4]),
    ]
    plan_due_reminders(engine, now=NOW)
    waits: list[float] = []
    dispatcher = make_dispatcher(engine, api, waits)
    result = await dispatcher.dispatch(now=NOW)
    for chat in chats[:4]:
        texts = api.texts_for(chat)
        assert len(texts) == 1, (chat, texts)
        assert to_plain(texts[0]).startswith("🔔 Nhắc việc")
    assert api.texts_for(chats[4]) == []
    assert result.unreachable == 1
    assert 3 in waits  # the 429's retry_after was honoured
    with Session(engine) as session:
        blocked = session.exec(select(Contact).where(Contact.chat_id == chats[4])).one()
        assert not blocked.reachable
    # The coordinator hears about the blocked contact exactly once, in the same pass.
    notices = api.texts_for(world.coordinator_chat)
    assert len(notices) == 1 and "Không gửi được" in notices[0]
    again = await dispatcher.dispatch(now=NOW)
    assert again.sent == 0 and again.messages == 0
    assert len(api.texts_for(world.coordinator_chat)) == 1
    assert sum(len(api.texts_for(c)) for c in chats) == 4


async def test_quiet_hours_hold_messages_until_morning(
    engine: Engine, tmp_path: Path, api: FakeBotApi
) -> None:
    world = build_world(engine, tmp_path, now=local_time("2026-11-02 09:00"), schools=1)
    plan_due_reminders(engine, now=NOW)
    dispatcher = make_dispatcher(engine, api, [])
    await dispatcher.dispatch(now=local_time("2026-11-23 22:30"))
    assert api.sent == []
    await dispatcher.dispatch(now=local_time("2026-11-24 07:00"))
    assert len(api.texts_for(world.school_chats["THCS_0001"])) == 1


async def test_persistent_failure_is_deferred_not_lost(
    engine: Engine, tmp_path: Path, api: FakeBotApi
) -> None:
    world = build_world(engine, tmp_path, now=local_time("2026-11-02 09:00"), schools=1)
    chat = world.school_chats["THCS_0001"]
    api.faults = [Fault("500", chat_id=chat, times=5)]
    plan_due_reminders(engine, now=NOW)
    dispatcher = make_dispatcher(engine, api, [])
    first = await dispatcher.dispatch(now=NOW)
    assert first.deferred == 1 and api.texts_for(chat) == []
    with Session(engine) as session:
        row = session.exec(select(Outbox)).one()
        assert row.status == "pending" and row.next_attempt_at > NOW
        retry_at = row.next_attempt_at
    await dispatcher.dispatch(now=retry_at)
    assert len(api.texts_for(chat)) == 1


async def test_reminders_for_one_contact_are_combined(
    engine: Engine, tmp_path: Path, api: FakeBotApi
) -> None:
    world = build_world(
        engine,
        tmp_path,
        now=local_time("2026-11-02 09:00"),
        schools=1,
        tasks=[("1", "TRUONG", "30/11/2026"), ("2", "TRUONG", "30/11/2026")],
    )
    plan_due_reminders(engine, now=NOW)
    await make_dispatcher(engine, api, []).dispatch(now=NOW)
    (text,) = api.texts_for(world.school_chats["THCS_0001"])
    assert "Nhiệm vụ 1:" in text and "Nhiệm vụ 2:" in text


async def test_a_long_reminder_goes_part_by_part_and_a_failed_part_never_repeats_the_first(
    engine: Engine, tmp_path: Path, api: FakeBotApi
) -> None:
    tasks = [(str(n), "TRUONG", "30/11/2026") for n in range(1, 11)]  # 10 tasks: 8 + 2 per message
    world = build_world(
        engine, tmp_path, now=local_time("2026-11-02 09:00"), schools=1, tasks=tasks
    )
    chat = world.school_chats["THCS_0001"]
    api.faults = [Fault("429", chat_id=chat, retry_after=600, after=1)]  # the second part waits
    plan_due_reminders(engine, now=NOW)
    dispatcher = make_dispatcher(engine, api, [])
    first = await dispatcher.dispatch(now=NOW)
    assert (first.sent, first.messages, first.deferred) == (8, 1, 1)
    (part_one,) = api.texts_for(chat)
    assert "Nhiệm vụ 8:" in part_one and "Nhiệm vụ 9:" not in part_one
    with Session(engine) as session:
        rows = session.exec(select(Outbox)).all()
    assert sorted(r.status for r in rows) == ["pending"] * 2 + ["sent"] * 8
    retry_at = max(r.next_attempt_at for r in rows)
    assert retry_at >= NOW + timedelta(seconds=600)
    assert len({r.platform_message_id for r in rows if r.status == "sent"}) == 1
    second = await dispatcher.dispatch(now=retry_at)
    assert (second.sent, second.messages) == (2, 1)
    assert api.texts_for(chat)[0] == part_one and len(api.texts_for(chat)) == 2
    last = api.texts_for(chat)[1]
    assert "Nhiệm vụ 9:" in last and "Nhiệm vụ 10:" in last and "Nhiệm vụ 1:" not in last


class BrokenOnce:
    """A sender whose second message fails with an error nobody expected, once."""

    channel = "telegram"
    max_text = 4096
    capabilities = TelegramSender.capabilities

    def __init__(self) -> None:
        self.delivered: list[str] = []
        self.failed = False

    async def send(self, chat_id: str, message: OutgoingMessage) -> str | None:
        """Deliver, except for one surprise."""
        if len(self.delivered) == 1 and not self.failed:
            self.failed = True
            raise RuntimeError("a bug in a channel adapter")
        self.delivered.append(chat_id)
        return str(len(self.delivered))


async def test_a_pass_that_fails_leaves_nothing_stuck_for_the_next(
    engine: Engine, tmp_path: Path
) -> None:
    world = build_world(engine, tmp_path, now=local_time("2026-11-02 09:00"), schools=3)
    plan_due_reminders(engine, now=NOW)
    sender = BrokenOnce()
    dispatcher = Dispatcher(engine, {"telegram": sender}, limiter=unlimited())
    with pytest.raises(RuntimeError):
        await dispatcher.dispatch(now=NOW)
    assert len(sender.delivered) == 1
    await dispatcher.dispatch(now=NOW)  # the same running process, its next minute
    assert sorted(sender.delivered) == sorted(world.school_chats.values())

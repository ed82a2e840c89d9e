"""Several messages in flight: the rate is filled at real latency, each chat has one message in
flight at a time, marks that come back together share a commit, and a crash repeats at most the
messages in flight.

The sender's round trip is a few turns of the event loop, not time: nothing here sleeps.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.channels import build_dispatcher
from bot.channels.telegram import TelegramSender
from bot.settings import Settings
from chat.messages import Capabilities, OutgoingMessage, to_plain
from scheduler.dispatcher import Dispatcher
from scheduler.lease import LEASE
from scheduler.planner import plan_due_reminders
from scheduler.ratelimit import ROUND_TRIP_SECONDS, unlimited
from storage.db import session_scope
from storage.models import Outbox, Unit
from storage.outbox import SentMarks
from tests.utils.clock import local_time
from tests.utils.world import World, add_contact, build_world

NOW = local_time("2026-11-23 08:00")
SCHOOLS = 12
IN_FLIGHT = 4


class Killed(BaseException):
    """The process died here: nothing after it runs."""


class SlowChat:
    """A Telegram-shaped sender whose round trip takes a few turns of the event loop."""

    channel = "telegram"
    max_text = 4096
    capabilities = TelegramSender.capabilities

    def __init__(self, *, die_after: int | None = None) -> None:
        self.delivered: list[str] = []
        self.in_flight: list[str] = []
        self.most_in_flight = 0
        self.die_after = die_after

    async def send(self, chat_id: str, message: OutgoingMessage) -> str | None:
        """Deliver at once, answer a few turns later; past `die_after`, die with all in flight."""
        assert chat_id not in self.in_flight, f"two messages in flight to chat {chat_id}"
        self.in_flight.append(chat_id)
        self.most_in_flight = max(self.most_in_flight, len(self.in_flight))
        self.delivered.append(chat_id)
        if self.die_after is not None and len(self.delivered) > self.die_after:
            if len(self.in_flight) == IN_FLIGHT:
                raise Killed
        for _ in range(3):  # the round trip: other sends go meanwhile
            await asyncio.sleep(0)
        self.in_flight.remove(chat_id)
        return str(len(self.delivered))


@pytest.fixture
def world(engine: Engine, tmp_path: Path) -> World:
    """Schools due a reminder at NOW; the last school's chat answers for the second one too."""
    built = build_world(engine, tmp_path, now=local_time("2026-11-02 09:00"), schools=SCHOOLS)
    with session_scope(engine) as session:
        second = session.exec(select(Unit).where(Unit.code == built.schools[1])).one()
        add_contact(session, second, shared_chat(built), "contact", NOW, "telegram")
    plan_due_reminders(engine, now=NOW)
    return built


def shared_chat(world: World) -> str:
    """The chat that answers for two schools."""
    return world.school_chats[world.schools[-1]]


def statuses(engine: Engine) -> Counter[str]:
    """Outbox rows per status."""
    with Session(engine) as session:
        return Counter(str(row.status) for row in session.exec(select(Outbox)))


def test_the_default_fills_the_rate_at_a_real_round_trip() -> None:
    settings = Settings.model_construct()  # the defaults, no environment
    dispatcher = build_dispatcher(settings, None, {})  # type: ignore[arg-type]
    # One message a round trip per place in flight: at 150 ms, 5 places send 33/s ≥ 25/s.
    assert dispatcher.concurrency == 5
    assert dispatcher.concurrency / ROUND_TRIP_SECONDS >= settings.send_rate_per_second
    assert dispatcher.concurrency / 0.150 >= settings.send_rate_per_second


async def test_several_in_flight_each_to_its_own_chat(engine: Engine, world: World) -> None:
    sender = SlowChat()
    dispatcher = Dispatcher(
        engine, {"telegram": sender}, limiter=unlimited(), concurrency=IN_FLIGHT
    )
    result = await dispatcher.dispatch(now=NOW)
    assert sender.most_in_flight == IN_FLIGHT
    assert (
        Counter(sender.delivered)[shared_chat(world)] == 2
    )  # two units' reminders, one after the other
    assert set(sender.delivered) == set(world.school_chats.values())
    assert result.messages == SCHOOLS + 1 and statuses(engine) == {"sent": SCHOOLS + 1}


async def test_marks_that_come_back_together_share_a_commit(
    engine: Engine, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    commits: list[int] = []
    write = SentMarks.write

    def counted(self: SentMarks, marks: list[tuple[int, str | None]]) -> None:
        commits.append(len(marks))
        write(self, marks)

    monkeypatch.setattr(SentMarks, "write", counted)
    dispatcher = Dispatcher(
        engine, {"telegram": SlowChat()}, limiter=unlimited(), concurrency=IN_FLIGHT
    )
    await dispatcher.dispatch(now=NOW)
    assert sum(commits) == SCHOOLS + 1
    assert max(commits) > 1 and len(commits) < SCHOOLS


async def test_a_crash_repeats_at_most_the_messages_in_flight(engine: Engine, world: World) -> None:
    crashed = SlowChat(die_after=5)
    dispatcher = Dispatcher(
        engine, {"telegram": crashed}, limiter=unlimited(), concurrency=IN_FLIGHT
    )
    with pytest.raises(Killed):
        await dispatcher.dispatch(now=NOW)
    assert len(crashed.in_flight) == IN_FLIGHT  # delivered, never marked
    restarted = SlowChat()
    after_lease = NOW + LEASE + timedelta(minutes=1)
    await Dispatcher(
        engine, {"telegram": restarted}, limiter=unlimited(), concurrency=IN_FLIGHT
    ).dispatch(now=after_lease)
    counts = Counter(crashed.delivered + restarted.delivered)
    assert set(counts) == set(world.school_chats.values())
    twice = shared_chat(world)
    repeated = sum(n - (2 if chat == twice else 1) for chat, n in counts.items())
    assert repeated == IN_FLIGHT  # the messages in flight at the crash, each once more
    assert statuses(engine) == {"sent": SCHOOLS + 1}


class Plain:
    """A channel dondoc has never heard of: plain text, two tasks a message."""

    channel = "signal"
    max_text = 1000
    capabilities = Capabilities(html=False, text_limit=1000, items_per_message=2, files=False)

    def __init__(self) -> None:
        self.texts: list[str] = []

    async def send(self, chat_id: str, message: OutgoingMessage) -> str | None:
        """Record the text; no buttons are expected."""
        assert message.buttons == ()
        self.texts.append(message.text)
        return None


async def test_a_channel_is_written_to_as_its_sender_says(engine: Engine, tmp_path: Path) -> None:
    tasks = [(str(n), "TRUONG", "30/11/2026") for n in range(1, 6)]
    build_world(
        engine,
        tmp_path,
        now=local_time("2026-11-02 09:00"),
        schools=1,
        tasks=tasks,
        channel="signal",
    )
    plan_due_reminders(engine, now=NOW)
    sender = Plain()
    await Dispatcher(engine, {"signal": sender}, limiter=unlimited()).dispatch(now=NOW)
    assert len(sender.texts) == 3  # five tasks, two a message
    assert all(text == to_plain(text) and "<b>" not in text for text in sender.texts)
    assert "Nhiệm vụ 1:" in sender.texts[0] and "Nhiệm vụ 5:" in sender.texts[2]

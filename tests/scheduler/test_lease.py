"""Outbox claims are leases: a dead worker's rows come back whatever its PID, a live one keeps its.

The process-level proof (a real `dondoc tick` killed, then restarted as PID 1 again) is in
tests/scheduler/test_crash.py; these tests drive dispatchers in this process, with the pass's
moment and its running time as parameters.
"""

from __future__ import annotations

import socket
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.channels.telegram import TelegramSender
from chat.messages import OutgoingMessage
from scheduler.dispatcher import Dispatcher, DispatchResult
from scheduler.lease import LEASE
from scheduler.planner import plan_due_reminders
from scheduler.ratelimit import unlimited
from storage.db import session_scope
from storage.models import Outbox
from tests.utils.clock import local_time
from tests.utils.world import World, build_world

NOW = local_time("2026-11-23 08:00")
SCHOOLS = 6
HOST = socket.gethostname()


class Killed(BaseException):
    """The process died here: nothing after it runs (no `except Exception` catches it)."""


class Chat:
    """A sender that delivers into a shared list; optionally dies with a message in flight."""

    channel = "telegram"
    max_text = 4096
    capabilities = TelegramSender.capabilities

    def __init__(self, delivered: list[str], *, die_at: int | None = None) -> None:
        self.delivered = delivered
        self.die_at = die_at

    async def send(self, chat_id: str, message: OutgoingMessage) -> str | None:
        """Deliver; the `die_at`-th message gets out, then the process dies before recording it."""
        self.delivered.append(chat_id)
        if len(self.delivered) == self.die_at:
            raise Killed
        return str(len(self.delivered))


@pytest.fixture
def world(engine: Engine, tmp_path: Path) -> World:
    """Schools whose reminders are due at NOW (one outbox row each)."""
    built = build_world(engine, tmp_path, now=local_time("2026-11-02 09:00"), schools=SCHOOLS)
    plan_due_reminders(engine, now=NOW)
    return built


def outbox_statuses(engine: Engine) -> dict[str, int]:
    """Outbox row count per status."""
    with Session(engine) as session:
        rows = session.exec(select(Outbox.status, func.count()).group_by(Outbox.status)).all()
    return dict(rows)  # type: ignore[arg-type]


def claimers(engine: Engine) -> set[str | None]:
    """Who holds the rows still 'sending'."""
    with Session(engine) as session:
        return set(session.exec(select(Outbox.claimed_by).where(Outbox.status == "sending")))


def assert_each_reminded_once(engine: Engine, world: World, delivered: list[str]) -> None:
    """Every school got its reminder, at most the message in flight twice; nothing left over."""
    counts = Counter(delivered)
    assert set(counts) == set(world.school_chats.values())
    assert sum(n - 1 for n in counts.values()) <= 1, counts
    statuses = outbox_statuses(engine)
    assert statuses.get("pending", 0) == statuses.get("sending", 0) == 0, statuses


async def test_a_crashed_claim_under_the_same_host_and_pid_comes_back_when_its_lease_ends(
    engine: Engine, world: World
) -> None:
    delivered: list[str] = []
    crashed = Dispatcher(engine, {"telegram": Chat(delivered, die_at=2)}, limiter=unlimited())
    with pytest.raises(Killed):
        await crashed.dispatch(now=NOW)
    # Restarted under the same PID on the same host (a container's PID 1): the dead claimer's
    # "process" is alive — it is the restarted one.
    restarted = Dispatcher(engine, {"telegram": Chat(delivered)}, limiter=unlimited())
    host_pid = restarted.worker.rsplit(":", 1)[0]
    assert claimers(engine) == {crashed.worker} and crashed.worker.startswith(host_pid + ":")
    early = await restarted.dispatch(now=NOW + LEASE - timedelta(minutes=1))
    assert early.messages == 0 and len(delivered) == 2  # the lease still holds
    late = await restarted.dispatch(now=NOW + LEASE + timedelta(minutes=1))
    assert late.messages == SCHOOLS - 1
    assert_each_reminded_once(engine, world, delivered)


async def test_rows_stuck_before_leases_existed_are_sent(engine: Engine, world: World) -> None:
    # What the PID rule stranded: claimed on this host by a PID that is alive again (PID 1).
    with session_scope(engine) as session:
        session.execute(
            update(Outbox).values(status="sending", claimed_at=NOW, claimed_by=f"{HOST}:1:0bad1dea")
        )
    delivered: list[str] = []
    dispatcher = Dispatcher(engine, {"telegram": Chat(delivered)}, limiter=unlimited())
    result = await dispatcher.dispatch(now=NOW + timedelta(minutes=1))
    assert result.messages == SCHOOLS
    assert_each_reminded_once(engine, world, delivered)


class PassClock:
    """The monotonic clock of a pass, advanced by the test."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self) -> float:
        """Seconds since some start."""
        return self.seconds


class SlowChat(Chat):
    """Each message takes three minutes (429s, timeouts); a rival worker runs meanwhile."""

    def __init__(self, delivered: list[str], clock: PassClock, rival: Dispatcher) -> None:
        super().__init__(delivered)
        self.clock = clock
        self.rival = rival
        self.rival_passes: list[DispatchResult] = []

    async def send(self, chat_id: str, message: OutgoingMessage) -> str | None:
        """Deliver after three minutes; from the fourth message on, the rival ticks meanwhile."""
        self.clock.seconds += 180
        if len(self.delivered) >= 3:  # the first claim is older than the lease from here on
            rival_now = NOW + timedelta(seconds=self.clock.seconds)
            self.rival_passes.append(await self.rival.dispatch(now=rival_now))
        return await super().send(chat_id, message)


async def test_a_pass_longer_than_the_lease_keeps_its_rows_from_a_rival(
    engine: Engine, world: World
) -> None:
    delivered: list[str] = []
    clock = PassClock()
    rival = Dispatcher(engine, {"telegram": Chat(delivered)}, limiter=unlimited())
    chat = SlowChat(delivered, clock, rival)
    slow = Dispatcher(engine, {"telegram": chat}, limiter=unlimited(), monotonic=clock)
    result = await slow.dispatch(now=NOW)
    assert clock.seconds > 1.5 * LEASE.total_seconds()  # the pass outlasted its first lease
    assert [p.messages for p in chat.rival_passes] == [0] * (SCHOOLS - 3)
    assert result.messages == SCHOOLS
    assert_each_reminded_once(engine, world, delivered)
    assert sorted(delivered) == sorted(world.school_chats.values())  # not even one twice

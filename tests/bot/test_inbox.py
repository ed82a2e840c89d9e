"""The shared inbound loop: stored rows are handled once, in order, whatever the database does."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

import handlers.conversation
from bot.channels.inbound import store
from bot.channels.inbox import Inbox
from chat.messages import OutgoingMessage, RetryAfter
from handlers.conversation import handle_stored
from handlers.types import Incoming, IncomingDocument, Outcome
from storage.db import make_engine
from storage.models import Inbound, Report
from tests.utils.clock import local_time
from tests.utils.coded import coded_schools
from tests.utils.locks import Waits, impatient, locked

NOW = local_time("2026-11-23 08:00")


class Recorder:
    """A channel's sender that keeps what it was given."""

    channel = "telegram"
    max_text = 4096

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.sending = asyncio.Event()  # a send has begun
        self.gate: asyncio.Event | None = None  # when set, sends wait for it
        self.busy_for: float | None = None  # when set, the next send gets a 429 asking this wait
        self.refused: list[str] = []

    async def send(self, chat_id: str, message: OutgoingMessage) -> str | None:
        if self.busy_for is not None:
            wait, self.busy_for = self.busy_for, None
            self.refused.append(chat_id)
            raise RetryAfter(wait)
        self.sending.set()
        if self.gate is not None:
            await self.gate.wait()
        self.sent.append((chat_id, message.text))
        return None


class PlainChannel:
    """A messenger whose updates are {"key", "chat", "text"}; contacts are on "telegram"."""

    name = "telegram"
    counts_usage = False

    def __init__(self) -> None:
        self.sender = Recorder()
        self.before_handling: Callable[[], None] = lambda: None

    def parse(self, raw: dict[str, Any]) -> Incoming | None:
        return Incoming(self.name, raw["chat"], raw["key"], text=raw["text"])

    async def fetch_documents(self, raw: dict[str, Any]) -> tuple[IncomingDocument, ...]:
        return ()

    async def show_working(self, chat_id: str) -> None:
        self.before_handling()

    async def acknowledge(self, raw: dict[str, Any], popup: str | None) -> None:
        return None

    def replies(self) -> list[str]:
        return [text for _, text in self.sender.sent]


def principal(engine: Engine, folder: Path) -> tuple[str, str]:
    """A registered school contact with one open task: (chat id, the task's short code)."""
    ((chat, code),) = coded_schools(engine, folder).items()
    return chat, code


def raw(key: str, chat: str, text: str) -> dict[str, Any]:
    """An update of the plain channel."""
    return {"key": key, "chat": chat, "text": text}


def reports(engine: Engine) -> list[tuple[str, int | None]]:
    """(status, percent) of every report, oldest first."""
    with Session(engine) as session:
        return [(r.status, r.percent) for r in session.exec(select(Report).order_by(Report.id))]


def inbound(engine: Engine) -> list[tuple[str, bool]]:
    """(update key, handled) of every stored update, oldest first."""
    with Session(engine) as session:
        rows = session.exec(select(Inbound).order_by(Inbound.id)).all()
        return [(r.update_key, r.handled_at is not None) for r in rows]


@pytest.fixture
def busy_engine(engine: Engine, database_url: str) -> Iterator[Engine]:
    """The test database through connections that give up on a lock after 0.2 s."""
    eng = impatient(database_url)
    yield eng
    eng.dispose()


@pytest.mark.parametrize("path", ["webhook", "polling"])
async def test_a_reply_that_meets_a_busy_database_is_retried_not_dropped(
    busy_engine: Engine, database_url: str, tmp_path: Path, path: str
) -> None:
    chat, code = principal(busy_engine, tmp_path)
    channel, waits = PlainChannel(), Waits()
    inbox = Inbox(busy_engine, clock=lambda: NOW, sleep=waits)
    inbox.add(channel)
    lock: list[AbstractContextManager[Callable[[], None]]] = []

    def lock_the_database() -> None:  # received, not yet handled: now a long import starts
        if lock:
            return
        held = locked(database_url, table="contact")
        waits.then = held.__enter__()
        lock.append(held)

    channel.before_handling = lock_the_database
    update = raw("u-1", chat, f"{code} 1 xong")
    try:
        if path == "webhook":
            await inbox.accept("telegram", update)  # stored: the 200
            await channel.sender.sending.wait()
        else:
            await inbox.receive("telegram", update)  # returns once handled
    finally:
        for held in lock:
            held.__exit__(None, None, None)
        await inbox.stop()
    assert waits.seen, "the handling never met the busy database"
    (answer,) = channel.replies()
    assert "Đã ghi nhận" in answer and "Đã hoàn thành" in answer
    assert reports(busy_engine) == [("done", 100)]
    assert inbound(busy_engine) == [("u-1", True)]


async def test_rows_a_crash_left_are_handled_once_oldest_first_after_a_restart(
    engine: Engine, tmp_path: Path
) -> None:
    chat, code = principal(engine, tmp_path)
    channel = PlainChannel()
    texts = [f"{code} 2 đạt 50%", f"{code} 2 đạt 80%", f"{code} 1 xong"]
    for number, text in enumerate(texts, start=1):  # what the killed process had stored
        incoming = channel.parse(raw(f"u-{number}", chat, text))
        assert incoming is not None
        assert store(engine, incoming, raw(f"u-{number}", chat, text), now=NOW)
    assert inbound(engine) == [("u-1", False), ("u-2", False), ("u-3", False)]

    inbox = Inbox(engine, clock=lambda: NOW)  # the restarted process
    inbox.add(channel)
    await inbox.start()
    try:  # a new update waits behind the resumed ones (one lane per channel, in order)
        await inbox.receive("telegram", raw("u-4", chat, "/help"))
    finally:
        await inbox.stop()
    *recorded, helped = channel.replies()
    assert len(recorded) == 3 and all("Đã ghi nhận" in text for text in recorded)
    assert "Hướng dẫn" in helped
    assert reports(engine) == [("in_progress", 50), ("in_progress", 80), ("done", 100)]
    assert inbound(engine) == [("u-1", True), ("u-2", True), ("u-3", True), ("u-4", True)]

    again = Inbox(engine, clock=lambda: NOW)  # one more restart finds nothing to do
    again.add(PlainChannel())
    assert await again.resume(before=NOW + timedelta(days=1)) == 0
    await again.stop()


async def test_periodic_resume_takes_only_rows_left_alone_for_a_while(engine: Engine) -> None:
    channel = PlainChannel()
    update = raw("u-1", "100001", "/help")
    incoming = channel.parse(update)
    assert incoming is not None and store(engine, incoming, update, now=NOW)
    inbox = Inbox(engine, clock=lambda: NOW)
    inbox.add(channel)
    try:
        assert await inbox.resume(before=NOW - timedelta(minutes=1)) == 0  # maybe in a lane
        assert await inbox.resume(before=NOW) == 1
        assert await inbox.resume(before=NOW) == 0  # already queued: not twice
        await inbox.receive("telegram", raw("u-2", "100001", "/help"))  # behind it in the lane
    finally:
        await inbox.stop()
    assert inbound(engine) == [("u-1", True), ("u-2", True)]
    assert len(channel.replies()) == 2


def test_two_processes_claiming_one_row_handle_it_once(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    chat, code = principal(engine, tmp_path)
    update = raw("u-1", chat, f"{code} 1 xong")
    incoming = PlainChannel().parse(update)
    assert incoming is not None and store(engine, incoming, update, now=NOW)
    engines = [make_engine(database_url), make_engine(database_url)]
    start = threading.Barrier(2)
    outcomes: list[Outcome | None] = []

    def claim(eng: Engine) -> None:
        start.wait()
        outcomes.append(handle_stored(eng, incoming, now=NOW))

    threads = [threading.Thread(target=claim, args=(eng,)) for eng in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for eng in engines:
        eng.dispose()
    assert sorted(o is None for o in outcomes) == [False, True]
    assert reports(engine) == [("done", 100)]
    with Session(engine) as session:
        (row,) = session.exec(select(Inbound)).all()
        assert row.handled_at == NOW


def breaking_on(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    """Make the conversation raise, like a bug in a handler, on the update with key `bad`."""
    real = handlers.conversation.handle

    def fragile(session: Session, incoming: Incoming, **kw: Any) -> Outcome:
        if incoming.update_key == bad:
            raise RuntimeError("a bug in a handler")
        return real(session, incoming, **kw)

    monkeypatch.setattr(handlers.conversation, "handle", fragile)


async def test_an_update_that_breaks_the_conversation_is_set_aside_and_the_lane_goes_on(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    breaking_on(monkeypatch, "bad")
    channel = PlainChannel()
    inbox = Inbox(engine, clock=lambda: NOW)
    inbox.add(channel)
    caplog.set_level(logging.ERROR, logger="bot.channels.inbox")
    try:  # stored rows, as a webhook leaves them
        await inbox.accept("telegram", raw("bad", "100001", "/help"))
        await inbox.accept("telegram", raw("good", "100001", "/help"))
        await channel.sender.sending.wait()  # the good one is answered
    finally:
        await inbox.stop()
    assert inbound(engine) == [("bad", True), ("good", True)]  # not retried at every start
    assert len(channel.replies()) == 1
    assert any("bad" in r.getMessage() and (r.exc_info or r.exc_text) for r in caplog.records)


async def test_a_polled_batch_with_a_broken_update_answers_all_the_others_in_order(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat, code = principal(engine, tmp_path)
    breaking_on(monkeypatch, "u-2")
    channel = PlainChannel()
    inbox = Inbox(engine, clock=lambda: NOW)
    inbox.add(channel)
    texts = [f"{code} 2 đạt 50%", "/help", f"{code} 2 đạt 80%", "/help", f"{code} 1 xong"]
    batch = [raw(f"u-{n}", chat if n != 4 else "100002", t) for n, t in enumerate(texts, 1)]
    try:
        answered = await inbox.receive_batch("telegram", batch)  # one transaction: stored
        assert inbound(engine) == [(f"u-{n}", False) for n in range(1, 6)]
        await asyncio.gather(*answered)
    finally:
        await inbox.stop()
    assert inbound(engine) == [(f"u-{n}", True) for n in range(1, 6)]  # u-2 set aside
    assert reports(engine) == [("in_progress", 50), ("in_progress", 80), ("done", 100)]
    to_chat = [text for to, text in channel.sender.sent if to == chat]
    assert [("50%" in t, "80%" in t, "Đã hoàn thành" in t) for t in to_chat] == [
        (True, False, False),
        (False, True, False),
        (False, False, True),
    ]
    assert [to for to, _ in channel.sender.sent].count("100002") == 1  # the other chat's /help


async def test_a_batch_polled_again_after_a_crash_is_not_handled_twice(
    engine: Engine, tmp_path: Path
) -> None:
    chat, code = principal(engine, tmp_path)
    batch = [raw("u-1", chat, f"{code} 2 đạt 50%"), raw("u-2", chat, f"{code} 1 xong")]
    first = PlainChannel()
    inbox = Inbox(engine, clock=lambda: NOW)
    inbox.add(first)
    await asyncio.gather(*await inbox.receive_batch("telegram", batch))
    await inbox.stop()
    again = PlainChannel()  # the offset was not confirmed: the platform sends the batch again
    restarted = Inbox(engine, clock=lambda: NOW)
    restarted.add(again)
    try:
        assert await restarted.receive_batch("telegram", batch) == []
    finally:
        await restarted.stop()
    assert len(first.replies()) == 2 and again.replies() == []
    assert reports(engine) == [("in_progress", 50), ("done", 100)]


async def test_stopping_lets_the_answer_in_hand_go_out(engine: Engine) -> None:
    channel = PlainChannel()
    channel.sender.gate = asyncio.Event()
    inbox = Inbox(engine, clock=lambda: NOW)
    inbox.add(channel)
    await inbox.accept("telegram", raw("u-1", "100001", "/help"))  # stored: a webhook's 200
    await channel.sender.sending.wait()  # handled, its answer on the way
    stopping = asyncio.create_task(inbox.stop())  # SIGTERM
    await asyncio.sleep(0)
    channel.sender.gate.set()
    await stopping
    assert len(channel.replies()) == 1
    assert inbound(engine) == [("u-1", True)]


async def test_a_reply_the_platform_asks_to_wait_for_is_sent_after_the_wait(
    engine: Engine, tmp_path: Path
) -> None:
    """Many answers travel at once; a 429 on one is a request to wait, not a lost reply."""
    chat, code = principal(engine, tmp_path)
    channel = PlainChannel()
    channel.sender.busy_for = 0.05
    inbox = Inbox(engine, clock=lambda: NOW)
    inbox.add(channel)
    try:
        answered = await inbox.receive_batch("telegram", [raw("u-1", chat, f"{code} 1 xong")])
        await asyncio.gather(*answered)
    finally:
        await inbox.stop()
    assert channel.sender.refused == [chat]
    assert [to for to, _ in channel.sender.sent] == [chat]  # delivered once, after the wait
    assert "Đã hoàn thành" in channel.sender.sent[0][1]
    assert reports(engine) == [("done", 100)]

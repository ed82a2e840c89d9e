"""The weekly digest: from Monday 07:30 local, once a week per plan and coordinator."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from telegram import Bot

from bot.channels.telegram import TelegramSender
from bot.channels.zalo import ZaloSender
from chat.messages import Capabilities, OutgoingMessage
from chat.texts import to_plain
from scheduler.digest import plan_digests
from scheduler.dispatcher import Dispatcher
from scheduler.quota import count_sent
from scheduler.ratelimit import unlimited
from scheduler.tick import tick
from storage.db import session_scope
from storage.models import Outbox, OutboxFile
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


MONDAY = local_time("2026-11-30 08:00")


class Recorder:
    """A sender with some channel's capabilities that keeps what it is given."""

    def __init__(self, channel: str, capabilities: Capabilities) -> None:
        self.channel = channel
        self.max_text = capabilities.text_limit
        self.capabilities = capabilities
        self.messages: list[tuple[str, OutgoingMessage]] = []

    async def send(self, chat_id: str, message: OutgoingMessage) -> str | None:
        """Keep the message."""
        self.messages.append((chat_id, message))
        return str(len(self.messages))


def digest_rows(engine: Engine) -> list[tuple[Outbox, list[OutboxFile]]]:
    """The digest rows with their stored files."""
    with Session(engine) as session:
        rows = session.exec(select(Outbox).where(Outbox.kind == "digest")).all()
        return [
            (row, list(session.exec(select(OutboxFile).where(OutboxFile.outbox_id == row.id))))
            for row in rows
        ]


def plan(engine: Engine, sender: Recorder, **options: Any) -> int:
    """Plan this week's digests for the sender's channel."""
    senders = {sender.channel: sender}
    dispatcher = Dispatcher(engine, senders, limiter=unlimited())  # type: ignore[dict-item]
    return plan_digests(
        engine,
        now=MONDAY,
        capabilities=dispatcher.capabilities,
        channels=list(senders),
        **options,
    )


async def test_the_digest_is_built_when_planned_and_only_sent_when_claimed(
    engine: Engine, tmp_path: Path
) -> None:
    world = build_world(engine, tmp_path, now=local_time("2026-11-02 09:00"), schools=3)
    sender = Recorder("telegram", TelegramSender.capabilities)
    assert plan(engine, sender) == 1
    ((row, files),) = digest_rows(engine)
    assert row.status == "pending" and "Tổng hợp tuần" in to_plain(row.text or "")
    assert "Báo cáo đầy đủ gửi kèm" in to_plain(row.text or "")
    assert [f.filename.split("-")[0] for f in files] == ["bao", "tien"]  # DOCX, then the chart
    docx = Document(io.BytesIO(files[0].content))
    assert any(p.text.strip() == "BÁO CÁO" for p in docx.paragraphs)
    await Dispatcher(engine, {"telegram": sender}, limiter=unlimited()).dispatch(now=MONDAY)
    ((chat, message),) = sender.messages
    assert chat == world.coordinator_chat and message.text == row.text
    assert [a.content for a in message.attachments] == [f.content for f in files]
    assert plan(engine, sender) == 0  # once a week


async def test_a_plan_too_large_to_attach_says_how_to_get_its_report(
    engine: Engine, tmp_path: Path
) -> None:
    build_world(engine, tmp_path, now=local_time("2026-11-02 09:00"), schools=3)
    sender = Recorder("telegram", TelegramSender.capabilities)
    plan(engine, sender, full_report_rows=2)  # three schools, three tracked occurrences
    ((row, files),) = digest_rows(engine)
    assert [f.kind for f in files] == ["photo"]
    assert "dondoc report" in to_plain(row.text or "") and "gửi kèm." not in (row.text or "")


async def test_a_plain_channel_gets_plain_text_within_its_limit_and_no_document(
    engine: Engine, tmp_path: Path
) -> None:
    build_world(engine, tmp_path, now=local_time("2026-11-02 09:00"), schools=3, channel="zalo")
    sender = Recorder("zalo", ZaloSender.capabilities)
    plan(engine, sender)
    ((row, files),) = digest_rows(engine)
    text = row.text or ""
    assert text == to_plain(text) and "<b>" not in text and len(text) <= 2000
    assert [f.kind for f in files] == ["photo"]


async def test_a_channel_quota_nearly_used_is_told_before_the_digest(
    engine: Engine, tmp_path: Path
) -> None:
    world = build_world(engine, tmp_path, now=local_time("2026-11-02 09:00"), schools=1)
    with session_scope(engine) as session:
        count_sent(session, "telegram", MONDAY, 9)
    sender = Recorder("telegram", TelegramSender.capabilities)
    plan(engine, sender, quotas={"telegram": 10})
    await Dispatcher(engine, {"telegram": sender}, limiter=unlimited()).dispatch(now=MONDAY)
    texts = [to_plain(m.text) for chat, m in sender.messages if chat == world.coordinator_chat]
    assert len(texts) == 2
    assert "Hạn mức tin nhắn Telegram" in texts[0] and "9/10" in texts[0]
    assert "Tổng hợp tuần" in texts[1]

"""Plan documents sent on Telegram: downloaded before the conversation sees the update."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from telegram import Bot

import bot.channels.inbox
from bot.channels.inbox import Inbox
from bot.channels.telegram import TelegramChannel
from bot.channels.telegram.sender import build_bot
from bot.channels.telegram.updates import MAX_DOCUMENT_BYTES
from bot.settings import load_settings
from handlers.types import Incoming, IncomingDocument, Outcome
from tests.fakes.bot_api import FakeBotApi

TOKEN = "123456:SECRET-token-value"
PLAN = "KẾ HOẠCH Triển khai công tác chuyển đổi số năm 2026".encode()


def document_update(update_id: int, file_id: str, name: str, size: int) -> dict[str, Any]:
    """A message carrying a document, as Telegram sends it."""
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_763_870_400,
            "chat": {"id": 42, "type": "private"},
            "from": {"id": 42, "is_bot": False, "first_name": "An"},
            "caption": "kế hoạch mới",
            "document": {
                "file_id": file_id,
                "file_unique_id": f"u-{file_id}",
                "file_name": name,
                "file_size": size,
            },
        },
    }


@pytest.fixture
async def telegram_bot(bot_api: FakeBotApi) -> AsyncIterator[Bot]:
    """The Bot `dondoc run` builds, on the fake API (files under its /file/bot URL)."""
    settings = load_settings(telegram_bot_token=TOKEN, telegram_api_url=bot_api.api_url())
    async with build_bot(settings) as started:
        yield started


async def test_a_plan_document_is_downloaded(bot_api: FakeBotApi, telegram_bot: Bot) -> None:
    bot_api.files["F1"] = PLAN
    channel = TelegramChannel(telegram_bot)
    fetched = await channel.fetch_documents(document_update(1, "F1", "KH-CDS.DOCX", len(PLAN)))
    assert fetched == (IncomingDocument("KH-CDS.DOCX", PLAN),)


async def test_a_file_over_10_mb_is_named_but_not_downloaded(
    bot_api: FakeBotApi, telegram_bot: Bot
) -> None:
    bot_api.files["BIG"] = PLAN
    channel = TelegramChannel(telegram_bot)
    raw = document_update(2, "BIG", "ke-hoach.pdf", MAX_DOCUMENT_BYTES + 1)
    assert await channel.fetch_documents(raw) == (IncomingDocument("ke-hoach.pdf", b""),)
    assert bot_api.downloads == []


async def test_a_failed_download_is_logged_without_the_token(
    bot_api: FakeBotApi, telegram_bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    channel = TelegramChannel(telegram_bot)
    raw = document_update(3, "GONE", "ke-hoach.yaml", 100)  # the API refuses the file id
    assert await channel.fetch_documents(raw) == (IncomingDocument("ke-hoach.yaml", b""),)
    assert bot_api.downloads == ["GONE"]
    assert "ke-hoach.yaml not downloaded" in caplog.text
    assert TOKEN not in caplog.text and "SECRET" not in caplog.text


async def test_other_files_and_texts_carry_no_document(
    bot_api: FakeBotApi, telegram_bot: Bot
) -> None:
    bot_api.files["P"] = b"\x89PNG"
    channel = TelegramChannel(telegram_bot)
    photo = document_update(4, "P", "anh-minh-chung.png", 4)
    text = {**document_update(5, "P", "x.txt", 4)}
    text["message"] = {k: v for k, v in text["message"].items() if k != "document"}
    assert await channel.fetch_documents(photo) == ()
    assert await channel.fetch_documents(text) == ()
    assert bot_api.downloads == []


async def test_the_conversation_receives_the_document_with_the_update(
    bot_api: FakeBotApi, telegram_bot: Bot, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot_api.files["F2"] = PLAN
    seen: list[Incoming] = []

    def conversation(engine: Engine, incoming: Incoming, **_: object) -> Outcome:
        seen.append(incoming)
        return Outcome()

    monkeypatch.setattr(bot.channels.inbox, "handle_stored", conversation)
    inbox = Inbox(engine)
    inbox.add(TelegramChannel(telegram_bot))
    try:
        await inbox.receive("telegram", document_update(6, "F2", "kh.md", len(PLAN)))
    finally:
        await inbox.stop()
    (incoming,) = seen
    assert incoming.documents == (IncomingDocument("kh.md", PLAN),)
    assert incoming.attachments == ("F2",) and incoming.text == "kế hoạch mới"
    assert incoming.capabilities.html and incoming.capabilities.files

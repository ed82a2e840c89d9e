"""Telegram webhook: the secret header is checked in constant time before the body is parsed."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest
from telegram import Update
from telegram.ext import Application

from bot.settings import load_settings
from bot.webhook import secret_matches, start_telegram_webhook
from tests.fakes.bot_api import FakeBotApi

SECRET = "s3cr3t-Webhook-Token_123"
UPDATE = {
    "update_id": 7,
    "message": {
        "message_id": 1,
        "date": 1_763_870_400,
        "chat": {"id": 42, "type": "private"},
        "from": {"id": 42, "is_bot": False, "first_name": "An"},
        "text": "xong",
    },
}


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    """A fake Bot API for setWebhook."""
    server = FakeBotApi().start()
    yield server
    server.stop()


def test_secret_comparison() -> None:
    assert secret_matches(SECRET, SECRET)
    assert not secret_matches(SECRET, SECRET + "x")
    assert not secret_matches(SECRET, None)
    assert not secret_matches(None, "anything")


async def test_webhook_refuses_wrong_secret_before_parsing(api: FakeBotApi) -> None:
    port = free_port()
    settings = load_settings(
        telegram_bot_token="123:TEST",
        telegram_api_url=api.api_url(),
        telegram_webhook_url="https://bot.example.vn/telegram",
        telegram_webhook_secret=SECRET,
        webhook_port=port,
    )
    application = Application.builder().token("123:TEST").base_url(api.api_url()).build()
    async with application:
        stop = await start_telegram_webhook(settings, application)
        try:
            url = f"http://127.0.0.1:{port}/telegram"
            header = "X-Telegram-Bot-Api-Secret-Token"
            async with httpx.AsyncClient() as client:
                missing = await client.post(url, content=b"{not json")
                wrong = await client.post(url, content=b"{not json", headers={header: "nope"})
                bad_body = await client.post(url, content=b"{not json", headers={header: SECRET})
                good = await client.post(url, json=UPDATE, headers={header: SECRET})
            assert (missing.status_code, wrong.status_code) == (403, 403)
            assert bad_body.status_code == 400
            assert good.status_code == 200
            queued = application.update_queue.get_nowait()
            assert isinstance(queued, Update) and queued.effective_message.text == "xong"
            assert application.update_queue.empty()
        finally:
            await stop()


def test_webhook_url_without_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="TELEGRAM_WEBHOOK_SECRET"):
        load_settings(
            telegram_bot_token="123:TEST", telegram_webhook_url="https://bot.example.vn/telegram"
        )

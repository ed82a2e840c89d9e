"""Telegram webhook: the secret is checked before parsing; 200 only once the update is stored."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.channels.inbox import Inbox
from bot.channels.telegram import build_application, start_webhook
from bot.channels.webhook import secret_matches
from bot.settings import SettingsError, load_settings
from storage.models import Inbound
from tests.fakes.bot_api import FakeBotApi
from tests.utils.locks import Waits, locked

SECRET = "s3cr3t-Webhook-Token_123"
HEADER = "X-Telegram-Bot-Api-Secret-Token"


def update(update_id: int, chat: int = 42, text: str = "xong") -> dict[str, Any]:
    """A text message update as Telegram posts it."""
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_763_870_400,
            "chat": {"id": chat, "type": "private"},
            "from": {"id": chat, "is_bot": False, "first_name": "An"},
            "text": text,
        },
    }


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    """A fake Bot API for setWebhook and the replies."""
    server = FakeBotApi().start()
    yield server
    server.stop()


@dataclass
class Hook:
    """The started webhook on a database, and what the fake Bot API received."""

    url: str
    api: FakeBotApi
    waits: Waits

    async def post(self, body: bytes, secret: str | None = SECRET) -> httpx.Response:
        headers = {HEADER: secret} if secret is not None else {}
        async with httpx.AsyncClient() as client:
            return await client.post(self.url, content=body, headers=headers, timeout=30)

    async def replies(self, chat: str, count: int) -> list[str]:
        """The texts sent to `chat`, once there are `count` of them (handling is asynchronous)."""
        for _ in range(500):  # waiting for the inbox's task on this loop, not for a schedule
            if len(self.api.texts_for(chat)) >= count:
                break
            await asyncio.sleep(0.01)
        return self.api.texts_for(chat)


@pytest.fixture
async def hook(api: FakeBotApi, engine: Engine) -> AsyncIterator[Hook]:
    """The Telegram webhook of a real application and inbox, served on a free port."""
    port = free_port()
    settings = load_settings(
        telegram_bot_token="123:TEST",
        telegram_api_url=api.api_url(),
        telegram_webhook_url="https://bot.example.vn/telegram",
        telegram_webhook_secret=SECRET,
        webhook_port=port,
    )
    waits = Waits()
    inbox = Inbox(engine, sleep=waits, store_lock_wait=0.2)
    application = build_application(settings, engine, inbox=inbox)
    async with application:
        stop: Callable[[], Awaitable[None]] = await start_webhook(settings, application, inbox)
        try:
            yield Hook(f"http://127.0.0.1:{port}/telegram", api, waits)
        finally:
            await stop()
            await inbox.stop()


def stored(engine: Engine) -> list[tuple[str, bool]]:
    """(update key, handled) of every stored Telegram update."""
    with Session(engine) as session:
        rows = session.exec(select(Inbound).where(Inbound.channel == "telegram")).all()
        return sorted((r.update_key, r.handled_at is not None) for r in rows)


def test_secret_comparison() -> None:
    assert secret_matches(SECRET, SECRET)
    assert not secret_matches(SECRET, SECRET + "x")
    assert not secret_matches(SECRET, None)
    assert not secret_matches(None, "anything")


async def test_webhook_refuses_wrong_secret_before_parsing(hook: Hook, engine: Engine) -> None:
    missing = await hook.post(b"{not json", secret=None)
    wrong = await hook.post(b"{not json", secret="nope")
    bad_body = await hook.post(b"{not json")
    good = await hook.post(json.dumps(update(7)).encode())
    assert (missing.status_code, wrong.status_code) == (403, 403)
    assert bad_body.status_code == 400
    assert good.status_code == 200
    (answer,) = await hook.replies("42", 1)  # an unregistered chat is told how to register
    assert "chưa được đăng ký" in answer
    assert stored(engine) == [("7", True)]


async def test_a_locked_database_gets_503_and_the_retried_update_is_handled_once(
    hook: Hook, engine: Engine, database_url: str
) -> None:
    body = json.dumps(update(8)).encode()
    with locked(database_url):
        refused = await hook.post(body)
    assert refused.status_code == 503  # Telegram sends it again: nothing was promised
    assert len(hook.waits.seen) == 2  # three bounded attempts before giving up
    assert stored(engine) == []
    again = await hook.post(body)  # Telegram's retry
    replayed = await hook.post(body)  # and a duplicate delivery
    later = await hook.post(json.dumps(update(10, text="/help")).encode())
    assert [r.status_code for r in (again, replayed, later)] == [200, 200, 200]
    # Updates are handled in order: once the later one is answered, the replay was dealt with.
    first, second = await hook.replies("42", 2)
    assert "chưa được đăng ký" in first and "chưa được đăng ký" in second
    assert len(hook.api.texts_for("42")) == 2
    assert stored(engine) == [("10", True), ("8", True)]


async def test_a_lock_released_while_storing_gives_a_late_200_and_one_answer(
    hook: Hook, engine: Engine, database_url: str
) -> None:
    with locked(database_url) as release:
        hook.waits.then = release  # the lock goes away during the first wait between attempts
        answer = await hook.post(json.dumps(update(9, chat=43)).encode())
    assert answer.status_code == 200
    assert len(hook.waits.seen) == 1
    assert len(await hook.replies("43", 1)) == 1
    assert stored(engine) == [("9", True)]


def test_webhook_url_without_secret_is_refused() -> None:
    with pytest.raises(SettingsError, match="TELEGRAM_WEBHOOK_SECRET"):
        load_settings(
            telegram_bot_token="123:TEST", telegram_webhook_url="https://bot.example.vn/telegram"
        )

"""The Zalo webhook: secret checked before parsing; wrapped and bare updates stored, then 200."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.channels import zalo as zalo_channel
from bot.channels.inbox import Inbox
from bot.channels.zalo import SECRET_HEADER, ZaloApi, start_webhook
from bot.settings import Settings
from storage.models import Inbound
from tests.fakes.zalo_api import TOKEN, FakeZaloApi

SECRET = "s3cret-webhook-value"
HOOK_URL = "https://dondoc.example.org/zalo"


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def settings(**overrides: Any) -> Settings:
    """Zalo in webhook mode on a free port, ignoring any .env."""
    values: dict[str, Any] = {
        "zalo_bot_token": TOKEN,
        "zalo_webhook_url": HOOK_URL,
        "zalo_webhook_secret": SECRET,
        "webhook_port": free_port(),
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def update(text: str, message_id: str) -> dict[str, Any]:
    """A documented text update."""
    return {
        "event_name": "message.text.received",
        "message": {
            "message_id": message_id,
            "date": 1795000000000,
            "chat": {"id": "84966666666", "chat_type": "PRIVATE"},
            "from": {"id": "84966666666", "display_name": "An"},
            "text": text,
        },
    }


class Hook:
    """A started webhook, its URL, and the bodies its `accept` was given."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.accepted: list[dict[str, Any]] = []

    async def accept(self, payload: dict[str, Any]) -> None:
        self.accepted.append(payload)

    async def post(self, body: bytes, secret: str | None = SECRET) -> httpx.Response:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers[SECRET_HEADER] = secret
        async with httpx.AsyncClient() as client:
            return await client.post(self.url, content=body, headers=headers, timeout=5)


@pytest.fixture
async def hook(fake: FakeZaloApi) -> AsyncIterator[Hook]:
    """The Zalo webhook served on a free port, registered with the fake."""
    config = settings()
    async with ZaloApi(TOKEN, base_url=fake.api_url()) as api:
        started = Hook(f"http://127.0.0.1:{config.webhook_port}/zalo")
        stop: Callable[[], Awaitable[None]] = await start_webhook(config, api, started.accept)
        try:
            yield started
        finally:
            await stop()


async def test_webhook_is_registered_with_the_secret(fake: FakeZaloApi, hook: Hook) -> None:
    assert fake.webhook == {"url": HOOK_URL, "secret_token": SECRET}


@pytest.mark.parametrize("secret", ["wrong-secret-value!!", None, "", SECRET[:-1]])
async def test_wrong_or_missing_secret_is_refused_before_parsing(
    hook: Hook, secret: str | None
) -> None:
    response = await hook.post(b"{not json", secret=secret)
    assert response.status_code == 403  # not 400: the body was never read as JSON
    response = await hook.post(json.dumps(update("x", "m-0")).encode(), secret=secret)
    assert response.status_code == 403
    assert hook.accepted == []


async def test_right_secret_with_a_bad_body_is_400(hook: Hook) -> None:
    assert (await hook.post(b"{not json")).status_code == 400
    assert (await hook.post(b"[1, 2]")).status_code == 400
    assert hook.accepted == []


async def test_updates_are_stored_before_the_200_and_answered_after(
    fake: FakeZaloApi, engine: Engine
) -> None:
    config = settings(zalo_api_url=fake.api_url())
    inbox = Inbox(engine)
    running = await zalo_channel.start(config, inbox)
    hook = Hook(f"http://127.0.0.1:{config.webhook_port}/zalo")
    fake.hold("sendChatAction")  # the lane waits on the platform before handling anything
    try:
        wrapped = {"ok": True, "result": update("alo", "m-1")}
        bare = update("xin chào", "m-2")
        first = await hook.post(json.dumps(wrapped, ensure_ascii=False).encode())
        second = await hook.post(json.dumps(bare, ensure_ascii=False).encode())
        assert (first.status_code, second.status_code) == (200, 200)
        assert stored(engine) == [("m-1", False), ("m-2", False)]  # stored, not handled yet
        assert fake.texts_for("84966666666") == []
        fake.release("sendChatAction")
        answers = await texts(fake, "84966666666", 2)
        assert len(answers) == 2 and all("DK mã-mời" in a for a in answers)
        assert stored(engine) == [("m-1", True), ("m-2", True)]
    finally:
        fake.release("sendChatAction")
        await running.stop()
        await inbox.stop()


def stored(engine: Engine) -> list[tuple[str, bool]]:
    """(update key, handled) of every stored Zalo update."""
    with Session(engine) as session:
        rows = session.exec(select(Inbound).where(Inbound.channel == "zalo")).all()
        return sorted((r.update_key, r.handled_at is not None) for r in rows)


async def texts(fake: FakeZaloApi, chat: str, count: int) -> list[str]:
    """The texts sent to `chat`, once there are `count` (the inbox answers on this loop)."""
    for _ in range(500):  # waiting for another task's progress, not for a schedule
        if len(fake.texts_for(chat)) >= count:
            break
        await asyncio.sleep(0.01)
    return fake.texts_for(chat)


async def test_webhook_needs_a_secret(fake: FakeZaloApi) -> None:
    async with ZaloApi(TOKEN, base_url=fake.api_url()) as api:
        with pytest.raises(ValueError, match="ZALO_WEBHOOK_SECRET"):
            await start_webhook(settings(zalo_webhook_secret=None), api, Hook("").accept)


async def test_webhook_refuses_to_share_telegrams_port(fake: FakeZaloApi) -> None:
    both = settings(
        telegram_bot_token="1:x",
        telegram_webhook_url="https://dondoc.example.org/tg",
        telegram_webhook_secret="tg-secret",
    )
    async with ZaloApi(TOKEN, base_url=fake.api_url()) as api:
        with pytest.raises(ValueError, match="ZALO_WEBHOOK_PORT"):
            await start_webhook(both, api, Hook("").accept)

"""The Zalo webhook: secret checked before parsing, wrapped and bare updates queued, fast 200."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine

from bot import zalo_channel
from bot.settings import Settings
from bot.zalo_channel import SECRET_HEADER, ZaloApi, start_webhook
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
    """A started webhook, its URL, and what its handler received."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.handled: list[dict[str, Any]] = []
        self.release = asyncio.Event()  # the handler blocks until the test releases it

    async def handle(self, item: dict[str, Any]) -> None:
        await self.release.wait()
        self.handled.append(item)

    async def post(self, body: bytes, secret: str | None = SECRET) -> httpx.Response:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers[SECRET_HEADER] = secret
        async with httpx.AsyncClient() as client:
            return await client.post(self.url, content=body, headers=headers, timeout=5)

    async def until_handled(self, count: int) -> None:
        self.release.set()
        for _ in range(200):
            if len(self.handled) >= count:
                return
            await asyncio.sleep(0.01)  # yields to the worker task on this same loop
        raise AssertionError(f"{len(self.handled)} of {count} handled")


@pytest.fixture
async def hook(fake: FakeZaloApi) -> AsyncIterator[Hook]:
    """The Zalo webhook served on a free port, registered with the fake."""
    config = settings()
    async with ZaloApi(TOKEN, base_url=fake.api_url()) as api:
        started = Hook(f"http://127.0.0.1:{config.webhook_port}/zalo")
        stop: Callable[[], Awaitable[None]] = await start_webhook(config, api, started.handle)
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
    await hook.until_handled(0)
    assert hook.handled == []


async def test_right_secret_with_a_bad_body_is_400(hook: Hook) -> None:
    assert (await hook.post(b"{not json")).status_code == 400
    assert (await hook.post(b"[1, 2]")).status_code == 400


async def test_wrapped_and_bare_updates_are_accepted_at_once(hook: Hook) -> None:
    wrapped = {"ok": True, "result": update("xong", "m-1")}
    bare = update("đang làm 50%", "m-2")
    # The handler is still blocked: a 200 here proves the answer does not wait for it.
    first = await hook.post(json.dumps(wrapped, ensure_ascii=False).encode())
    second = await hook.post(json.dumps(bare, ensure_ascii=False).encode())
    assert (first.status_code, second.status_code) == (200, 200)
    assert hook.handled == []
    await hook.until_handled(2)
    assert [h["message"]["message_id"] for h in hook.handled] == ["m-1", "m-2"]


async def test_webhook_needs_a_secret(fake: FakeZaloApi) -> None:
    async with ZaloApi(TOKEN, base_url=fake.api_url()) as api:
        with pytest.raises(ValueError, match="ZALO_WEBHOOK_SECRET"):
            await start_webhook(settings(zalo_webhook_secret=None), api, Hook("").handle)


async def test_webhook_refuses_to_share_telegrams_port(fake: FakeZaloApi) -> None:
    both = settings(
        telegram_bot_token="1:x",
        telegram_webhook_url="https://dondoc.example.org/tg",
        telegram_webhook_secret="tg-secret",
    )
    async with ZaloApi(TOKEN, base_url=fake.api_url()) as api:
        with pytest.raises(ValueError, match="ZALO_WEBHOOK_PORT"):
            await start_webhook(both, api, Hook("").handle)


async def test_started_channel_in_webhook_mode_answers_through_the_api(
    fake: FakeZaloApi, engine: Engine
) -> None:
    config = settings(zalo_api_url=fake.api_url())
    running = await zalo_channel.start(config, engine)
    try:
        assert fake.webhook["url"] == HOOK_URL and "getUpdates" not in fake.calls
        hook = Hook(f"http://127.0.0.1:{config.webhook_port}/zalo")
        response = await hook.post(
            json.dumps({"ok": True, "result": update("alo", "m-9")}).encode()
        )
        assert response.status_code == 200
        for _ in range(300):  # the answer is sent by the worker task on this loop
            if fake.texts_for("84966666666"):
                break
            await asyncio.sleep(0.01)
        (answer,) = fake.texts_for("84966666666")
        assert "DK mã-mời" in answer
    finally:
        await running.stop()

"""The Zalo client, sender and poller against the fake Zalo Bot API (no wall-clock sleeping)."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine

from bot.channels import zalo as zalo_channel
from bot.channels.inbox import Inbox
from bot.channels.zalo import MAX_TEXT, ZaloApi, ZaloAuthError, ZaloPoller, ZaloSender
from bot.settings import Settings
from chat.messages import (
    Attachment,
    Button,
    OutgoingMessage,
    RetryAfter,
    SendError,
    TransientSendError,
    Unreachable,
)
from tests.fakes.zalo_api import TOKEN, FakeZaloApi, ZaloFault
from tests.utils.processes import stop

CHAT = "84900000001"


class Waits:
    """An injected sleep: records the waits, and stops the loop after `limit` of them."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.seen: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seen.append(seconds)
        if len(self.seen) >= self.limit:
            raise asyncio.CancelledError


async def test_get_me_and_wrong_token(fake: FakeZaloApi, api: ZaloApi) -> None:
    assert (await api.get_me())["account_name"] == "bot.dondoc"
    async with ZaloApi("999:wrong", base_url=fake.api_url()) as wrong:
        with pytest.raises(ZaloAuthError) as refused:
            await wrong.get_me()
    assert "HTTP 401" in str(refused.value) and "wrong" not in str(refused.value)
    async with ZaloApi(TOKEN, base_url=fake.api_url().replace("/bot", "/nobot")) as lost:
        with pytest.raises(ZaloAuthError, match="404"):
            await lost.get_me()


async def test_a_bot_that_never_had_a_webhook_starts_polling(
    fake: FakeZaloApi, api: ZaloApi, engine: Engine
) -> None:
    assert await api.get_webhook_info() == {}  # the platform's 404 "Not Found": no webhook
    config = Settings(  # type: ignore[call-arg]
        _env_file=None, zalo_bot_token=TOKEN, zalo_api_url=fake.api_url(), zalo_poll_timeout=0
    )
    inbox = Inbox(engine)
    running = await zalo_channel.start(config, inbox)  # it used to stop on "HTTP 404"
    try:
        for _ in range(500):  # waiting for the poller task on this loop
            if "getUpdates" in fake.calls:
                break
            await asyncio.sleep(0.01)
        assert "getUpdates" in fake.calls and "deleteWebhook" not in fake.calls
    finally:
        await running.stop()
        await inbox.stop()


async def test_a_registered_webhook_is_reported_and_deleted_for_polling(
    fake: FakeZaloApi, api: ZaloApi
) -> None:
    await api.set_webhook("https://dondoc.example.org/zalo", "s3cret-webhook-value")
    assert (await api.get_webhook_info())["url"] == "https://dondoc.example.org/zalo"
    await api.delete_webhook()
    assert await api.get_webhook_info() == {}


async def test_get_updates_408_means_no_update(fake: FakeZaloApi, api: ZaloApi) -> None:
    assert await api.get_updates(timeout=0) == []
    update = fake.user_says(CHAT, "xin chào")
    assert await api.get_updates(timeout=0) == [update]
    assert await api.get_updates(timeout=0) == []
    assert fake.calls == ["getUpdates"] * 3


async def test_get_updates_long_polls_until_a_message_arrives(
    fake: FakeZaloApi, api: ZaloApi
) -> None:
    timer = threading.Timer(0.2, fake.user_says, args=(CHAT, "đến muộn"))
    timer.start()
    try:
        (update,) = await api.get_updates(timeout=10)
    finally:
        timer.cancel()
    assert update["message"]["text"] == "đến muộn"


async def test_sender_splits_long_text_and_drops_buttons(fake: FakeZaloApi, api: ZaloApi) -> None:
    lines = [f"Dòng {i:04d} " + "x" * 80 for i in range(60)]  # ~5,500 characters
    buttons = ((Button("✅ Đã hoàn thành", "s:A7K:1"),),)
    message_id = await ZaloSender(api).send(
        CHAT, OutgoingMessage("\n".join(lines), buttons=buttons)
    )
    sent = fake.texts_for(CHAT)
    assert len(sent) == 3 and all(len(t) <= MAX_TEXT for t in sent)
    assert "\n".join(sent).splitlines() == lines
    assert message_id == fake.sent[-1]["message_id"]
    assert all("reply_markup" not in m and "s:A7K" not in m["text"] for m in fake.sent)


async def test_fake_refuses_texts_over_2000(api: ZaloApi) -> None:
    with pytest.raises(SendError, match="HTTP 400"):
        await api.send_message(CHAT, "x" * (MAX_TEXT + 1))


async def test_attachments_are_noted_when_they_cannot_be_sent(
    fake: FakeZaloApi, api: ZaloApi
) -> None:
    message = OutgoingMessage(
        "📊 Tổng hợp tuần",
        attachments=(
            Attachment("bao-cao.docx", b"DOCX"),
            Attachment("bieu-do.png", b"PNG", "photo"),
        ),
    )
    await ZaloSender(api).send(CHAT, message)
    (text,) = fake.texts_for(CHAT)
    assert text.startswith("📊 Tổng hợp tuần")
    assert "bao-cao.docx, bieu-do.png" in text and "chưa gửi được qua Zalo" in text


async def test_photos_go_by_url_when_a_publisher_is_given(fake: FakeZaloApi, api: ZaloApi) -> None:
    async def publish(attachment: Attachment) -> str | None:
        return f"https://files.example.org/{attachment.filename}"

    message = OutgoingMessage(
        "Biểu đồ tiến độ",
        attachments=(Attachment("bieu-do.png", b"PNG", "photo"), Attachment("a.docx", b"D")),
    )
    await ZaloSender(api, photo_url=publish).send(CHAT, message)
    assert [m["method"] for m in fake.sent] == ["sendMessage", "sendPhoto"]
    assert fake.sent[1]["photo"] == "https://files.example.org/bieu-do.png"
    assert "a.docx" in fake.sent[0]["text"] and "bieu-do.png" not in fake.sent[0]["text"]


@pytest.mark.parametrize(
    ("kind", "error"),
    [("429", RetryAfter), ("500", TransientSendError), ("403", Unreachable)],
)
async def test_send_errors_are_mapped(
    fake: FakeZaloApi, api: ZaloApi, kind: str, error: type[SendError]
) -> None:
    fake.faults = [ZaloFault(kind, chat_id=CHAT, retry_after=7)]
    with pytest.raises(error) as raised:
        await ZaloSender(api).send(CHAT, OutgoingMessage("Nhắc việc"))
    assert TOKEN not in str(raised.value)
    if kind == "429":
        assert raised.value.seconds == 7  # type: ignore[attr-defined]
    if kind == "403":  # blocked stays blocked
        with pytest.raises(Unreachable):
            await api.send_message(CHAT, "lần nữa")


async def test_blocked_in_an_ok_false_body_is_unreachable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = {"ok": False, "error_code": 400, "description": "User has blocked the bot"}
        return httpx.Response(200, json=body)

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    async with ZaloApi(TOKEN, base_url="https://zalo.test/bot", client=client) as api:
        with pytest.raises(Unreachable):
            await api.send_message(CHAT, "x")


@pytest.mark.parametrize("failure", [httpx.ReadTimeout, httpx.ConnectError])
async def test_timeouts_and_network_errors_are_transient_and_hide_the_url(
    failure: type[httpx.TransportError],
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise failure(f"failed {request.url}", request=request)

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    async with ZaloApi(TOKEN, base_url="https://zalo.test/bot", client=client) as api:
        with pytest.raises(TransientSendError) as raised:
            await api.send_message(CHAT, "x")
    assert TOKEN not in str(raised.value) and "sendMessage" in str(raised.value)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


async def test_retry_after_header_is_honoured() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": "12"}, json={"ok": False})

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    async with ZaloApi(TOKEN, base_url="https://zalo.test/bot", client=client) as api:
        with pytest.raises(RetryAfter) as raised:
            await api.get_updates()
    assert raised.value.seconds == 12


async def test_poller_backs_off_exponentially_then_resets(
    fake: FakeZaloApi, api: ZaloApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.faults = [
        ZaloFault("429", method="getUpdates", retry_after=3),
        ZaloFault("500", method="getUpdates", times=2),
    ]
    update = fake.user_says(CHAT, "xong")
    handled: list[dict[str, Any]] = []

    async def handle(u: dict[str, Any]) -> None:
        handled.append(u)

    waits = Waits(limit=5)
    poller = ZaloPoller(api, handle, long_poll=0, sleep=waits)
    with pytest.raises(asyncio.CancelledError):
        await poller.run()
    # 429 (at least retry_after), 500, 500 doubling, then the update, then 408: the interval.
    assert waits.seen == [3, 2, 4, 1, 1]
    assert handled == [update]
    assert fake.calls == ["getUpdates"] * 5
    own_lines = [r.getMessage() for r in caplog.records if r.name.startswith("bot.")]
    assert own_lines and all(TOKEN not in line and "http" not in line for line in own_lines)
    assert any("getUpdates" in line for line in own_lines)


async def test_poller_backoff_is_capped_and_interval_at_least_one_second(
    fake: FakeZaloApi, api: ZaloApi
) -> None:
    fake.faults = [ZaloFault("500", method="getUpdates", times=10)]

    async def handle(u: dict[str, Any]) -> None:
        raise AssertionError("no update expected")

    waits = Waits(limit=11)
    poller = ZaloPoller(api, handle, interval=0.1, long_poll=0, max_backoff=5, sleep=waits)
    assert poller.interval == 1.0
    with pytest.raises(asyncio.CancelledError):
        await poller.run()
    assert waits.seen == [1, 2, 4, 5, 5, 5, 5, 5, 5, 5, 1]


async def test_poller_waits_long_after_a_refused_token(fake: FakeZaloApi) -> None:
    async with ZaloApi("999:wrong", base_url=fake.api_url()) as wrong:
        poller = ZaloPoller(wrong, handle=_never, long_poll=0, max_backoff=60)
        assert await poller.poll_once() == 60


async def _never(update: dict[str, Any]) -> None:
    """A handler for loops that must not receive anything."""
    raise AssertionError("no update expected")


@pytest.mark.slow  # a subprocess
def test_fake_runs_as_a_subprocess(tmp_path: Path) -> None:
    log = tmp_path / "sent.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.zalo_api", "0", str(log)],
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready = process.stdout.readline().split()
        assert ready[0] == "READY", ready
        base = f"http://127.0.0.1:{ready[1]}"
        with httpx.Client(base_url=base, timeout=5) as client:
            update = {"event_name": "message.text.received", "message": {"message_id": "m1"}}
            assert client.post("/control/updates", json=update).status_code == 200
            got = client.post(f"/bot{TOKEN}/getUpdates", json={"timeout": "0"}).json()
            assert got == {"ok": True, "result": update}
            assert client.post(f"/bot{TOKEN}/getUpdates", json={}).status_code == 408
            no_hook = client.post(f"/bot{TOKEN}/getWebhookInfo", json={})
            assert no_hook.status_code == 404
            assert no_hook.json() == {"ok": False, "description": "Not Found"}
            sent = client.post(f"/bot{TOKEN}/sendMessage", json={"chat_id": "1", "text": "chào"})
            assert sent.json()["ok"] is True and isinstance(
                sent.json()["result"]["message_id"], str
            )
            assert client.get("/control/sent").json()["result"][0]["text"] == "chào"
        assert json.loads(log.read_text(encoding="utf-8"))["text"] == "chào"
    finally:
        stop(process, grace=10)

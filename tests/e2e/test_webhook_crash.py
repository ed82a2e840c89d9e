"""The real `dondoc run` on a Zalo webhook: 200 only once stored, and stored means answered.

Updates are posted while the database is locked (503: the platform keeps them), then while the
bot is held before handling (200: stored), the process is killed with SIGKILL, restarted, and
every update is handled exactly once: one answer and one report each.
"""

from __future__ import annotations

import json
import os
import signal
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.channels.zalo import SECRET_HEADER
from storage.models import Inbound, Report
from tests.e2e.dondoc_process import dondoc_run
from tests.fakes.zalo_api import TOKEN, FakeZaloApi
from tests.utils.coded import coded_schools
from tests.utils.locks import locked

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SECRET = "s3cret-webhook-value"


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def update(chat: str, message_id: str, text: str) -> dict[str, Any]:
    """A text message as the Zalo platform posts it."""
    return {
        "ok": True,
        "result": {
            "event_name": "message.text.received",
            "message": {
                "message_id": message_id,
                "date": 1795000000000,
                "chat": {"id": chat, "chat_type": "PRIVATE"},
                "from": {"id": chat, "display_name": "Hiệu trưởng"},
                "text": text,
            },
        },
    }


@pytest.fixture
def fake() -> Iterator[FakeZaloApi]:
    """The fake Zalo Bot API in a thread of the test process."""
    with FakeZaloApi() as server:
        yield server
        server.release("sendChatAction")


def stored(engine: Engine) -> list[tuple[str, bool]]:
    """(update key, handled) of every stored update, oldest first."""
    with Session(engine) as session:
        rows = session.exec(select(Inbound).order_by(Inbound.id)).all()
        return [(r.update_key, r.handled_at is not None) for r in rows]


def test_updates_survive_a_locked_database_and_a_sigkill(
    engine: Engine, database_url: str, tmp_path: Path, fake: FakeZaloApi
) -> None:
    codes = coded_schools(engine, tmp_path, schools=3, channel="zalo")
    chats = sorted(codes)
    port = free_port()
    env = {
        "DONDOC_DATABASE_URL": database_url,
        "DONDOC_LOG_LEVEL": "INFO",
        "DONDOC_SCHEDULER": "false",
        "TELEGRAM_BOT_TOKEN": "",
        "ZALO_BOT_TOKEN": TOKEN,
        "ZALO_API_URL": fake.api_url(),
        "ZALO_WEBHOOK_URL": "https://dondoc.example.org/zalo",
        "ZALO_WEBHOOK_SECRET": SECRET,
        "WEBHOOK_PORT": str(port),
    }
    bodies = {chat: update(chat, f"m-{chat}", f"{codes[chat]} 1 xong") for chat in chats}

    def post(body: dict[str, Any]) -> int:
        """Post to the webhook as the platform does; the answer's status."""
        answer = httpx.post(
            f"http://127.0.0.1:{port}/zalo",
            content=json.dumps(body, ensure_ascii=False),
            headers={SECRET_HEADER: SECRET},
            timeout=30,
        )
        return answer.status_code

    with dondoc_run(env, tmp_path / "run-1.log") as first:
        fake.wait_for_call("setWebhook")  # the webhook listens before it is registered
        with locked(database_url):  # a long write elsewhere: nothing can be stored
            assert post(bodies[chats[0]]) == 503
        assert stored(engine) == []  # and nothing was promised

        fake.hold("sendChatAction")  # the bot will wait on the platform before handling
        assert [post(bodies[chat]) for chat in chats] == [200, 200, 200]
        fake.wait_for_call("sendChatAction")
        assert stored(engine) == [(f"m-{chat}", False) for chat in chats]
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
    fake.release("sendChatAction")
    assert fake.sent == []

    log = tmp_path / "run-2.log"
    with dondoc_run(env, log) as second:
        for chat in chats:  # the restarted bot handles what the killed one had stored
            assert "Đã hoàn thành" in fake.wait_for_text(chat, "Đã ghi nhận")
        assert post(bodies[chats[1]]) == 200  # the platform delivers one of them again
        assert post(update(chats[1], "m-help", "help")) == 200
        fake.wait_for_text(chats[1], "Hướng dẫn")  # answered after the replay (one lane)
        assert second.poll() is None
    for chat in chats:
        assert sum("Đã ghi nhận" in text for text in fake.texts_for(chat)) == 1
    with Session(engine) as session:
        assert sorted(r.status for r in session.exec(select(Report))) == ["done"] * 3
    assert all(handled for _, handled in stored(engine))
    assert "Traceback" not in log.read_text(errors="replace")

"""Real `dondoc tick` processes: killed mid-run, or two at once, never lose or repeat reminders."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from tests.e2e.dondoc_process import ROOT, dondoc
from tests.fakes.bot_api import FakeBotApi
from tests.utils.clock import local_time
from tests.utils.world import build_world

pytestmark = pytest.mark.slow
NOW = "2026-11-23T08:00"


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    """A fake Bot API that takes a few milliseconds per message."""
    server = FakeBotApi(delay=0.004).start()
    yield server
    server.stop()


def env_for(database_url: str, api: FakeBotApi) -> dict[str, str]:
    """Environment of a dondoc process talking to the fake API, rate limits lifted."""
    return {
        "DONDOC_DATABASE_URL": database_url,
        "TELEGRAM_BOT_TOKEN": "123:TEST",
        "TELEGRAM_API_URL": api.api_url(),
        "SEND_RATE_PER_SECOND": "0",
        "SEND_RATE_PER_CHAT": "0",
        "DONDOC_LOG_LEVEL": "WARNING",
    }


def start_tick(env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`dondoc tick --now ...` in the background."""
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "tick", "--now", NOW],
        env={**os.environ, **env},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_sigkill_mid_dispatch_then_rerun(
    engine: Engine, database_url: str, tmp_path: Path, api: FakeBotApi
) -> None:
    world = build_world(engine, tmp_path, now=local_time("2026-11-02 09:00"), schools=500)
    env = env_for(database_url, api)
    process = start_tick(env)
    deadline = time.monotonic() + 120
    while len(api.sent) < 150 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.01)  # waiting for another process's progress, not for a schedule
    assert process.poll() is None, "the tick finished before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    killed_at = len(api.sent)
    assert 0 < killed_at < 500
    dondoc(env, "tick", "--now", NOW)
    schools = set(world.school_chats.values())  # the coordinator also gets the Monday digest
    delivered = Counter(m["chat_id"] for m in api.sent if m["chat_id"] in schools)
    assert set(delivered) == schools
    assert sum(n - 1 for n in delivered.values()) <= 1, "at most the message in flight twice"


def test_two_ticks_at_once_send_each_reminder_once(
    engine: Engine, database_url: str, tmp_path: Path, api: FakeBotApi
) -> None:
    world = build_world(engine, tmp_path, now=local_time("2026-11-02 09:00"), schools=300)
    env = env_for(database_url, api)
    first, second = start_tick(env), start_tick(env)
    assert first.wait(timeout=180) == 0
    assert second.wait(timeout=180) == 0
    delivered = Counter(m["chat_id"] for m in api.sent if m["method"] == "sendMessage")
    assert set(delivered) == {*world.school_chats.values(), world.coordinator_chat}
    assert max(delivered.values()) == 1

"""Real `dondoc tick` processes: killed mid-run, or two at once, never lose or repeat reminders."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from tests.e2e.dondoc_process import dondoc, start_tick, tick_env
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


def test_sigkill_mid_dispatch_then_rerun(
    engine: Engine, database_url: str, tmp_path: Path, api: FakeBotApi
) -> None:
    world = build_world(engine, tmp_path, now=local_time("2026-11-02 09:00"), schools=500)
    env = tick_env(database_url, api.api_url())
    process = start_tick(env, NOW)
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
    env = tick_env(database_url, api.api_url())
    first, second = start_tick(env, NOW), start_tick(env, NOW)
    assert first.wait(timeout=180) == 0
    assert second.wait(timeout=180) == 0
    delivered = Counter(m["chat_id"] for m in api.sent if m["method"] == "sendMessage")
    assert set(delivered) == {*world.school_chats.values(), world.coordinator_chat}
    assert max(delivered.values()) == 1

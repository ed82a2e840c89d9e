"""Real `dondoc tick` processes: killed mid-run, or two at once, never lose or repeat reminders.

A killed tick's claims come back when their lease runs out (scheduler/lease.py), whatever PID
the next process has: in a container the restarted program is PID 1 again, which these tests
reproduce with a PID namespace where the machine allows one (`unshare`, as root).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from scheduler.lease import LEASE
from storage.models import Outbox
from tests.e2e.dondoc_process import DONDOC, ROOT, start_tick, tick_env
from tests.fakes.bot_api import FakeBotApi
from tests.utils.clock import local_time
from tests.utils.processes import stop
from tests.utils.world import build_world

pytestmark = pytest.mark.slow
NOW = "2026-11-23T08:00"
# The next tick after a restart, and the first one after the killed tick's lease has run out.
RESTARTED = NOW
AFTER_LEASE = (datetime.fromisoformat(NOW) + LEASE + timedelta(minutes=1)).isoformat()
# Each process runs as PID 1 of a PID namespace of its own, as in a restarted container.
AS_PID_1 = ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child=SIGKILL"]


def pid_namespaces_available() -> bool:
    """Whether this machine lets the tests start a process as PID 1 (root, util-linux)."""
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run([*AS_PID_1, "true"], capture_output=True, timeout=30)
    return probe.returncode == 0


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    """A fake Bot API that takes a few milliseconds per message."""
    server = FakeBotApi(delay=0.004).start()
    yield server
    server.stop()


def start_tick_as_pid_1(env: dict[str, str], now: str) -> subprocess.Popen[bytes]:
    """`dondoc tick --now NOW` as PID 1 of a new PID namespace."""
    return subprocess.Popen(
        [*AS_PID_1, *DONDOC, "tick", "--now", now],
        env={**os.environ, **env},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )


def run_tick(env: dict[str, str], now: str, *, as_pid_1: bool) -> None:
    """One `dondoc tick --now NOW` to completion."""
    prefix = AS_PID_1 if as_pid_1 else []
    result = subprocess.run(
        [*prefix, *DONDOC, "tick", "--now", now],
        env={**os.environ, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def tick_pid(process: subprocess.Popen[bytes], *, as_pid_1: bool) -> int:
    """The pid of the tick itself (under `unshare`, its only child) as seen from here."""
    if not as_pid_1:
        return process.pid
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    assert len(children) == 1, children
    return int(children[0])


def stranded_claimers(engine: Engine) -> set[str]:
    """The claimed_by of rows still 'sending'."""
    with Session(engine) as session:
        owners = session.exec(select(Outbox.claimed_by).where(Outbox.status == "sending"))
        return {owner or "" for owner in owners}


def delivered(api: FakeBotApi, chats: set[str]) -> Counter[str]:
    """Messages delivered so far to each of these chats."""
    return Counter(m["chat_id"] for m in api.sent if m["chat_id"] in chats)


@pytest.mark.parametrize("as_pid_1", [False, True], ids=["new-pid", "same-pid-1"])
def test_sigkill_mid_dispatch_then_restart(
    engine: Engine, database_url: str, tmp_path: Path, api: FakeBotApi, as_pid_1: bool
) -> None:
    if as_pid_1 and not pid_namespaces_available():
        pytest.skip("no PID namespaces here (needs root and util-linux unshare)")
    world = build_world(engine, tmp_path, now=local_time("2026-11-02 09:00"), schools=500)
    env = tick_env(database_url, api.api_url())
    process = start_tick_as_pid_1(env, NOW) if as_pid_1 else start_tick(env, NOW)
    try:
        deadline = time.monotonic() + 120
        while len(api.sent) < 150 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.01)  # waiting for another process's progress, not for a schedule
        assert process.poll() is None, "the tick finished before it could be killed"
        os.kill(tick_pid(process, as_pid_1=as_pid_1), signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        stop(process)
    killed_at = len(api.sent)
    assert 0 < killed_at < 500
    (claimer,) = stranded_claimers(engine)  # the dead tick holds rows it will never send
    if as_pid_1:
        assert claimer.split(":")[1] == "1"  # as PID 1: the PID the restarted tick has too
    schools = set(world.school_chats.values())  # the coordinator also gets the Monday digest
    run_tick(env, RESTARTED, as_pid_1=as_pid_1)  # restarted at once: the lease still holds
    assert stranded_claimers(engine) == {claimer}
    assert max(delivered(api, schools).values()) == 1
    run_tick(env, AFTER_LEASE, as_pid_1=as_pid_1)
    assert set(delivered(api, schools)) == schools
    duplicates = sum(n - 1 for n in delivered(api, schools).values())
    assert duplicates <= 1, "at most the message in flight twice"
    assert stranded_claimers(engine) == set()


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

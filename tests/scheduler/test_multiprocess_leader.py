"""One scheduler leader among several processes: it ticks, the others stand by and take over.

PostgreSQL elects with a session advisory lock, a SQLite file with a lock file; both are freed by
the death of the holder, which these tests cause with SIGKILL.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bot import runtime
from bot.settings import load_settings
from scheduler.leader import (
    AdvisoryLockLeader,
    Leadership,
    LockFileLeader,
    SoleLeader,
    scheduler_leader,
)
from storage.db import make_engine
from tests.pg import needs_postgresql

ROOT = Path(__file__).resolve().parents[2]
HANDOVER_TIMEOUT = 20.0
HOLDER = """
import sys, time
from storage.db import make_engine
from scheduler.leader import scheduler_leader
leader = scheduler_leader(make_engine(sys.argv[1]))
print("LEADER" if leader.is_leader() else "FOLLOWER", flush=True)
time.sleep(600)
"""


@pytest.fixture
def holder(database_url: str, engine: Engine) -> Iterator[subprocess.Popen[str]]:
    """Another process that took the scheduler lead on the test database."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, database_url], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "LEADER"
    yield process
    process.kill()
    process.wait()


def eventually_leads(leader: Leadership) -> bool:
    """Ask as a standing-by process does each tick, until it leads (or give up)."""
    deadline = time.monotonic() + HANDOVER_TIMEOUT
    while not leader.is_leader():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)  # the server or kernel is freeing the dead holder's lock
    return True


def terminate_the_leaders_session(engine: Engine) -> None:
    """The server ends the session holding the advisory lock (a dropped connection)."""
    with engine.connect() as conn:
        conn.exec_driver_sql(
            "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted"
        )
        conn.commit()


def test_the_election_fits_the_database(tmp_path: Path, engine: Engine) -> None:
    assert isinstance(scheduler_leader(make_engine("sqlite://")), SoleLeader)
    on_file = scheduler_leader(make_engine(f"sqlite:///{tmp_path / 'x.db'}"))
    assert isinstance(on_file, LockFileLeader)
    assert on_file.path == tmp_path / "x.db.leader"
    expected = AdvisoryLockLeader if engine.dialect.name == "postgresql" else LockFileLeader
    leader = scheduler_leader(engine)
    assert isinstance(leader, expected)
    leader.release()


def advisory_locks_held(engine: Engine) -> int:
    """Advisory locks granted on the server right now (what another process would run into)."""
    with engine.connect() as conn:
        return int(
            conn.exec_driver_sql(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
            ).scalar_one()
        )


def test_one_leader_at_a_time_and_the_lead_passes_on_release(engine: Engine) -> None:
    first, second = scheduler_leader(engine), scheduler_leader(engine)
    try:
        assert first.is_leader()
        assert not second.is_leader()
        assert first.is_leader() and not second.is_leader()  # asking again changes nothing
        first.release()  # returns once the lock is free: no waiting for the server to notice
        assert second.is_leader()
        assert not first.is_leader()
    finally:
        first.release()
        second.release()


@needs_postgresql
def test_release_frees_the_advisory_lock_before_it_returns(engine: Engine) -> None:
    leader = AdvisoryLockLeader(engine)
    try:
        assert leader.is_leader()
        assert advisory_locks_held(engine) == 1
        leader.release()
        # Observed from another session at once: a closed connection alone frees the lock only
        # when the server has noticed, which is how the test above used to fail.
        assert advisory_locks_held(engine) == 0
    finally:
        leader.release()


def test_release_unlocks_the_lock_file_before_closing_it(tmp_path: Path) -> None:
    path = tmp_path / "dondoc.db.leader"
    leader = LockFileLeader(path)
    assert leader.is_leader()
    with path.open("ab") as other:
        with pytest.raises(BlockingIOError):
            fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        leader.release()
        fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)  # free: no exception


@pytest.mark.slow  # a subprocess
def test_when_the_leader_is_killed_another_process_takes_over(
    engine: Engine, holder: subprocess.Popen[str]
) -> None:
    standby = scheduler_leader(engine)
    try:
        assert not standby.is_leader()
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
        assert eventually_leads(standby)
    finally:
        standby.release()


@needs_postgresql
@pytest.mark.parametrize("shut_down", [False, True], ids=["keeps-running", "shuts-down"])
def test_a_leader_whose_connection_drops_steps_down(engine: Engine, shut_down: bool) -> None:
    first, second = AdvisoryLockLeader(engine), AdvisoryLockLeader(engine)
    try:
        assert first.is_leader()
        terminate_the_leaders_session(engine)
        if shut_down:
            first.release()  # the unlock fails on the dead session: nothing raised
        assert eventually_leads(second)
        assert not first.is_leader()  # its next tick notices and stands by
    finally:
        first.release()
        second.release()


class ScriptedLeader:
    """Answers is_leader from a script, counting the questions."""

    def __init__(self, answers: list[bool]) -> None:
        self.answers = answers
        self.asked = 0

    def is_leader(self) -> bool:
        """The next scripted answer."""
        self.asked += 1
        return self.answers.pop(0)

    def release(self) -> None:
        """Nothing held."""


async def test_only_the_leader_runs_the_tick(monkeypatch: pytest.MonkeyPatch) -> None:
    ticks: list[datetime] = []

    async def recording_tick(*_: object, now: datetime, **__: object) -> None:
        ticks.append(now)

    monkeypatch.setattr(runtime, "tick", recording_tick)
    leader = ScriptedLeader([False, True, True])
    scheduler = runtime.build_scheduler(
        load_settings(),
        engine=None,
        dispatcher=None,
        leader=leader,  # type: ignore[arg-type]
    )
    job = scheduler.get_job("tick")
    await job.func()
    assert ticks == []
    await job.func()
    await job.func()
    assert len(ticks) == 2 and leader.asked == 3


@pytest.mark.slow  # a subprocess
def test_two_dondoc_run_processes_elect_one_leader(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "DONDOC_DATABASE_URL": database_url,
        "DONDOC_LOG_LEVEL": "INFO",
        "TELEGRAM_BOT_TOKEN": "",
        "ZALO_BOT_TOKEN": "",
    }
    logs = [tmp_path / "run-1.log", tmp_path / "run-2.log"]
    processes = []
    for log in logs:
        with log.open("wb") as handle:
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "bot", "run"],
                    env=env,
                    cwd=ROOT,
                    stdout=handle,
                    stderr=subprocess.STDOUT,
                )
            )
    try:
        deadline = time.monotonic() + 60
        texts = ["", ""]
        while time.monotonic() < deadline:
            texts = [log.read_text(errors="replace") for log in logs]
            if all("scheduler leader" in t or "stands by" in t for t in texts):
                break
            assert all(p.poll() is None for p in processes), texts
            time.sleep(0.1)  # polling the processes' start-up, not a schedule
        leaders = [t for t in texts if "now the scheduler leader" in t]
        standing_by = [t for t in texts if "stands by" in t]
        assert len(leaders) == 1 and len(standing_by) == 1, texts
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

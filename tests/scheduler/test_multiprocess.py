"""Three `dondoc tick` processes on one database and 2,000 due reminders: each is sent once.

The processes claim outbox rows concurrently (`FOR UPDATE SKIP LOCKED` on PostgreSQL, immediate
transactions on SQLite) and deliver through a fake Telegram Bot API running as its own process,
which logs every delivered message as a JSON line. In the second test the process holding work
is killed with SIGKILL mid-run: the survivors finish their share and the first tick after the dead
process's lease has run out reclaims its rows — at most the message in flight is sent twice.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from scheduler.lease import LEASE
from storage.db import session_scope
from storage.models import Assignment, Contact, GroupMember, Occurrence, Outbox, Unit
from tests.e2e.dondoc_process import start_tick, tick_env
from tests.utils.clock import local_time
from tests.utils.world import build_world

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SCHOOLS = 2000
PROCESSES = 3
NOW = "2026-11-24T08:00"  # a reminder step of the task due 30/11 has come
AFTER_LEASE = (datetime.fromisoformat(NOW) + LEASE + timedelta(minutes=1)).isoformat()
PROCESS_TIMEOUT = 120


@dataclass
class FakeApiProcess:
    """The fake Bot API in a process of its own, and the JSON-lines log of what it delivered."""

    process: subprocess.Popen[str]
    port: int
    log: Path

    def api_url(self) -> str:
        """TELEGRAM_API_URL for dondoc (the token is appended)."""
        return f"http://127.0.0.1:{self.port}/bot"

    def delivered(self) -> list[dict[str, object]]:
        """Every message delivered so far."""
        if not self.log.exists():
            return []
        lines = self.log.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.endswith("}")]


def start_fake_api(log: Path) -> FakeApiProcess:
    """`python -m tests.fakes.bot_api 0 LOG`, once it reports its port."""
    with log.with_suffix(".stderr").open("wb") as errors:  # dropped connections of the killed
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.fakes.bot_api", "0", str(log)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
    assert process.stdout is not None
    ready = process.stdout.readline().split()  # blocks until the server listens
    assert ready[:1] == ["READY"], f"fake Bot API did not start: {ready}"
    return FakeApiProcess(process, int(ready[1]), log)


@pytest.fixture
def fake_api(tmp_path: Path) -> Iterator[FakeApiProcess]:
    """The fake Bot API process, stopped after the test."""
    api = start_fake_api(tmp_path / "sent.jsonl")
    yield api
    api.process.kill()
    api.process.wait()


def build_schools(engine: Engine, folder: Path, count: int) -> dict[str, str]:
    """`count` schools with a contact each, all owning the same task; returns unit → chat.

    The first school goes through the real import path (units, plan, policy, occurrence); the
    others copy its rows with bulk inserts, which takes a second instead of a minute.
    """
    world = build_world(engine, folder, now=local_time("2026-11-02 09:00"), schools=1)
    with session_scope(engine) as session:
        first = session.exec(select(Unit).where(Unit.code == world.schools[0])).one()
        assignment = session.exec(select(Assignment).where(Assignment.unit_id == first.id)).one()
        occurrence = session.exec(
            select(Occurrence).where(Occurrence.assignment_id == assignment.id)
        ).one()
        contact = session.exec(select(Contact).where(Contact.unit_id == first.id)).one()
        numbers = range(2, count + 1)
        unit_ids = _bulk(
            session,
            Unit,
            [
                {
                    "code": f"THCS_{i:04d}",
                    "name": f"Trường THCS số {i}",
                    "parent_code": first.parent_code,
                    "aliases": [],
                    "active": True,
                }
                for i in numbers
            ],
        )
        session.execute(
            insert(GroupMember),
            [{"group_code": "TRUONG", "unit_id": unit_id} for unit_id in unit_ids],
        )
        assignment_ids = _bulk(
            session,
            Assignment,
            [{"task_id": assignment.task_id, "unit_id": u, "active": True} for u in unit_ids],
        )
        template = occurrence.model_dump(exclude={"id", "assignment_id"})
        _bulk(session, Occurrence, [{**template, "assignment_id": a} for a in assignment_ids])
        chats = {f"THCS_{i:04d}": str(100_000 + i) for i in numbers}
        _bulk(
            session,
            Contact,
            [
                {
                    "channel": "telegram",
                    "chat_id": chats[f"THCS_{i:04d}"],
                    "unit_id": unit_id,
                    "role": "contact",
                    "display_name": f"contact THCS_{i:04d}",
                    "reachable": True,
                    "created_at": contact.created_at,
                }
                for i, unit_id in zip(numbers, unit_ids, strict=True)
            ],
        )
    return {**world.school_chats, **chats}


def _bulk(session: Session, model: type, rows: list[dict[str, object]]) -> list[int]:
    """Insert many rows in a few statements; their ids in the order given."""
    result = session.execute(
        insert(model).returning(model.id, sort_by_parameter_order=True),  # type: ignore[attr-defined]
        rows,
    )
    return [row[0] for row in result]


def wait_ok(process: subprocess.Popen[bytes], log: Path) -> None:
    """The process ends successfully, or the test fails with its output."""
    code = process.wait(timeout=PROCESS_TIMEOUT)
    assert code == 0, f"dondoc tick exited {code}:\n{log.read_text(errors='replace')[-3000:]}"


def outbox_statuses(engine: Engine) -> dict[str, int]:
    """Outbox row count per status."""
    with Session(engine) as session:
        rows = session.exec(select(Outbox.status, func.count()).group_by(Outbox.status)).all()
    return dict(rows)  # type: ignore[arg-type]


def test_three_processes_send_each_reminder_exactly_once(
    engine: Engine, database_url: str, tmp_path: Path, fake_api: FakeApiProcess
) -> None:
    chats = build_schools(engine, tmp_path, SCHOOLS)
    env = tick_env(database_url, fake_api.api_url())
    logs = [tmp_path / f"tick-{n}.log" for n in range(PROCESSES)]
    started = time.monotonic()
    processes = [start_tick(env, NOW, log) for log in logs]
    for process, log in zip(processes, logs, strict=True):
        wait_ok(process, log)
    elapsed = time.monotonic() - started
    delivered = Counter(str(m["chat_id"]) for m in fake_api.delivered())
    school_counts = [delivered[chat] for chat in chats.values()]
    assert len(chats) == SCHOOLS
    assert school_counts.count(1) == SCHOOLS, {c: n for c, n in delivered.items() if n != 1}
    statuses = outbox_statuses(engine)
    assert statuses.get("pending", 0) == statuses.get("sending", 0) == 0, statuses
    assert statuses["sent"] >= SCHOOLS
    print(f"{SCHOOLS} reminders by {PROCESSES} processes in {elapsed:.1f} s")


def test_killing_the_process_holding_work_loses_nothing(
    engine: Engine, database_url: str, tmp_path: Path, fake_api: FakeApiProcess
) -> None:
    chats = build_schools(engine, tmp_path, SCHOOLS)
    env = tick_env(database_url, fake_api.api_url())
    logs = {}
    for n in range(PROCESSES):
        log = tmp_path / f"tick-{n}.log"
        logs[start_tick(env, NOW, log)] = log
    observer = create_engine(database_url)  # plain reads: never waits on SQLite's write lock
    victim = _freeze_a_holder(observer, list(logs), fake_api, after=SCHOOLS // 5)
    assert _rows_claimed_by(observer, victim.pid), "the victim must die holding work"
    observer.dispose()
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    for process, log in logs.items():
        if process is not victim:
            wait_ok(process, log)
    # The first tick after the dead process's lease has run out gives its rows back and sends them.
    restart_log = tmp_path / "tick-restart.log"
    wait_ok(start_tick(env, AFTER_LEASE, restart_log), restart_log)
    delivered = Counter(str(m["chat_id"]) for m in fake_api.delivered())
    missing = [chat for chat in chats.values() if delivered[chat] == 0]
    assert missing == []
    duplicates = sum(delivered[chat] - 1 for chat in chats.values())
    assert duplicates <= 1, "at most the message in flight is sent twice"
    statuses = outbox_statuses(engine)
    assert statuses.get("pending", 0) == statuses.get("sending", 0) == 0, statuses


def _freeze_a_holder(
    engine: Engine,
    processes: list[subprocess.Popen[bytes]],
    api: FakeApiProcess,
    *,
    after: int,
) -> subprocess.Popen[bytes]:
    """Once `after` messages are out, a tick process stopped (SIGSTOP) while it holds rows."""
    deadline = time.monotonic() + PROCESS_TIMEOUT
    while time.monotonic() < deadline:
        # Polling another process's progress, not waiting out a schedule.
        time.sleep(0.05)
        if len(api.delivered()) < after:
            continue
        running = {p.pid: p for p in processes if p.poll() is None}
        assert running, "every tick ended before one could be killed"
        for pid in set(_claimers(engine)) & set(running):
            os.kill(pid, signal.SIGSTOP)  # it cannot finish its batch while we look
            if pid in _claimers(engine):
                return running[pid]
            os.kill(pid, signal.SIGCONT)
    states = {p.pid: p.poll() for p in processes}
    raise AssertionError(
        f"no tick process held claimed rows in time: {len(api.delivered())} delivered, "
        f"exit codes {states}, outbox {outbox_statuses(engine)}"
    )


def _claimers(engine: Engine) -> list[int]:
    """Pids of the processes that have outbox rows claimed ('sending') right now."""
    with Session(engine) as session:
        owners = session.exec(
            select(Outbox.claimed_by).where(Outbox.status == "sending").distinct()
        ).all()
    return [int(owner.split(":")[1]) for owner in owners if owner]


def _rows_claimed_by(engine: Engine, pid: int) -> list[int]:
    """Ids of the rows a process left claimed."""
    with Session(engine) as session:
        rows = session.exec(select(Outbox).where(Outbox.status == "sending")).all()
    return [r.id for r in rows if r.claimed_by and r.claimed_by.split(":")[1] == str(pid)]  # type: ignore[misc]

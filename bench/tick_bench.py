"""Tick cost: one scheduler pass over 10k, 100k and 1M occurrences, idle and on Monday morning.

Each size is built in a fresh database (PostgreSQL: then ANALYZE) with one plan, ten yearly
occurrences per unit and the plan's coordinators. Measured:

- idle: a Tuesday pass with nothing due (after the one that planned the week's digest),
  3 × `--repeat` passes; target < 50 ms at 1M;
- 100 due: `--repeat` passes, each with 100 other occurrences due (planned and sent); they
  are made not due again before the Monday runs;
- Monday: the pass that builds and sends the weekly digest to the coordinators, each run in a
  fresh process on the built database (a new week each run, after an idle pass an hour before,
  as a running bot has made), with that process's peak memory (VmHWM, the interpreter and
  libraries included); target < 1 s and < 300 MB at 1M.

Every figure is the median of n runs with their minimum and maximum; a target is met only when
the whole range meets it. Run: `.venv/bin/python -m bench.tick_bench [--sizes 10000 100000]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

from rich.console import Console
from sqlalchemy import text, update
from sqlalchemy.engine import Engine
from sqlmodel import col

from bench.database import backend, bench_database
from bench.figures import Target, spread, target_line
from bench.population import populate
from bot.channels.console import ConsoleSender
from plans.clock import at_local
from scheduler.dispatcher import Dispatcher
from scheduler.ratelimit import unlimited
from scheduler.tick import tick
from storage.db import is_sqlite, make_engine
from storage.models import Occurrence
from storage.schema import migrate

NOW = at_local(date(2026, 11, 24), 9)  # a Tuesday: no digest is due
MONDAY = at_local(date(2026, 11, 30), 8)  # the digest's time has come
IDLE_TARGET_MS = 50.0
MONDAY_TARGET_MS, MONDAY_TARGET_MB = 1_000.0, 300.0
IDLE = Target(IDLE_TARGET_MS, at_least=False, unit=" ms", digits=1)
MONDAY_TIME = Target(MONDAY_TARGET_MS, at_least=False, unit=" ms")
MONDAY_MEMORY = Target(MONDAY_TARGET_MB, at_least=False, unit=" MB")
SELF = [sys.executable, "-m", "bench.tick_bench"]


def dispatcher(engine: Engine) -> Dispatcher:
    """The tick's dispatcher: the console channel, printing nowhere."""
    sender = ConsoleSender(Console(file=open("/dev/null", "w")))  # noqa: SIM115
    return Dispatcher(engine, {"console": sender}, limiter=unlimited())


async def time_ticks(engine: Engine, at: datetime, repeats: int) -> list[float]:
    """Milliseconds of `repeats` consecutive ticks at the same moment."""
    found = []
    sending = dispatcher(engine)
    for _ in range(repeats):
        started = time.perf_counter()
        await tick(engine, sending, now=at)
        found.append((time.perf_counter() - started) * 1000)
    return found


def build(engine: Engine, size: int, coordinators: int) -> float:
    """Populate `size` occurrences; seconds taken (ANALYZE included on PostgreSQL)."""
    migrate(engine)
    per_unit = 10
    started = time.perf_counter()
    populate(
        engine,
        units=size // per_unit,
        occurrences_per_unit=per_unit,
        due=date(2027, 6, 30),
        next_reminder_at=NOW + timedelta(days=200),
        contacts=True,
        channel="console",
        coordinators=coordinators,
    )
    if not is_sqlite(engine):
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
    return time.perf_counter() - started


def monday_run(url: str, week: int) -> dict[str, float]:
    """The Monday tick of week `week` after MONDAY, in a fresh process: ms and peak MB."""
    found = subprocess.run(
        [*SELF, "--monday", url, str(week)], capture_output=True, text=True, check=True
    )
    return dict(json.loads(found.stdout.splitlines()[-1]))


def monday_here(url: str, week: int) -> None:
    """In this (fresh) process: time one Monday tick and print it with the peak memory."""
    engine = make_engine(url)
    at = MONDAY + timedelta(weeks=week)
    # A running bot has ticked every minute before (calendar, templates and queries warm).
    asyncio.run(tick(engine, dispatcher(engine), now=at - timedelta(hours=1)))
    started = time.perf_counter()
    result = asyncio.run(tick(engine, dispatcher(engine), now=at))
    elapsed = (time.perf_counter() - started) * 1000
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert result.dispatched.messages > 0, "no digest was sent"
    print(json.dumps({"ms": elapsed, "peak_mb": peak_mb, "messages": result.dispatched.messages}))


def due_tick(engine: Engine, run: int) -> float:
    """Milliseconds of one pass with 100 occurrences due (those of run `run`: ids 100·run+1…)."""
    with engine.begin() as conn:
        conn.execute(
            update(Occurrence)
            .where(col(Occurrence.id).between(100 * run + 1, 100 * (run + 1)))
            .values(next_reminder_at=NOW - timedelta(minutes=1), due_date=date(2026, 12, 1))
        )
    (elapsed,) = asyncio.run(time_ticks(engine, NOW, 1))
    return elapsed


def measure(size: int, coordinators: int, repeat: int, folder: Path) -> dict[str, object]:
    """Build `size` occurrences, then time idle ticks, a tick with 100 due and Monday ticks."""
    with bench_database(folder, f"tick-{size}") as url:
        engine = make_engine(url)
        try:
            build_s = build(engine, size, coordinators)
            asyncio.run(time_ticks(engine, NOW, 1))  # the week's digest, planned by its first tick
            idle = asyncio.run(time_ticks(engine, NOW, 3 * repeat))
            busy = [due_tick(engine, run) for run in range(repeat)]
            with engine.begin() as conn:  # as built: the Monday runs send the digest alone
                conn.execute(
                    update(Occurrence)
                    .where(col(Occurrence.id) <= 100 * repeat)
                    .values(next_reminder_at=NOW + timedelta(days=200))
                )
        finally:
            engine.dispose()
        mondays = [monday_run(url, week) for week in range(repeat)]
    return {"size": size, "build_s": build_s, "idle": idle, "due100": busy, "mondays": mondays}


def main() -> None:
    """Run each size and print a table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--coordinators", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5, help="Monday runs (idle: three times)")
    parser.add_argument("--monday", nargs=2, metavar=("URL", "WEEK"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.monday:
        monday_here(args.monday[0], int(args.monday[1]))
        return
    print(
        f"tick cost ({backend()}, {args.coordinators} coordinator(s); median (min–max): idle of "
        f"n={3 * args.repeat} passes, 100 due and Monday of n={args.repeat} runs; targets: idle < "
        f"{IDLE_TARGET_MS:.0f} ms, Monday < {MONDAY_TARGET_MS:,.0f} ms and < "
        f"{MONDAY_TARGET_MB:.0f} MB, at 1M)"
    )
    with tempfile.TemporaryDirectory() as folder:
        for size in args.sizes:
            f = measure(size, args.coordinators, args.repeat, Path(folder))
            idle: list[float] = f["idle"]  # type: ignore[assignment]
            due: list[float] = f["due100"]  # type: ignore[assignment]
            mondays: list[dict[str, float]] = f["mondays"]  # type: ignore[assignment]
            ms = [m["ms"] for m in mondays]
            mb = [m["peak_mb"] for m in mondays]
            print(
                f"{size:>10,} occurrences (built in {f['build_s']:.0f} s): "
                f"idle {spread(idle, 1)} ms; 100 due {spread(due, 0)} ms; "
                f"Monday {spread(ms, 0)} ms, peak {spread(mb, 0)} MB"
            )
            if size == 1_000_000:  # the size the targets name
                print(target_line("  idle tick at 1M", idle, IDLE, engine=backend()))
                print(target_line("  Monday tick at 1M", ms, MONDAY_TIME, engine=backend()))
                print(target_line("  Monday tick at 1M, peak", mb, MONDAY_MEMORY, engine=backend()))


if __name__ == "__main__":
    main()

"""Tick cost: one scheduler pass over 10k, 100k and 1M occurrences with nothing (or little) due.

The target is < 50 ms at 1M, growing with the number due rather than the total. Each size is
built in a fresh SQLite file; the tick is timed over repeated passes (median and worst).
Run: `.venv/bin/python -m bench.tick_bench [--sizes 10000 100000 1000000]`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from rich.console import Console
from sqlalchemy import update
from sqlalchemy.engine import Engine

from bench.database import backend, bench_database
from bench.population import populate
from bot.console_channel import ConsoleSender
from plans.clock import at_local
from scheduler.dispatcher import Dispatcher
from scheduler.ratelimit import unlimited
from scheduler.tick import tick
from storage.db import make_engine
from storage.models import Occurrence
from storage.schema import migrate

NOW = at_local(date(2026, 11, 24), 9)  # a Tuesday: no digest is due
TARGET_MS = 50.0
REPEATS = 15


async def time_ticks(engine, dispatcher, repeats: int) -> list[float]:  # type: ignore[no-untyped-def]
    """Milliseconds of `repeats` consecutive ticks at the same moment."""
    found = []
    for _ in range(repeats):
        started = time.perf_counter()
        await tick(engine, dispatcher, now=NOW)
        found.append((time.perf_counter() - started) * 1000)
    return found


async def measure(size: int, folder: Path) -> dict[str, float]:
    """Build `size` occurrences, then time idle ticks and a tick with 100 due."""
    with bench_database(folder, f"tick-{size}") as url:
        engine = make_engine(url)
        try:
            return await _measure(engine, size)
        finally:
            engine.dispose()


async def _measure(engine: Engine, size: int) -> dict[str, float]:
    """Build, then time, on a prepared engine."""
    migrate(engine)
    per_unit = 10
    built = time.perf_counter()
    populate(
        engine,
        units=size // per_unit,
        occurrences_per_unit=per_unit,
        due=date(2027, 6, 30),
        next_reminder_at=NOW + timedelta(days=200),
        contacts=True,
        channel="console",
    )
    build_s = time.perf_counter() - built
    sender = ConsoleSender(Console(file=open("/dev/null", "w")))  # noqa: SIM115
    dispatcher = Dispatcher(engine, {"console": sender}, limiter=unlimited())
    idle = await time_ticks(engine, dispatcher, REPEATS)
    with engine.begin() as conn:  # make 100 occurrences due now
        conn.execute(
            update(Occurrence)
            .where(Occurrence.id <= 100)  # type: ignore[operator]
            .values(next_reminder_at=NOW - timedelta(minutes=1), due_date=date(2026, 12, 1))
        )
    busy = await time_ticks(engine, dispatcher, 1)
    engine.dispose()
    return {
        "size": size,
        "build_s": build_s,
        "idle_median_ms": statistics.median(idle),
        "idle_worst_ms": max(idle),
        "due100_ms": busy[0],
    }


def main() -> None:
    """Run each size and print a table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    args = parser.parse_args()
    print(f"tick cost ({backend()}, {REPEATS} idle passes each; target < {TARGET_MS:.0f} ms at 1M)")
    print(
        f"{'occurrences':>12} {'build s':>8} {'idle median ms':>15} {'idle worst ms':>14} "
        f"{'100 due ms':>11}"
    )
    with tempfile.TemporaryDirectory() as folder:
        for size in args.sizes:
            f = asyncio.run(measure(size, Path(folder)))
            print(
                f"{f['size']:>12,} {f['build_s']:>8.1f} {f['idle_median_ms']:>15.2f} "
                f"{f['idle_worst_ms']:>14.2f} {f['due100_ms']:>11.1f}"
            )


if __name__ == "__main__":
    main()

"""Dispatch capacity: plan → outbox → render → HTTP send → mark sent, rate limit lifted.

A fake Bot API runs in its own process on loopback; dondoc sends with python-telegram-bot as in
production. Prints reminders per second for the whole pipeline, and for planning alone.
Run: `.venv/bin/python -m bench.dispatch_bench [--reminders 5000]`.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import tempfile
import time
from datetime import date
from pathlib import Path

import httpx
from sqlalchemy.engine import Engine
from telegram import Bot

from bench.database import backend, bench_database
from bench.population import populate
from bot.http_transport import AiohttpRequest
from bot.telegram_channel import TelegramSender
from plans.calendar import default_calendar
from plans.clock import at_local
from scheduler.dispatcher import Dispatcher
from scheduler.planner import plan_due_reminders
from scheduler.ratelimit import unlimited
from storage.db import make_engine
from storage.schema import migrate

ROOT = Path(__file__).resolve().parents[1]
NOW = at_local(date(2026, 11, 23), 8)
TARGET = 1_000


def start_fake_api() -> tuple[subprocess.Popen[str], str]:
    """The fake Telegram Bot API (Node, so that it is never the bottleneck) in its own process."""
    process = subprocess.Popen(
        ["node", str(ROOT / "bench" / "fake_bot_api.js")], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    port = process.stdout.readline().split()[1]
    return process, f"http://127.0.0.1:{port}/bot"


def delivered_count(url: str) -> int:
    """Messages the fake API received."""
    return int(httpx.get(url.removesuffix("/bot") + "/count").json()["sent"])


async def measure(reminders: int, folder: Path, concurrency: int = 1) -> dict[str, float]:
    """Build the database, then time planning and dispatching."""
    with bench_database(folder, f"dispatch-{concurrency}") as url:
        engine = make_engine(url)
        try:
            return await _measure(engine, reminders, concurrency)
        finally:
            engine.dispose()


async def _measure(engine: Engine, reminders: int, concurrency: int) -> dict[str, float]:
    """Time planning and dispatching on a prepared engine."""
    migrate(engine)
    populate(engine, units=reminders, due=date(2026, 11, 30), next_reminder_at=NOW)
    default_calendar()  # read once per process (holiday files), like the Bot's initialisation
    api, url = start_fake_api()
    try:
        bot = Bot("123:BENCH", base_url=url, request=AiohttpRequest())
        async with bot:
            dispatcher = Dispatcher(
                engine,
                {"telegram": TelegramSender(bot)},
                limiter=unlimited(),
                concurrency=concurrency,
            )
            started = time.perf_counter()
            planned = plan_due_reminders(engine, now=NOW)
            planned_at = time.perf_counter()
            result = await dispatcher.dispatch(now=NOW)
            finished = time.perf_counter()
        delivered = delivered_count(url)
    finally:
        api.terminate()
    assert planned.planned == reminders and result.sent == reminders == delivered
    return {
        "reminders": reminders,
        "plan_s": planned_at - started,
        "dispatch_s": finished - planned_at,
        "total_s": finished - started,
    }


def median_run(reminders: int, concurrency: int, repeat: int) -> dict[str, float]:
    """The run with the median pipeline time among `repeat` runs, each on a fresh database."""
    runs = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as folder:
            runs.append(asyncio.run(measure(reminders, Path(folder), concurrency)))
    return sorted(runs, key=lambda f: f["total_s"])[len(runs) // 2]


def main() -> None:
    """Run with one message in flight (the crash-safe default) and with eight, and print."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--reminders", type=int, default=5_000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--repeat", type=int, default=3, help="runs per row; the median is shown")
    args = parser.parse_args()
    print(
        f"dispatch: {args.reminders:,} reminders, {backend()}, fake Bot API on loopback, "
        f"no rate limit; median of {args.repeat} runs"
    )
    print(
        f"{'in flight':>10} {'planning/s':>11} {'send+mark/s':>12} {'pipeline/s':>11} {'× 25/s':>7}"
    )
    for concurrency in args.concurrency:
        f = median_run(args.reminders, concurrency, args.repeat)
        rate = f["reminders"] / f["total_s"]
        print(
            f"{concurrency:>10} {f['reminders'] / f['plan_s']:>11,.0f} "
            f"{f['reminders'] / f['dispatch_s']:>12,.0f} {rate:>11,.0f} {rate / 25:>7.0f}"
            f"   target ≥ {TARGET:,}/s: {'met' if rate >= TARGET else 'NOT met'}"
        )


if __name__ == "__main__":
    main()

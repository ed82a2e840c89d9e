"""Dispatch capacity: plan → outbox → render → HTTP send → mark sent, rate limit lifted.

A fake Bot API runs in its own process on loopback; dondoc sends with python-telegram-bot as in
production. Prints reminders per second for the whole pipeline, and for planning alone.
Run: `.venv/bin/python -m bench.dispatch_bench [--reminders 5000]`.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from telegram import Bot
from telegram.request import HTTPXRequest

from bench.population import populate
from bot.telegram_channel import TelegramSender
from plans.clock import at_local
from scheduler.dispatcher import Dispatcher
from scheduler.planner import plan_due_reminders
from scheduler.ratelimit import unlimited
from storage.db import make_engine
from storage.schema import migrate

ROOT = Path(__file__).resolve().parents[1]
NOW = at_local(date(2026, 11, 23), 8)
TARGET = 1_000


def start_fake_api(log: Path) -> tuple[subprocess.Popen[str], str]:
    """The fake Telegram Bot API in a separate process."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.bot_api", "0", str(log)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    port = process.stdout.readline().split()[1]
    return process, f"http://127.0.0.1:{port}/bot"


async def measure(reminders: int, folder: Path) -> dict[str, float]:
    """Build the database, then time planning and dispatching."""
    engine = make_engine(f"sqlite:///{folder / 'bench.db'}")
    migrate(engine)
    populate(engine, units=reminders, due=date(2026, 11, 30), next_reminder_at=NOW)
    api, url = start_fake_api(folder / "sent.jsonl")
    try:
        bot = Bot("123:BENCH", base_url=url, request=HTTPXRequest(connection_pool_size=8))
        async with bot:
            dispatcher = Dispatcher(engine, {"telegram": TelegramSender(bot)}, limiter=unlimited())
            started = time.perf_counter()
            planned = plan_due_reminders(engine, now=NOW)
            planned_at = time.perf_counter()
            result = await dispatcher.dispatch(now=NOW)
            finished = time.perf_counter()
    finally:
        api.terminate()
    delivered = sum(1 for _ in (folder / "sent.jsonl").open())
    assert planned.planned == reminders and result.sent == reminders == delivered
    return {
        "reminders": reminders,
        "plan_s": planned_at - started,
        "dispatch_s": finished - planned_at,
        "total_s": finished - started,
    }


def main() -> None:
    """Run and print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--reminders", type=int, default=5_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        figures = asyncio.run(measure(args.reminders, Path(folder)))
    rate = figures["reminders"] / figures["total_s"]
    print(f"dispatch: {figures['reminders']:,} reminders, SQLite, fake Bot API on loopback")
    print(f"  planning only        {figures['reminders'] / figures['plan_s']:10,.0f} reminders/s")
    print(
        f"  send + mark sent     {figures['reminders'] / figures['dispatch_s']:10,.0f} reminders/s"
    )
    print(
        f"  whole pipeline       {rate:10,.0f} reminders/s  (target ≥ {TARGET:,}: "
        f"{'met' if rate >= TARGET else 'NOT met'}; {rate / 25:.0f}× Telegram's 25/s)"
    )


if __name__ == "__main__":
    main()

"""Dispatch: capacity with the rate limit lifted, and the send budget filled at real latency.

A fake Bot API (`bench/fake_bot_api.js`, Node) runs in its own process on loopback and can
answer after a latency, as the real API does from Vietnam (50-150 ms); dondoc sends with
python-telegram-bot, or with its Zalo client, as in production.

- capacity: plan → outbox → render → HTTP send → mark sent for N reminders, the rate limit
  lifted, no latency: reminders per second of the whole pipeline, per number in flight.
- budget: the default settings (25 messages/s, 1/s per chat, SEND_CONCURRENCY left to its
  default), the API answering after 0, 50 and 150 ms; every chat has five contacts (a person
  answering for five schools), so that it gets five messages and the per-chat interval binds.
  The rate is the fake API's own count over the time from the first message it received to
  the last.

Every figure is the median of n runs with their minimum and maximum; a target is met only when
the whole range meets it. Run: `.venv/bin/python -m bench.dispatch_bench [--repeat 3]`.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import Engine
from telegram import Bot

from bench.database import backend, bench_database
from bench.figures import Target, target_line
from bench.population import populate
from bot.channels import build_dispatcher
from bot.channels.telegram.sender import TelegramSender
from bot.channels.telegram.transport import AiohttpRequest
from bot.channels.zalo.api import ZaloApi
from bot.channels.zalo.sender import ZaloSender
from bot.settings import Settings
from chat.messages import Sender
from plans.calendar import default_calendar
from plans.clock import at_local
from scheduler.planner import plan_due_reminders
from storage.db import make_engine
from storage.schema import migrate

ROOT = Path(__file__).resolve().parents[1]
NOW = at_local(date(2026, 11, 23), 8)
CAPACITY_TARGET = 1_000  # reminders/s with the rate limit lifted (PostgreSQL)
CAPACITY = Target(CAPACITY_TARGET, at_least=True, unit=" /s", engine="postgresql")
BUDGET_SHARE = 0.95  # of the configured rate, at real latency
CHAT_INTERVAL = 1.0  # seconds between two messages to one chat (SEND_RATE_PER_CHAT = 1)
CONTACTS_PER_CHAT = 5  # each chat gets this many messages: the per-chat interval binds


@dataclass(frozen=True)
class Api:
    """The fake API process and its base URL."""

    process: subprocess.Popen[str]
    url: str

    def stats(self) -> dict[str, Any]:
        """What it received: sent, first, last (ms), minChatGap (ms)."""
        return dict(httpx.get(self.url.removesuffix("/bot") + "/count").json())


@dataclass(frozen=True)
class Budget:
    """One budget run."""

    rate: float
    min_chat_gap: float
    in_flight: int


@asynccontextmanager
async def fake_api(latency_ms: int) -> AsyncIterator[Api]:
    """The fake API, answering after `latency_ms`, in its own process."""
    process, url = start_fake_api(latency_ms)
    try:
        yield Api(process, url)
    finally:
        process.terminate()
        process.wait()


def start_fake_api(latency_ms: int = 0) -> tuple[subprocess.Popen[str], str]:
    """Start the fake Bot API (Node, never the bottleneck); its process and base URL."""
    process = subprocess.Popen(
        ["node", str(ROOT / "bench" / "fake_bot_api.js"), str(latency_ms)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    port = process.stdout.readline().split()[1]
    return process, f"http://127.0.0.1:{port}/bot"


@asynccontextmanager
async def open_sender(channel: str, url: str) -> AsyncIterator[Sender]:
    """The production sender of a channel, on the fake API."""
    if channel == "telegram":
        bot = Bot("123:BENCH", base_url=url, request=AiohttpRequest())
        async with bot:
            yield TelegramSender(bot)
    else:
        async with ZaloApi("BENCH", base_url=url, timeout=15.0) as api:
            yield ZaloSender(api)


def settings(**changes: Any) -> Settings:
    """The default settings (no environment read), with `changes`."""
    return Settings.model_construct(**changes)


async def capacity_run(engine: Engine, reminders: int, in_flight: int) -> float:
    """Reminders per second, planned and sent with the rate limit lifted."""
    populate(engine, units=reminders, due=date(2026, 11, 30), next_reminder_at=NOW)
    lifted = settings(send_rate_per_second=0, send_rate_per_chat=0, send_concurrency=in_flight)
    async with fake_api(0) as api, open_sender("telegram", api.url) as sender:
        dispatcher = build_dispatcher(lifted, engine, {"telegram": sender})
        started = time.perf_counter()
        planned = plan_due_reminders(engine, now=NOW)
        result = await dispatcher.dispatch(now=NOW)
        elapsed = time.perf_counter() - started
        delivered = api.stats()["sent"]
    assert planned.planned == result.sent == delivered == reminders, (planned, result, delivered)
    return reminders / elapsed


async def budget_run(
    engine: Engine, reminders: int, channel: str, latency_ms: int, in_flight: int | None
) -> Budget:
    """Messages per second and the shortest interval to one chat, with the default settings
    (`in_flight`: SEND_CONCURRENCY, None for its default)."""
    populate(
        engine,
        units=reminders,
        due=date(2026, 11, 30),
        next_reminder_at=NOW,
        channel=channel,
        contacts_per_chat=CONTACTS_PER_CHAT,
    )
    plan_due_reminders(engine, now=NOW)
    async with fake_api(latency_ms) as api, open_sender(channel, api.url) as sender:
        chosen = settings(send_concurrency=in_flight)
        dispatcher = build_dispatcher(chosen, engine, {channel: sender})
        result = await dispatcher.dispatch(now=NOW)
        stats = api.stats()
    assert result.sent == stats["sent"] == reminders, (result, stats)
    rate = (stats["sent"] - 1) / ((stats["last"] - stats["first"]) / 1000)
    return Budget(rate, stats["minChatGap"] / 1000, dispatcher.concurrency)


def on_fresh_database(name: str, measure: Callable[[Engine], Any]) -> Any:
    """Run an async measurement on a new, migrated database."""
    with tempfile.TemporaryDirectory() as folder, bench_database(Path(folder), name) as url:
        engine = make_engine(url)
        try:
            migrate(engine)
            default_calendar()  # read once per process (holiday files), like the bot's start
            return asyncio.run(measure(engine))
        finally:
            engine.dispose()


def main() -> None:
    """Measure capacity, then the budget per channel and latency, and print both tables."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--reminders", type=int, default=5_000)
    parser.add_argument("--in-flight", type=int, nargs="+", default=[1, 5, 32])
    parser.add_argument("--budget-reminders", type=int, default=250)
    parser.add_argument("--latencies", type=int, nargs="+", default=[0, 50, 150])
    parser.add_argument("--channels", nargs="+", default=["telegram", "zalo"])
    parser.add_argument("--budget-in-flight", type=int, default=None, help="default: the rate's")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip", choices=["capacity", "budget"], default=None)
    args = parser.parse_args()
    n = args.repeat
    if args.skip != "capacity":
        print(
            f"capacity: {args.reminders:,} reminders, {backend()}, rate limit lifted, no latency;"
            f" median (min–max) of n={n}; target ≥ {CAPACITY_TARGET:,}/s"
        )
        for in_flight in args.in_flight:
            rates = [
                on_fresh_database(
                    f"capacity-{in_flight}",
                    lambda e, k=in_flight: capacity_run(e, args.reminders, k),
                )
                for _ in range(n)
            ]
            name = f"  dispatch capacity, {in_flight} in flight"
            print(target_line(name, rates, CAPACITY, engine=backend()))
    if args.skip != "budget":
        rate = settings().send_rate_per_second
        print(
            f"budget: {args.budget_reminders} reminders to "
            f"{args.budget_reminders // CONTACTS_PER_CHAT} chats ({CONTACTS_PER_CHAT} each), "
            f"{backend()}, default settings ({rate:.0f}/s, 1/s per chat); "
            f"median (min–max) of n={n}; target ≥ {BUDGET_SHARE:.0%} of {rate:.0f}/s "
            f"= {BUDGET_SHARE * rate:.2f}/s, each chat ≥ {CHAT_INTERVAL:.1f} s apart"
        )
        for channel in args.channels:
            for latency in args.latencies:
                runs: list[Budget] = [
                    on_fresh_database(
                        f"budget-{channel}",
                        lambda e, c=channel, ms=latency: budget_run(
                            e, args.budget_reminders, c, ms, args.budget_in_flight
                        ),
                    )
                    for _ in range(n)
                ]
                rates = [r.rate for r in runs]
                gaps = [r.min_chat_gap for r in runs]
                name = f"  {channel} at {latency} ms, {runs[0].in_flight} in flight"
                share = Target(BUDGET_SHARE * rate, at_least=True, unit=" /s", digits=2)
                chat = Target(CHAT_INTERVAL - 0.01, at_least=True, unit=" s", digits=2)
                print(target_line(f"{name}: delivery", rates, share, engine=backend()))
                print(target_line(f"{name}: per-chat interval", gaps, chat, engine=backend()))


if __name__ == "__main__":
    main()

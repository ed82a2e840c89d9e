"""Inbound replies: update polled → stored → parsed → report written → reply rendered and sent.

dondoc, as `dondoc run` starts it (its Telegram poller and inbox), and a bare python-telegram-bot
echo application (PTB's own Updater polling) get the same kind of updates (principals answering
«CODE 1 đã hoàn thành») from a fake Bot API on loopback, which serves each bot's getUpdates like
Telegram (batches of up to 100, offset, long poll) and takes their answers. A batch is timed
from the moment its updates are queued at the fake API until its last answer arrived there.
The batches alternate between the applications, so that each ratio compares runs of the same
minute on a shared machine. Targets: dondoc ≥ 0.5 × the bare echo on dondoc's own aiohttp
transport (bot/channels/telegram/transport.py), on each engine, and ≥ 300 replies/s on
PostgreSQL. Run: `.venv/bin/python -m bench.inbound_bench [--updates 2000] [--repeat 3]`.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select
from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bench.database import backend, bench_database
from bench.dispatch_bench import start_fake_api
from bench.figures import Target, spread, target_line
from bench.population import populate
from bot.channels import telegram
from bot.channels.inbox import Inbox
from bot.channels.telegram.transport import AiohttpRequest
from bot.settings import load_settings
from storage.db import make_engine
from storage.models import Report
from storage.queries import ensure_ref_codes
from storage.schema import migrate

RATE = Target(300, at_least=True, unit=" /s", engine="postgresql")
RATIO = Target(0.5, at_least=True, digits=2)  # on each engine
APPS = ("dondoc", "bare", "same")  # the bare echo on httpx (PTB's default), on dondoc's transport
TOKENS = {"dondoc": "1:DONDOC", "bare": "2:BARE", "same": "3:SAME"}
WARM_UP = 100  # replies each application gives before the batches are timed

Stop = Callable[[], Awaitable[None]]


def updates(codes: list[str]) -> list[dict[str, Any]]:
    """One reply update per principal, as getUpdates gives it."""
    stamp = int(datetime(2026, 11, 23, 3, tzinfo=UTC).timestamp())
    found = []
    for i, code in enumerate(codes):
        chat = 10_000 + i
        found.append(
            {
                "update_id": i + 1,
                "message": {
                    "message_id": i + 1,
                    "date": stamp,
                    "chat": {"id": chat, "type": "private"},
                    "from": {"id": chat, "is_bot": False, "first_name": "Hiệu trưởng"},
                    "text": f"{code} 1 Đã hoàn thành, đã gửi biên bản",
                },
            }
        )
    return found


class FakeApi:
    """The fake Bot API's bench endpoints: queue a bot's updates, wait for its answers."""

    def __init__(self, client: aiohttp.ClientSession, url: str) -> None:
        self.client = client
        self.root = url.removesuffix("/bot")
        self.sent = dict.fromkeys(TOKENS.values(), 0)

    async def run_batch(self, token: str, batch: list[dict[str, Any]]) -> float:
        """Replies per second: from queuing the updates until their last answer arrived."""
        self.sent[token] += len(batch)
        started = time.perf_counter()
        async with self.client.post(f"{self.root}/enqueue/{token}", json=batch) as queued:
            queued.raise_for_status()
        async with self.client.get(f"{self.root}/wait/{token}/{self.sent[token]}") as answered:
            answered.raise_for_status()
        return len(batch) / (time.perf_counter() - started)


def echo_app(url: str, token: str, *, aiohttp: bool = False) -> Application:
    """A bare python-telegram-bot echo application (default httpx transport, or dondoc's)."""
    builder = Application.builder().token(token).base_url(url)
    if aiohttp:
        builder = builder.request(AiohttpRequest()).get_updates_request(
            AiohttpRequest(connection_pool_size=1)
        )
    app = builder.build()

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text(update.message.text or "")

    app.add_handler(MessageHandler(filters.TEXT, echo))
    return app


async def start_echo(app: Application) -> Stop:
    """Start the echo polling as python-telegram-bot does by default; return how to stop it."""
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0.0, timeout=10)
    updater = app.updater

    async def stop() -> None:
        await updater.stop()
        await app.stop()
        await app.shutdown()

    return stop


async def start_dondoc(engine: Engine, url: str) -> Stop:
    """dondoc's Telegram channel and inbox, as `dondoc run` starts them; return how to stop."""
    settings = load_settings(
        dondoc_database_url=str(engine.url),
        telegram_bot_token=TOKENS["dondoc"],
        telegram_api_url=url,
        telegram_poll_interval=0,
    )
    inbox = Inbox(engine, pending_ttl=settings.pending_ttl)
    running = await telegram.start(settings, inbox)
    await inbox.start()

    async def stop() -> None:
        await running.stop()
        await inbox.stop()

    return stop


async def measure(count: int, folder: Path, repeat: int = 3) -> dict[str, list[float]]:
    """Every application on `repeat` batches of `count` updates: replies/s per batch."""
    with bench_database(folder, "inbound") as url:
        engine = make_engine(url)
        try:
            return await _measure(engine, count, repeat)
        finally:
            engine.dispose()


def split(found: list[dict[str, Any]], size: int) -> list[list[dict[str, Any]]]:
    """The updates in consecutive batches of `size` (each principal answers once)."""
    return [found[i : i + size] for i in range(0, len(found), size)]


async def _measure(engine: Engine, count: int, repeat: int) -> dict[str, list[float]]:
    """The applications in turn on a prepared engine, batch after batch."""
    migrate(engine)
    total = WARM_UP + count * repeat  # every principal replies once: each reply a first report
    populate(engine, units=total, due=date(2026, 11, 30), next_reminder_at=None)
    with Session(engine) as session:
        wanted = [(i + 1, i + 1, None) for i in range(total)]  # contact i+1 ↔ occurrence i+1
        refs = ensure_ref_codes(session=session, wanted=wanted, now=datetime.now(UTC))
        session.commit()
    codes = [refs[(i + 1, i + 1)] for i in range(total)]
    found = updates(codes)
    batches = [found[:WARM_UP], *split(found[WARM_UP:], count)]
    process, url = start_fake_api()
    rates: dict[str, list[float]] = {name: [] for name in APPS}
    stops: list[Stop] = []
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600)) as client:
            api = FakeApi(client, url)
            stops.append(await start_dondoc(engine, url))
            stops.append(await start_echo(echo_app(url, TOKENS["bare"])))
            stops.append(await start_echo(echo_app(url, TOKENS["same"], aiohttp=True)))
            for name in APPS:
                await api.run_batch(TOKENS[name], batches[0])
            for batch in batches[1:]:
                for name in APPS:
                    rates[name].append(await api.run_batch(TOKENS[name], batch))
    finally:
        for stop in reversed(stops):
            await stop()
        process.terminate()
    with Session(engine) as session:
        written = session.exec(select(func.count()).select_from(Report)).one()
    assert written == total, f"{written} reports for {total} replies"
    return rates


def main() -> None:
    """Run and print the figures, each with its target and verdict."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--updates", type=int, default=2_000, help="per batch")
    parser.add_argument("--repeat", type=int, default=3, help="batches per application")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        rates = asyncio.run(measure(args.updates, Path(folder), args.repeat))
    engine = backend()
    same = [d / s for d, s in zip(rates["dondoc"], rates["same"], strict=True)]
    default = [d / b for d, b in zip(rates["dondoc"], rates["bare"], strict=True)]
    print(
        f"inbound: {args.updates:,} report replies per batch, one process, {engine}, replies "
        f"sent to a fake API; median (min–max) of n={args.repeat} batches, in turn"
    )
    print(f"  dondoc (poll, store, write report, render, send) {spread(rates['dondoc'])} /s")
    print(f"  bare echo on dondoc's aiohttp transport          {spread(rates['same'])} /s")
    print(f"  bare echo on httpx (python-telegram-bot's default) {spread(rates['bare'])} /s")
    print(f"  ratio to the echo on httpx (no target)           {spread(default, 2)}")
    print(target_line("inbound replies", rates["dondoc"], RATE, engine=engine))
    print(
        target_line("inbound ratio to the echo on the same transport", same, RATIO, engine=engine)
    )


if __name__ == "__main__":
    main()

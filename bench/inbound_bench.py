"""Inbound replies: update → stored → parsed → report written → reply rendered and sent.

dondoc's python-telegram-bot application and a bare PTB echo application get the same updates
(principals answering «CODE 1 đã hoàn thành»); both send their answers to a fake Bot API on
loopback. The batches alternate between the applications, so that each ratio compares runs of
the same minute on a shared machine. Targets: dondoc ≥ 0.5 × the bare echo on dondoc's own
aiohttp transport (bot/channels/telegram/transport.py), on each engine, and ≥ 300 replies/s on
PostgreSQL. Run: `.venv/bin/python -m bench.inbound_bench [--updates 2000] [--repeat 3]`.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select
from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bench.database import backend, bench_database
from bench.dispatch_bench import start_fake_api
from bench.figures import Target, spread, target_line
from bench.population import populate
from bot.channels.telegram import build_application
from bot.channels.telegram.transport import AiohttpRequest
from bot.settings import load_settings
from storage.db import make_engine
from storage.models import Report
from storage.queries import ensure_ref_codes
from storage.schema import migrate

RATE = Target(300, at_least=True, unit=" /s", engine="postgresql")
RATIO = Target(0.5, at_least=True, digits=2)  # on each engine
APPS = ("dondoc", "bare", "same")  # the bare echo on httpx (PTB's default), on dondoc's transport


def updates(app: Application, codes: list[str]) -> list[Update]:
    """One reply update per principal."""
    stamp = int(datetime(2026, 11, 23, 3, tzinfo=UTC).timestamp())
    found = []
    for i, code in enumerate(codes):
        chat = 10_000 + i
        payload = {
            "update_id": i + 1,
            "message": {
                "message_id": i + 1,
                "date": stamp,
                "chat": {"id": chat, "type": "private"},
                "from": {"id": chat, "is_bot": False, "first_name": "Hiệu trưởng"},
                "text": f"{code} 1 Đã hoàn thành, đã gửi biên bản",
            },
        }
        found.append(Update.de_json(payload, app.bot))
    return found


async def run_batch(app: Application, batch: list[Update]) -> float:
    """Replies per second over a batch of updates through the application's handlers."""
    started = time.perf_counter()
    for update in batch:
        await app.process_update(update)
    return len(batch) / (time.perf_counter() - started)


def echo_app(url: str, *, aiohttp: bool = False) -> Application:
    """A bare python-telegram-bot echo application (default httpx transport, or dondoc's)."""
    builder = Application.builder().token("123:BENCH").base_url(url)
    if aiohttp:
        builder = builder.request(AiohttpRequest())
    app = builder.build()

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text(update.message.text or "")

    app.add_handler(MessageHandler(filters.TEXT, echo))
    return app


async def measure(count: int, folder: Path, repeat: int = 3) -> dict[str, list[float]]:
    """Every application on `repeat` batches of `count` updates: replies/s per batch."""
    with bench_database(folder, "inbound") as url:
        engine = make_engine(url)
        try:
            return await _measure(engine, count, repeat)
        finally:
            engine.dispose()


def split(found: list[Update], repeat: int) -> list[list[Update]]:
    """`repeat` consecutive batches of the updates (each principal answers once)."""
    size = len(found) // repeat
    return [found[i * size : (i + 1) * size] for i in range(repeat)]


async def _measure(engine: Engine, count: int, repeat: int) -> dict[str, list[float]]:
    """The applications in turn on a prepared engine, batch after batch."""
    migrate(engine)
    total = count * repeat  # every batch has principals of its own: each reply is a first report
    populate(engine, units=total, due=date(2026, 11, 30), next_reminder_at=None)
    with Session(engine) as session:
        wanted = [(i + 1, i + 1, None) for i in range(total)]  # contact i+1 ↔ occurrence i+1
        refs = ensure_ref_codes(session=session, wanted=wanted, now=datetime.now(UTC))
        session.commit()
    codes = [refs[(i + 1, i + 1)] for i in range(total)]
    api, url = start_fake_api()
    rates: dict[str, list[float]] = {name: [] for name in APPS}
    try:
        settings = load_settings(
            dondoc_database_url=str(engine.url),
            telegram_bot_token="123:BENCH",
            telegram_api_url=url,
        )
        apps = {
            "dondoc": build_application(settings, engine),
            "bare": echo_app(url),
            "same": echo_app(url, aiohttp=True),
        }
        batches = {name: split(updates(app, codes), repeat) for name, app in apps.items()}
        async with apps["dondoc"], apps["bare"], apps["same"]:
            for index in range(repeat):
                for name, app in apps.items():
                    rates[name].append(await run_batch(app, batches[name][index]))
    finally:
        api.terminate()
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
    print(f"  dondoc (store, parse, write report, render, send) {spread(rates['dondoc'])} /s")
    print(f"  bare echo on dondoc's aiohttp transport          {spread(rates['same'])} /s")
    print(f"  bare echo on httpx (python-telegram-bot's default) {spread(rates['bare'])} /s")
    print(f"  ratio to the echo on httpx (no target)           {spread(default, 2)}")
    print(target_line("inbound replies", rates["dondoc"], RATE, engine=engine))
    print(
        target_line("inbound ratio to the echo on the same transport", same, RATIO, engine=engine)
    )


if __name__ == "__main__":
    main()

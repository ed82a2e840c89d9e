"""Inbound replies: update → stored → parsed → report written → reply rendered and sent.

dondoc's python-telegram-bot application and a bare PTB echo application get the same updates
(principals answering «CODE 1 đã hoàn thành»); both send their answers to a fake Bot API on
loopback. Prints replies per second for each and the ratio (targets: ≥ 300/s, ≥ 0.5 of bare).
Run: `.venv/bin/python -m bench.inbound_bench [--updates 2000]`.
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
from bench.population import populate
from bot.http_transport import AiohttpRequest
from bot.settings import load_settings
from bot.telegram_channel import build_application
from storage.db import make_engine
from storage.models import Report
from storage.queries import ensure_ref_codes
from storage.schema import migrate

TARGET_RATE, TARGET_RATIO = 300, 0.5


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


async def run_app(app: Application, batches: list[list[Update]]) -> float:
    """Median seconds to process a batch of updates through the application's handlers."""
    times = []
    async with app:
        for batch in batches:
            started = time.perf_counter()
            for update in batch:
                await app.process_update(update)
            times.append(time.perf_counter() - started)
    return sorted(times)[len(times) // 2]


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


async def measure(count: int, folder: Path, repeat: int = 3) -> dict[str, float]:
    """Both applications on the same input, `repeat` batches of `count` each (median shown)."""
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


async def _measure(engine: Engine, count: int, repeat: int) -> dict[str, float]:
    """Both applications on a prepared engine."""
    migrate(engine)
    total = count * repeat  # every batch has principals of its own: each reply is a first report
    populate(engine, units=total, due=date(2026, 11, 30), next_reminder_at=None)
    with Session(engine) as session:
        wanted = [(i + 1, i + 1, None) for i in range(total)]  # contact i+1 ↔ occurrence i+1
        refs = ensure_ref_codes(session=session, wanted=wanted, now=datetime.now(UTC))
        session.commit()
    codes = [refs[(i + 1, i + 1)] for i in range(total)]
    api, url = start_fake_api()
    try:
        settings = load_settings(
            dondoc_database_url=str(engine.url),
            telegram_bot_token="123:BENCH",
            telegram_api_url=url,
        )
        dondoc_app = build_application(settings, engine)
        dondoc_s = await run_app(dondoc_app, split(updates(dondoc_app, codes), repeat))
        bare = echo_app(url)
        bare_s = await run_app(bare, split(updates(bare, codes), repeat))
        same = echo_app(url, aiohttp=True)
        same_s = await run_app(same, split(updates(same, codes), repeat))
    finally:
        api.terminate()
    with Session(engine) as session:
        written = session.exec(select(func.count()).select_from(Report)).one()
    assert written == total, f"{written} reports for {total} replies"
    return {
        "count": count,
        "dondoc_rate": count / dondoc_s,
        "bare_rate": count / bare_s,
        "same_transport_rate": count / same_s,
    }


def main() -> None:
    """Run and print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--updates", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=3, help="batches; the median is shown")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        f = asyncio.run(measure(args.updates, Path(folder), args.repeat))
    ratio = f["dondoc_rate"] / f["bare_rate"]
    print(
        f"inbound: {f['count']:,} report replies, one process, {backend()}, "
        f"replies sent to a fake API; median of {args.repeat} batches"
    )
    print(
        f"  dondoc (store, parse, write report, render, send) {f['dondoc_rate']:8,.0f} replies/s "
        f"(target ≥ {TARGET_RATE}: {'met' if f['dondoc_rate'] >= TARGET_RATE else 'NOT met'})"
    )
    print(f"  bare python-telegram-bot echo (httpx default)    {f['bare_rate']:8,.0f} replies/s")
    same = f["same_transport_rate"]
    print(f"  bare echo on dondoc's aiohttp transport          {same:8,.0f} replies/s")
    print(
        f"  ratio to the default echo                        {ratio:8.2f}   "
        f"(target ≥ {TARGET_RATIO}: {'met' if ratio >= TARGET_RATIO else 'NOT met'})"
    )
    print(f"  ratio to the echo on the same transport          {f['dondoc_rate'] / same:8.2f}")


if __name__ == "__main__":
    main()

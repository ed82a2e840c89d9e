"""Run the real `dondoc` command line as a user would: one-shot commands and `dondoc run`."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.utils.processes import stop

ROOT = Path(__file__).resolve().parents[2]
DONDOC = [sys.executable, "-m", "bot"]


def dondoc(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run one dondoc command to completion and return its output."""
    result = subprocess.run(
        [*DONDOC, *args],
        env={**os.environ, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"dondoc {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


@contextmanager
def dondoc_run(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`dondoc run` in the background, stopped (and its log kept) whatever happens."""
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [*DONDOC, "run"], env={**os.environ, **env}, cwd=ROOT, stdout=handle, stderr=handle
        )
        try:
            yield process
        finally:
            stop(process)


def tick_env(database_url: str, api_url: str) -> dict[str, str]:
    """A `dondoc tick` on the test database and a fake Bot API, rate limits lifted."""
    return {
        "DONDOC_DATABASE_URL": database_url,
        "TELEGRAM_BOT_TOKEN": "123:TEST",
        "TELEGRAM_API_URL": api_url,
        "SEND_RATE_PER_SECOND": "0",
        "SEND_RATE_PER_CHAT": "0",
        "SEND_CONCURRENCY": "1",  # one message in flight: what a SIGKILL may repeat
        "DONDOC_LOG_LEVEL": "WARNING",
    }


def start_tick(env: dict[str, str], now: str, log: Path | None = None) -> subprocess.Popen[bytes]:
    """`dondoc tick --now NOW` in the background (its output kept in `log` when given)."""
    output = log.open("wb") if log is not None else subprocess.DEVNULL
    try:
        return subprocess.Popen(
            [*DONDOC, "tick", "--now", now],
            env={**os.environ, **env},
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    finally:
        if log is not None:
            output.close()  # type: ignore[union-attr]

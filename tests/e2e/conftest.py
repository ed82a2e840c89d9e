"""End-to-end fixtures: the Telegram emulator, shared by the whole test session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.telegram_emulator import Emulator, run_emulator


@pytest.fixture(scope="session")
def telegram_emulator() -> Iterator[Emulator]:
    """telegram-test-api with the python-telegram-bot 22 patches, on a free loopback port.

    Shared by the session: give each test's bot its own `telegram_emulator.new_token()` and
    its own users (`telegram_emulator.user(...)` never repeats an id).
    """
    with run_emulator() as emulator:
        yield emulator

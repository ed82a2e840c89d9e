"""Fixtures for the channel tests: fake Zalo and Telegram Bot APIs, a Zalo client on the first."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from bot.channels.zalo import ZaloApi
from tests.fakes.bot_api import FakeBotApi
from tests.fakes.zalo_api import TOKEN, FakeZaloApi


@pytest.fixture
def fake() -> Iterator[FakeZaloApi]:
    """A fake Zalo Bot API in a thread."""
    with FakeZaloApi() as server:
        yield server


@pytest.fixture
async def api(fake: FakeZaloApi) -> AsyncIterator[ZaloApi]:
    """A client on the fake, with a short timeout."""
    async with ZaloApi(TOKEN, base_url=fake.api_url(), timeout=2.0) as client:
        yield client


@pytest.fixture
def bot_api() -> Iterator[FakeBotApi]:
    """A fake Telegram Bot API in a thread."""
    with FakeBotApi() as server:
        yield server

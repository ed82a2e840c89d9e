"""Fixtures for the channel tests: a fake Zalo Bot API and a client on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from bot.zalo_channel import ZaloApi
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

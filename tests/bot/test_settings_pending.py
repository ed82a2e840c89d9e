"""DONDOC_PENDING_MINUTES: how long a question the bot asked waits for its answer."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.settings import SettingsError, load_settings
from handlers.state import PENDING_TTL


def test_pending_minutes_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DONDOC_PENDING_MINUTES", raising=False)
    assert load_settings().pending_ttl == PENDING_TTL == timedelta(minutes=30)
    monkeypatch.setenv("DONDOC_PENDING_MINUTES", "10")
    assert load_settings().pending_ttl == timedelta(minutes=10)


@pytest.mark.parametrize("value", ["0", "-5", "nửa giờ"])
def test_pending_minutes_must_be_a_positive_number(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("DONDOC_PENDING_MINUTES", value)
    with pytest.raises(SettingsError, match="DONDOC_PENDING_MINUTES"):
        load_settings()

"""Shared fixtures: a migrated database per test, the example files, fixed clocks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage.db import make_engine
from storage.schema import migrate

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "plans" / "examples"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """A fresh SQLite file for one test."""
    return f"sqlite:///{tmp_path / 'dondoc.db'}"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A migrated engine on the test database."""
    eng = make_engine(database_url)
    migrate(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on the test database (tests commit explicitly)."""
    with Session(engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture
def examples() -> Path:
    """The folder of example units and plans shipped with dondoc."""
    return EXAMPLES

"""Database helpers for tests."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import SQLModel


def snapshot(engine: Engine) -> dict[str, list[tuple]]:
    """Every row of every table, for before/after comparisons."""
    found: dict[str, list[tuple]] = {}
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            found[table.name] = sorted(map(tuple, conn.execute(table.select()).all()), key=repr)
    return found

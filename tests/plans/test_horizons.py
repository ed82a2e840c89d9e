"""The tick's horizon check: idle when every plan's horizon is far enough, extending otherwise."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from plans.horizons import extend_horizons
from storage.models import Occurrence, Plan
from tests.utils.clock import local_time
from tests.utils.world import build_world

IMPORTED = local_time("2026-11-02 09:00")
MONTHLY = [("1", "TRUONG", "Tháng 11 hằng năm"), ("2", "TRUONG", "Ngày 5 hằng tháng")]


def statements_of(engine: Engine, now: str) -> tuple[list[str], bool]:
    """The SQL an `extend_horizons` call at `now` runs, and whether it changed anything."""
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", record)
    try:
        summary = extend_horizons(engine, now=local_time(now))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return statements, summary.changed


def test_an_idle_tick_reads_the_plans_once_and_nothing_else(engine: Engine, tmp_path: Path) -> None:
    build_world(engine, tmp_path, now=IMPORTED, schools=3, tasks=MONTHLY)
    statements, changed = statements_of(engine, "2026-12-15 08:00")
    assert not changed
    assert len(statements) == 1
    assert "task" not in statements[0].lower() and "occurrence" not in statements[0].lower()


def test_a_new_year_moves_the_horizon_and_adds_its_occurrences(
    engine: Engine, tmp_path: Path
) -> None:
    build_world(engine, tmp_path, now=IMPORTED, schools=3, tasks=MONTHLY)
    with Session(engine) as session:
        before = session.exec(select(func.count()).select_from(Occurrence)).one()
    _, changed = statements_of(engine, "2027-01-04 08:00")
    assert changed
    with Session(engine) as session:
        assert session.exec(select(Plan.horizon)).one().isoformat() == "2028-12-31"
        after = session.exec(select(func.count()).select_from(Occurrence)).one()
    assert after == before + 3 * (1 + 12)  # each school: November 2028 and the 5th of each month
    statements, changed = statements_of(engine, "2027-01-04 08:01")
    assert not changed and len(statements) == 1

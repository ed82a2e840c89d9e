"""Importing units and plans: group expansion, idempotence, reports kept across re-imports."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from plans.importer import import_units, load_and_import_plan
from plans.units_file import load_units_file
from storage.db import session_scope
from storage.models import Assignment, Occurrence, Plan, Report, Task, Unit
from tests.utils.clock import local_time
from tests.utils.db import snapshot

NOW = local_time("2024-12-02 09:00")


def load_examples(engine: Engine, examples: Path) -> None:
    """Import the example units and both example plans."""
    with session_scope(engine) as session:
        import_units(session, load_units_file(examples / "units.yaml"))
    for name in ("kh-gddt-2023.yaml", "kh-315-hu.yaml"):
        with session_scope(engine) as session:
            load_and_import_plan(session, examples / name, now=NOW)


def test_group_owner_becomes_one_assignment_per_school(engine: Engine, examples: Path) -> None:
    load_examples(engine, examples)
    with Session(engine) as session:
        schools = session.exec(
            select(func.count()).select_from(Unit).where(Unit.code.like("THCS_%"))  # type: ignore[attr-defined]
        ).one()
        task = session.exec(select(Task).where(Task.key == "IV.10.2")).one()
        owners = session.exec(
            select(Unit.code).join(Assignment).where(Assignment.task_id == task.id)
        ).all()
    assert len(owners) >= 3 * schools
    assert {o.split("_")[0] for o in owners} == {"MN", "TH", "THCS"}


def test_recurring_task_has_one_occurrence_per_year(engine: Engine, examples: Path) -> None:
    load_examples(engine, examples)
    with Session(engine) as session:
        task = session.exec(select(Task).where(Task.key == "IV.3")).one()  # tháng 11 hằng năm
        dues = session.exec(
            select(Occurrence.due_date)
            .join(Assignment)
            .where(Assignment.task_id == task.id)
            .order_by(Occurrence.due_date)
        ).all()
    assert [d.isoformat() for d in dues] == ["2023-11-30", "2024-11-30", "2025-11-30"]


def test_importing_twice_changes_nothing(engine: Engine, examples: Path) -> None:
    load_examples(engine, examples)
    before = snapshot(engine)
    with session_scope(engine) as session:
        _, summary = load_and_import_plan(session, examples / "kh-315-hu.yaml", now=NOW)
    assert not summary.changed
    assert snapshot(engine) == before


def test_changed_plan_keeps_reports(engine: Engine, examples: Path, tmp_path: Path) -> None:
    load_examples(engine, examples)
    with session_scope(engine) as session:
        occurrence = session.exec(
            select(Occurrence)
            .join(Assignment)
            .join(Task)
            .join(Plan)
            .where(Plan.code == "KH-315-HU", Task.key == "I.2")
        ).first()
        assert occurrence is not None
        session.add(
            Report(occurrence_id=occurrence.id, status="done", note="Đã ban hành", created_at=NOW)
        )
        occurrence.status = "done"
        removed = session.exec(
            select(Occurrence).join(Assignment).join(Task).where(Task.key == "II.1")
        ).one()
        session.add(Report(occurrence_id=removed.id, status="in_progress", created_at=NOW))
        kept_id, removed_id = occurrence.id, removed.id
    text = (examples / "kh-315-hu.yaml").read_text(encoding="utf-8")
    changed = text.replace("due: Tháng 12/2024", "due: Tháng 1/2025", 1)
    # Drop task II.1 (and its comment block) from the file.
    start = changed.index("  - id: II.1")
    end = changed.index("  - id: III.1")
    changed = changed[:start] + changed[end:]
    path = tmp_path / "kh-315-hu.yaml"
    path.write_text(changed, encoding="utf-8")
    with session_scope(engine) as session:
        _, summary = load_and_import_plan(session, path, now=NOW)
    assert summary.changed
    with Session(engine) as session:
        kept = session.get(Occurrence, kept_id)
        assert kept is not None and kept.active
        assert kept.status == "done"
        assert kept.due_date.isoformat() == "2025-01-31"
        assert (
            session.exec(select(Report).where(Report.occurrence_id == kept_id)).one().note
            == "Đã ban hành"
        )
        gone_task = session.exec(select(Task).where(Task.key == "II.1")).one()
        assert not gone_task.active
        assert session.exec(select(Report).where(Report.occurrence_id == removed_id)).one()

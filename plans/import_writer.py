"""An import's writes: batched statements, each task's changes, and the count of them."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import bindparam, case, exists, update
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, SQLModel, col, delete, select

from plans.expansion import Changes
from storage.db import insert_ignore, is_sqlite, read_session, session_scope, table_of
from storage.models import Assignment, Occurrence

BATCH_ROWS = 2_000  # rows per write transaction while a new plan is invisible


# SQLite has one write lock, and a waiting writer's busy handler polls it with growing sleeps
# (up to 100 ms): a writer that takes it again at once starves a reply waiting for it. After
# each batch the importer leaves the lock free for this share of the time it held it.
YIELD_RATIO = 0.5


Progress = Callable[[int], None]


@dataclass
class ImportSummary:
    """What an import changed, for the command line."""

    created: int = 0
    updated: int = 0
    deactivated: int = 0
    occurrences: int = 0
    missing: list[str] = field(default_factory=list)  # active units a units file leaves out
    retired: list[str] = field(default_factory=list)  # units this import retired

    @property
    def changed(self) -> bool:
        """Whether anything was written."""
        counts = (self.created, self.updated, self.deactivated, self.occurrences)
        return any(counts) or bool(self.retired)

    def add(self, other: ImportSummary) -> None:
        """Count another summary's changes in this one."""
        self.created += other.created
        self.updated += other.updated
        self.deactivated += other.deactivated
        self.occurrences += other.occurrences


def assign(row: Any, values: dict[str, Any]) -> bool:
    """Set the fields that differ; tell whether anything changed (so re-imports stay no-ops)."""
    changed = {k: v for k, v in values.items() if getattr(row, k) != v}
    for key, value in changed.items():
        setattr(row, key, value)
    return bool(changed)


ACTIVATE_ASSIGNMENT = (
    update(Assignment)
    .where(col(Assignment.id) == bindparam("row_id"))
    .values(active=True, ended_on=None, role=bindparam("role"))
)


END_ASSIGNMENT = (
    update(Assignment)
    .where(col(Assignment.id) == bindparam("row_id"))
    .values(active=False, ended_on=bindparam("day"))
)


MOVE_OCCURRENCE = (
    update(Occurrence)
    .where(col(Occurrence.id) == bindparam("row_id"))
    .values(
        due_date=bindparam("due"),
        active=True,
        until=None,
        # A done occurrence needs no reminder; the others start again from the new date.
        next_reminder_at=case(
            (col(Occurrence.status) == "done", col(Occurrence.next_reminder_at)),
            else_=bindparam("next", type_=table_of(Occurrence).c.next_reminder_at.type),
        ),
    )
)


RETIRE_OCCURRENCE = (
    update(Occurrence)
    .where(col(Occurrence.id) == bindparam("row_id"))
    .values(active=False, next_reminder_at=None)
)


# Tracked until today: reports dated before it still show the row (reports/reads.py).
CLOSE_OCCURRENCE = (
    update(Occurrence)
    .where(col(Occurrence.id) == bindparam("row_id"))
    .values(active=False, next_reminder_at=None, until=bindparam("until"))
)


@cache
def _delete_unreferenced() -> Any:
    """Delete an occurrence unless a row refers to it (report, outbox row, reply code, …).

    Checked in the writing transaction, so a reminder sent since the read is seen; the
    referring columns come from the schema, so a new table that points at occurrences counts.
    """
    table = table_of(Occurrence)
    references = [
        fk.parent
        for other in SQLModel.metadata.sorted_tables
        for fk in other.foreign_keys
        if fk.column.table is table
    ]
    return delete(table).where(
        table.c.id == bindparam("row_id"),
        *(~exists().where(column == table.c.id) for column in references),
    )


def write_changes(
    writer: BatchWriter, task_id: int, changes: Changes, summary: ImportSummary
) -> None:
    """Write one task's changes; occurrences no longer wanted are retired or, unused, deleted."""
    writer.execute(ACTIVATE_ASSIGNMENT, changes.activated)
    writer.execute(END_ASSIGNMENT, changes.ended)
    writer.insert(
        Assignment,
        [
            {"task_id": task_id, "unit_id": u, "active": True, "role": role, "starts_on": starts}
            for u, role, starts in changes.new_units
        ],
    )
    if changes.new_occurrences:
        ids = dict(
            writer.read(
                select(Assignment.unit_id, Assignment.id).where(Assignment.task_id == task_id)
            )
        )
        writer.insert(
            Occurrence,
            [
                {
                    "assignment_id": ids[unit_id],
                    "period": period,
                    "due_date": due,
                    "next_reminder_at": first,
                    "status": "none",
                    "active": True,
                    "since": since,
                }
                for unit_id, period, due, first, since in changes.new_occurrences
            ],
        )
    writer.execute(MOVE_OCCURRENCE, changes.moved)
    retired = [{"row_id": i} for i in changes.retired]
    writer.execute(_delete_unreferenced(), retired)
    writer.execute(RETIRE_OCCURRENCE, retired)  # those still there: something refers to them
    writer.execute(CLOSE_OCCURRENCE, changes.closed)
    summary.created += len(changes.new_units)
    summary.updated += len(changes.activated) + len(changes.moved)
    summary.deactivated += len(changes.ended) + len(changes.retired) + len(changes.closed)
    summary.occurrences += len(changes.new_occurrences)


class BatchWriter:
    """An import's writes: in `session` when one is set, else in short transactions."""

    def __init__(
        self, engine: Engine | Connection, *, size: int, progress: Progress | None = None
    ) -> None:
        self.bind = engine
        self.yields = is_sqlite(engine)
        self.session: Session | None = None
        self.size = size
        self.progress = progress
        self.written = 0

    def execute(self, statement: Any, rows: list[dict[str, Any]]) -> None:
        """Run a statement for each row (executemany), `size` rows at a time."""
        self._run(lambda session, chunk: session.connection().execute(statement, chunk), rows)

    def insert(self, model: type, rows: list[dict[str, Any]]) -> None:
        """Insert rows, skipping those already there (a concurrent tick may have added them)."""
        self._run(lambda session, chunk: insert_ignore(session, model, chunk), rows)

    def read(self, query: Any) -> Sequence[Any]:
        """Rows of a query, seeing what this writer wrote."""
        if self.session is not None:
            return self.session.execute(query).all()
        with read_session(self.engine) as session:
            return session.execute(query).all()

    @property
    def engine(self) -> Engine:
        """The engine for the writer's own transactions (a writer in a session has none)."""
        assert isinstance(self.bind, Engine), "a writer given a connection writes in its session"
        return self.bind

    def _run(self, work: Callable[[Session, list[dict[str, Any]]], object], rows: list) -> None:
        """Do `work` on chunks of rows, each in its own transaction unless a session is set."""
        for start in range(0, len(rows), self.size):
            chunk = rows[start : start + self.size]
            if self.session is not None:
                work(self.session, chunk)
            else:
                started = time.monotonic()
                with session_scope(self.engine) as session:
                    work(session, chunk)
                if self.yields:
                    time.sleep((time.monotonic() - started) * YIELD_RATIO)
            self.written += len(chunk)
            if self.progress is not None:
                self.progress(self.written)

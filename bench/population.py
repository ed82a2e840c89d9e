"""Bulk-built databases for the scheduler and inbound benchmarks (fast inserts, no ORM objects)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Engine

from storage.models import Assignment, Contact, Occurrence, Plan, Task, Unit

CHUNK = 20_000


def _chunks(rows: list[dict[str, Any]]) -> Any:
    """Split a long insert into statements SQLite accepts quickly."""
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


def populate(
    engine: Engine,
    *,
    units: int,
    occurrences_per_unit: int = 1,
    due: date,
    next_reminder_at: datetime | None,
    contacts: bool = True,
    channel: str = "telegram",
    contacts_per_chat: int = 1,
    coordinators: int = 0,
) -> None:
    """Units (each with a contact), one plan with one task, and occurrences per unit.

    `contacts_per_chat` > 1 gives one chat the contacts of that many units (a person answering
    for several schools); `coordinators` registers that many coordinators of the plan (PGDDT).
    """
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(Unit), [{"id": 1, "code": "PGDDT", "name": "Phòng GD&ĐT", "aliases": []}]
        )
        for chunk in _chunks(
            [
                {
                    "id": i + 2,
                    "code": f"U{i:06d}",
                    "name": f"Trường số {i + 1}",
                    "parent_code": "PGDDT",
                    "aliases": [],
                }
                for i in range(units)
            ]
        ):
            conn.execute(insert(Unit), chunk)
        conn.execute(
            insert(Plan),
            [
                {
                    "id": 1,
                    "code": "KH-BENCH",
                    "title": "Kế hoạch đo",
                    "issued": date(2026, 1, 1),
                    "coordinator_code": "PGDDT",
                    "reminders": {},
                    "imported_at": now,
                    "horizon": date(2030, 12, 31),
                }
            ],
        )
        conn.execute(
            insert(Task),
            [
                {
                    "id": 1,
                    "plan_id": 1,
                    "key": "1",
                    "title": "Rà soát cơ sở vật chất trường học",
                    "owner_code": "PGDDT",
                    "partners": [],
                    "due_text": "Hằng năm",
                    "due_kind": "dated",
                }
            ],
        )
        for chunk in _chunks([{"id": i + 1, "task_id": 1, "unit_id": i + 2} for i in range(units)]):
            conn.execute(insert(Assignment), chunk)
        rows = []
        for i in range(units):
            for k in range(occurrences_per_unit):
                day = due + timedelta(days=366 * k)
                rows.append(
                    {
                        "assignment_id": i + 1,
                        "period": f"p{k}",
                        "due_date": day,
                        "next_reminder_at": next_reminder_at,
                    }
                )
                if len(rows) >= CHUNK:
                    conn.execute(insert(Occurrence), rows)
                    rows = []
        if rows:
            conn.execute(insert(Occurrence), rows)
        if contacts:
            for chunk in _chunks(
                [
                    {
                        "channel": channel,
                        "chat_id": str(10_000 + i // contacts_per_chat),
                        "unit_id": i + 2,
                        "role": "contact",
                        "display_name": "",
                        "created_at": now,
                    }
                    for i in range(units)
                ]
            ):
                conn.execute(insert(Contact), chunk)
        if coordinators:
            coordinator = {"channel": channel, "unit_id": 1, "role": "coordinator"}
            conn.execute(
                insert(Contact),
                [
                    {**coordinator, "chat_id": str(900_000 + i), "created_at": now}
                    for i in range(coordinators)
                ],
            )

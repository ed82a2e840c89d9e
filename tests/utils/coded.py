"""Schools whose contacts have an open task with a short code, as a sent reminder leaves them."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from storage.models import Assignment, Contact, Occurrence
from storage.queries import ensure_ref_code
from tests.utils.clock import local_time
from tests.utils.world import build_world


def coded_schools(
    engine: Engine, folder: Path, *, schools: int = 1, channel: str = "telegram"
) -> dict[str, str]:
    """`schools` registered school contacts with one task due 30/11/2026: chat id → its code."""
    world = build_world(
        engine,
        folder,
        now=local_time("2026-11-02 09:00"),
        schools=schools,
        channel=channel,
        tasks=[("1", "TRUONG", "30/11/2026")],
    )
    codes: dict[str, str] = {}
    with Session(engine) as session:
        for chat in world.school_chats.values():
            contact = session.exec(select(Contact).where(Contact.chat_id == chat)).one()
            occurrence = session.exec(
                select(Occurrence)
                .join(Assignment, Assignment.id == Occurrence.assignment_id)
                .where(Assignment.unit_id == contact.unit_id)
            ).one()
            codes[chat] = ensure_ref_code(
                session=session,
                contact_id=contact.id,  # type: ignore[arg-type]
                occurrence_id=occurrence.id,  # type: ignore[arg-type]
                now=local_time("2026-11-23 08:00"),
            )
        session.commit()
    return codes

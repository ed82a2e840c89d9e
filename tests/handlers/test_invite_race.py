"""An invite registers one chat, even when two chats redeem it at the same moment."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from chat.texts import to_plain
from handlers.conversation import handle_incoming
from handlers.invites import create_invite
from handlers.types import Incoming
from storage.db import session_scope
from storage.models import Contact, Invite
from tests.handlers.conftest import NOW
from tests.utils.world import build_world

ROUNDS = 30
RACERS = 2


def redeem_together(engine: Engine, code: str, chats: list[str]) -> list[str]:
    """Every chat sends `/start code` at once (a barrier lines them up); their answers."""
    barrier = threading.Barrier(len(chats))

    def redeem(chat_id: str) -> str:
        incoming = Incoming("telegram", chat_id, f"start-{chat_id}", text=f"/start {code}")
        barrier.wait()
        outcome = handle_incoming(engine, incoming, now=NOW)
        return "\n".join(to_plain(m.text) for m in outcome.messages)

    with ThreadPoolExecutor(len(chats)) as pool:
        return list(pool.map(redeem, chats))


def test_an_invite_registers_one_chat_even_under_a_race(engine: Engine, tmp_path: Path) -> None:
    build_world(engine, tmp_path, now=NOW, schools=1, register=False)
    for round_ in range(ROUNDS):
        with session_scope(engine) as session:
            code = create_invite(session, unit_code="THCS_0001", role="contact", now=NOW).code
        chats = [f"race-{round_}-{i}" for i in range(RACERS)]
        answers = redeem_together(engine, code, chats)
        welcomed = [a for a in answers if "Đăng ký thành công" in a]
        assert len(welcomed) == 1, f"round {round_}: {answers}"
        assert sum("không hợp lệ" in a for a in answers) == RACERS - 1
        with Session(engine) as session:
            registered = session.exec(
                select(func.count()).select_from(Contact).where(Contact.chat_id.in_(chats))  # type: ignore[attr-defined]
            ).one()
            assert registered == 1, f"round {round_}: {registered} chats registered"
    with Session(engine) as session:
        invites = session.exec(select(Invite)).all()
        assert all(i.used_at is not None and i.used_by is not None for i in invites)

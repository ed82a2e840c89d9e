"""Coordinators see claims numbered 1, 2, 3 and type those numbers, never database ids."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from storage.models import Occurrence, Report
from tests.handlers.conftest import NOW, Chat, Scene
from tests.handlers.test_conversation import text_of


def test_typed_positions_name_the_lines_of_the_list_shown(engine: Engine, scene: Scene) -> None:
    scene.principal.send(f"{scene.codes['B']} 1 nộp sớm", at=NOW)
    scene.principal.send(f"{scene.codes['A']} 1 đã xong", at=NOW + timedelta(minutes=1))
    coordinator = Chat(engine, scene.coordinator.chat_id)
    listed = text_of(coordinator.send("xacnhan", at=NOW + timedelta(minutes=5)))
    numbers = re.findall(r"^(\d+)\. ", listed, re.M)
    assert numbers == ["1", "2"]  # positions, not the occurrences' ids (3 and 1 here)
    lines = [line for line in listed.splitlines() if re.match(r"\d+\. ", line)]
    assert " · B · " in lines[0] and " · A · " in lines[1]  # oldest claim first
    # Confirming 1 does not shift the list: 2 is still task A, as it was shown.
    assert "nhiệm vụ B" in text_of(coordinator.send("xacnhan ok 1", at=NOW + timedelta(minutes=6)))
    returned = coordinator.send("xacnhan tralai 2 Thiếu biên bản", at=NOW + timedelta(minutes=7))
    assert "Đã trả lại báo cáo nhiệm vụ A" in text_of(returned)
    with Session(engine) as session:
        reasons = [r.return_reason for r in session.exec(select(Report).order_by(Report.id))]
    assert reasons == [None, "Thiếu biên bản"]


def test_a_position_not_in_the_list_is_refused_and_changes_nothing(
    engine: Engine, scene: Scene
) -> None:
    scene.principal.send(f"{scene.codes['B']} 1")
    with Session(engine) as session:
        claim = session.exec(select(Occurrence).where(Occurrence.status == "done")).one()
    coordinator = Chat(engine, scene.coordinator.chat_id)
    unlisted = text_of(coordinator.send(f"xacnhan ok {claim.id}"))  # never listed: no positions
    assert "Không có báo cáo số" in unlisted and "xacnhan" in unlisted
    coordinator.send("xacnhan")
    assert "Không có báo cáo số 5" in text_of(coordinator.send("xacnhan ok 5"))
    stale = text_of(coordinator.send("xacnhan ok 1", at=NOW + timedelta(days=2)))  # list expired
    assert "Không có báo cáo số 1" in stale
    with Session(engine) as session:
        assert (
            session.exec(select(Occurrence.confirmed_at).where(Occurrence.id == claim.id)).one()
            is None
        )

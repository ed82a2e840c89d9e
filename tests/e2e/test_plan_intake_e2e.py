"""The real `dondoc run` against telegram-test-api: a coordinator sends a plan's document, checks
the draft the bot sends back, sends the corrected file and imports it with a tap."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from storage.models import Plan, PlanDraft, Task
from tests.e2e.dondoc_process import ROOT, dondoc, dondoc_run
from tests.e2e.telegram_emulator import Emulator
from tests.e2e.test_telegram_e2e import invite

pytestmark = pytest.mark.e2e

SEED = ROOT / "tests" / "plans" / "intake" / "data" / "phu-luc-nhiem-vu-kh-315-KH-HU.txt"
DOUBTFUL_TITLE = (
    "title: Kế hoạch số 315-KH/HU  # KIỂM TRA: không thấy tên kế hoạch (dòng sau «KẾ HOẠCH»)"
)


def test_a_coordinator_drafts_corrects_and_imports_a_plan_by_chat(
    telegram_emulator: Emulator, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    token = telegram_emulator.new_token()
    env = telegram_emulator.dondoc_env(token, database_url)
    dondoc(env, "units", "import", str(ROOT / "plans" / "examples" / "units.yaml"))
    coordinator_code = invite(env, "HUYEN_UY", "coordinator")
    principal_code = invite(env, "THCS_CAM_VU", "contact")
    coordinator = telegram_emulator.user("Văn phòng Huyện ủy", token=token)
    principal = telegram_emulator.user("Hiệu trưởng", token=token)

    with dondoc_run(env, tmp_path / "run.log"):
        coordinator.send_command(f"/start {coordinator_code}")
        coordinator.wait_for_text("Đăng ký thành công")
        principal.send_command(f"/start {principal_code}")
        principal.wait_for_text("Đăng ký thành công")

        coordinator.send_document(SEED.name, SEED.read_bytes(), mime_type="text/plain")
        summary = coordinator.wait_for_text("Bản nháp kế hoạch KH-315-HU", timeout=60)
        assert "9 nhiệm vụ" in summary.plain_text
        assert "1 chỗ cần kiểm tra" in summary.plain_text
        file = coordinator.wait_for(lambda m: m.document is not None, description="the draft")
        assert file.document is not None
        assert file.document["file_name"] == "phu-luc-nhiem-vu-kh-315-KH-HU.draft.yaml"
        draft = telegram_emulator.download(file.document["file_id"], token=token).decode()
        assert DOUBTFUL_TITLE in draft

        coordinator.click(summary, "Nhập kế hoạch")  # refused: a doubt remains
        coordinator.wait_for_text("còn 1 chỗ cần kiểm tra")

        fixed = draft.replace(DOUBTFUL_TITLE, "title: Kế hoạch thực hiện Kết luận 91-KL/TW")
        coordinator.send_document(file.document["file_name"], fixed.encode())
        checked = coordinator.wait_for_text("Không còn chỗ nào cần kiểm tra", timeout=60)
        coordinator.click(checked, "Nhập kế hoạch")
        coordinator.wait_for_text("Đã nhập kế hoạch KH-315-HU", timeout=60)
        coordinator.send_command("/status KH-315-HU")
        coordinator.wait_for_text("Tình hình thực hiện — Kế hoạch số 315-KH/HU")

        principal.send_document(SEED.name, SEED.read_bytes(), mime_type="text/plain")
        principal.wait_for_text("chưa biết gắn vào báo cáo nào", timeout=60)  # evidence, no draft
        assert not any(m.buttons for m in principal.bot_messages())

    with Session(engine) as session:
        plan = session.exec(select(Plan).where(Plan.code == "KH-315-HU")).one()
        tasks = session.exec(select(func.count()).where(col(Task.plan_id) == plan.id)).one()
        states = list(session.exec(select(PlanDraft.state).order_by(col(PlanDraft.id))))
    assert plan.visible and plan.title == "Kế hoạch thực hiện Kết luận 91-KL/TW"
    assert tasks == 9
    assert states == ["replaced", "imported"]

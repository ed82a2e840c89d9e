"""`make demo`, the product's front door: a simulated month with no token and no set-up."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook

from tests.e2e.dondoc_process import DONDOC, ROOT


@pytest.mark.slow  # a subprocess
def test_demo_simulates_a_month_and_writes_the_reports(tmp_path: Path) -> None:
    # Nothing configured: no token, no database URL, whatever the developer's shell holds.
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "ZALO_", "DONDOC_"))
    }
    out = tmp_path / "demo"
    result = subprocess.run(
        [*DONDOC, "demo", "--out", str(out)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    shown = result.stdout
    # One plan starts from its own document: its draft, summary and doubts come first.
    drafted = shown.split("Đọc văn bản kế hoạch phu-luc-nhiem-vu-kh-315-KH-HU.txt")[1]
    assert "9 nhiệm vụ, 1 chỗ cần kiểm tra" in drafted.split("📥")[0]
    assert "phu-luc-nhiem-vu-kh-315-KH-HU.draft.yaml:6: không thấy tên kế hoạch" in drafted
    assert (out / "phu-luc-nhiem-vu-kh-315-KH-HU.draft.yaml").read_text().startswith("# Bản nháp")
    assert shown.count("🔔 Nhắc việc") >= 20  # reminders arrive as the clock advances
    registrations = shown.split("Người dùng mô phỏng")[1].split("📅")[0]
    assert registrations.count("✅") == 20  # twenty people register through real invites
    assert "Đã xác nhận hoàn thành" in shown and "Đã trả lại báo cáo" in shown
    reports = sorted(p.name for p in (out / "reports").iterdir())
    assert reports == sorted(
        f"bao-cao-{plan}.{ext}"
        for plan in ("KH-315-HU", "KH-GDDT-2023")
        for ext in ("md", "html", "docx", "xlsx")
    )
    assert f"Xong: 8 tệp báo cáo trong {out / 'reports'}." in shown
    docx = Document(str(out / "reports" / "bao-cao-KH-GDDT-2023.docx"))
    assert any(p.text.strip() == "BÁO CÁO" for p in docx.paragraphs)
    sheet = load_workbook(out / "reports" / "bao-cao-KH-GDDT-2023.xlsx").active
    assert sheet is not None and sheet.max_row > 10
    # Simulated contacts give the figures the example plans ask for: in chat, then in the files.
    assert "Số liệu nhiệm vụ" in shown and "Chỉ tiêu" in shown
    assert "Phòng học kiên cố trên tổng số phòng học (mục tiêu đến năm 2030): " in shown
    figures = (out / "reports" / "bao-cao-KH-315-HU.md").read_text(encoding="utf-8")
    assert "## 6. Số liệu chỉ tiêu" in figures and "**Tổng hợp**" in figures
    assert "Chỉ tiêu" in load_workbook(out / "reports" / "bao-cao-KH-315-HU.xlsx").sheetnames

"""The XLSX carries the "đơn vị đã giải thể" footnote the other report formats carry."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session

from plans.units_import import retire_unit
from reports.figures import build_report
from reports.files import write_report
from storage.db import session_scope
from tests.utils.clock import local_time
from tests.utils.world import build_world


def test_the_workbook_footnotes_work_closed_with_a_dissolved_unit(
    engine: Engine, tmp_path: Path
) -> None:
    build_world(engine, tmp_path, now=local_time("2026-11-02 09:00"), schools=2)
    with session_scope(engine) as session:
        retire_unit(session, "THCS_0001", into=None, now=local_time("2026-11-16 09:00"))
    with Session(engine) as session:
        report = build_report(session, plan_code="KH-TEST", at=date(2026, 12, 31))
    path = write_report(report, "xlsx", tmp_path / "bao-cao.xlsx")
    summary = load_workbook(path).worksheets[0]
    texts = [str(c.value) for row in summary.iter_rows() for c in row if c.value is not None]
    (note,) = [t for t in texts if "đơn vị đã giải thể" in t]
    assert "Không tính vào tỷ lệ 1 lượt" in note
    assert "Trường THCS số 1 (giải thể ngày 16/11/2026) — nhiệm vụ 1, hạn 30/11/2026." in note

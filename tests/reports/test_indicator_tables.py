"""Indicator tables in the report: a row per unit, subtotals by the tree, totals, every format."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import docx
import openpyxl
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from plans.importer import load_and_import_plan
from plans.indicator_store import record_values, task_indicators
from plans.indicator_values import parse_value
from reports.chat_text import build_digest_text, build_status_text
from reports.digest import week_summary
from reports.figures import build_report, build_status
from reports.files import write_report
from reports.model import PlanReport
from storage.db import session_scope
from storage.models import Assignment, Occurrence, Task, TaskIndicator, Unit
from tests.utils.clock import local_time
from tests.utils.indicator_world import PLAN, indicator_world

AT = date(2026, 11, 23)
IMPORTED = local_time("2026-11-02 09:00")


def give(
    engine: Engine, unit: str, figures: dict[str, str], at: datetime, *, due: date | None = None
) -> None:
    """A school's figures for task A (written as a contact would), on its period due `due`."""
    with session_scope(engine) as session:
        task = session.exec(select(Task).where(Task.key == "A")).one()
        assert task.id is not None
        indicators = {i.spec.code: i for i in task_indicators(session, [task.id])[task.id]}
        query = (
            select(Occurrence)
            .join(Assignment, Assignment.id == Occurrence.assignment_id)
            .join(Unit, Unit.id == Assignment.unit_id)
            .where(Assignment.task_id == task.id, Unit.code == unit)
            .order_by(Occurrence.due_date)  # type: ignore[arg-type]
        )
        occurrence = next(o for o in session.exec(query) if due is None or o.due_date == due)
        assert occurrence.id is not None
        values = {
            indicators[code].id: parse_value(indicators[code].spec, text)
            for code, text in figures.items()
        }
        record_values(session, occurrence_id=occurrence.id, contact_id=None, values=values, now=at)


@pytest.fixture
def report(engine: Engine, tmp_path: Path) -> PlanReport:
    """Two of three schools reported task A's figures; one corrected a figure since."""
    indicator_world(engine, tmp_path, now=IMPORTED, register=False)
    give(engine, "THCS_0001", {"phong": "40/50", "ns": "1.000"}, local_time("2026-11-10 09:00"))
    give(engine, "THCS_0001", {"phong": "46/50", "ht": "không"}, local_time("2026-11-20 09:00"))
    give(
        engine,
        "THCS_0002",
        {"phong": "50/50", "ns": "234,5", "ht": "có"},
        local_time("2026-11-21 09:00"),
    )
    with Session(engine) as session:
        return build_report(session, plan_code="KH-TEST", at=AT)


def test_a_table_per_task_with_a_row_per_unit_in_tree_order(report: PlanReport) -> None:
    (table,) = report.indicators  # task B asks no figure
    assert table.task.key == "A" and table.due_date == date(2026, 11, 30)
    assert table.headers() == [
        "Phòng học kiên cố (phòng)",
        "Kinh phí sửa chữa (triệu đồng)",
        "Đã quán triệt",
    ]
    assert [(line.unit.code, table.cells(line)) for line in table.lines] == [
        ("THCS_0001", ["46/50 (92%)", "1.000", "không"]),  # the correction wins, ns stays
        ("THCS_0002", ["50/50 (100%)", "234,5", "có"]),
        ("THCS_0003", ["", "", ""]),
    ]
    assert table.subtotal_lines() == [
        ("Cộng: Cụm trường số 1", ["96/100 (96%)", "Tổng: 1.234,5", "Trả lời «có»: 1/2 (50%)"]),
        ("Cộng: Cụm trường số 2", ["—", "—", "—"]),
    ]
    assert table.summary() == [
        ("Tổng hợp", ["96/100 (96%)", "Tổng: 1.234,5", "Trả lời «có»: 1/2 (50%)"]),
        ("Mục tiêu", ["100% — chưa đạt", "—", "—"]),
        ("Đơn vị đạt mục tiêu", ["1/3 (mục tiêu 100%)", "—", "1/3 (mục tiêu có)"]),
        ("Đơn vị chưa báo cáo", ["1", "1", "1"]),
    ]
    assert table.headlines()[0] == (
        "Phòng học kiên cố: 96/100 (96%) — mục tiêu 100% (1 đơn vị chưa báo cáo)"
    )


def test_a_report_at_an_earlier_date_shows_the_figures_as_they_stood(
    engine: Engine, report: PlanReport
) -> None:
    with Session(engine) as session:
        earlier = build_report(session, plan_code="KH-TEST", at=date(2026, 11, 15))
    (table,) = earlier.indicators
    assert [table.cells(line)[0] for line in table.lines] == ["40/50 (80%)", "", ""]


def test_the_figures_are_those_of_the_latest_period_with_any(
    engine: Engine, tmp_path: Path
) -> None:
    indicator_world(engine, tmp_path, now=IMPORTED, due_a="ngày 25 hằng tháng", register=False)
    give(engine, "THCS_0001", {"phong": "45/50"}, local_time("2026-11-20 09:00"))
    with Session(engine) as session:
        (table,) = build_report(session, plan_code="KH-TEST", at=date(2026, 12, 10)).indicators
    assert table.due_date == date(2026, 11, 25)  # December's period has no figure yet
    give(
        engine,
        "THCS_0002",
        {"phong": "30/50"},
        local_time("2026-12-09 09:00"),
        due=date(2026, 12, 25),
    )
    with Session(engine) as session:
        (table,) = build_report(session, plan_code="KH-TEST", at=date(2026, 12, 10)).indicators
    assert table.due_date == date(2026, 12, 25)
    assert [table.cells(line)[0] for line in table.lines] == ["", "30/50 (60%)", ""]  # no mix


def test_a_plan_without_indicators_gets_no_table(engine: Engine, tmp_path: Path) -> None:
    indicator_world(engine, tmp_path, now=IMPORTED, register=False)
    plain = PLAN.split("    indicators:")[0] + PLAN.split("        target_unit: có\n")[1]
    (tmp_path / "plan.yaml").write_text(
        plain.replace("{due_a}", "30/11/2026").replace("{due_b}", "26/11/2026"), encoding="utf-8"
    )
    load_and_import_plan(engine, tmp_path / "plan.yaml", now=IMPORTED)
    with Session(engine) as session:
        report = build_report(session, plan_code="KH-TEST", at=AT)
        assert not session.exec(select(TaskIndicator).where(TaskIndicator.active)).all()
    assert report.indicators == []
    write_report(report, "md", tmp_path / "r.md")
    write_report(report, "xlsx", tmp_path / "r.xlsx")
    assert "Số liệu chỉ tiêu" not in (tmp_path / "r.md").read_text(encoding="utf-8")
    assert "Chỉ tiêu" not in openpyxl.load_workbook(tmp_path / "r.xlsx").sheetnames


def test_markdown_and_html_print_the_tables(report: PlanReport, tmp_path: Path) -> None:
    md = write_report(report, "md", tmp_path / "r.md").read_text(encoding="utf-8")
    section = md.split("## 6. Số liệu chỉ tiêu")[1]
    assert "| 1 | Trường THCS số 1 | 46/50 (92%) | 1.000 | không |" in section
    assert "| | **Tổng hợp** | 96/100 (96%) | Tổng: 1.234,5 | Trả lời «có»: 1/2 (50%) |" in section
    html = write_report(report, "html", tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<th>Cộng: Cụm trường số 1</th><td>96/100 (96%)</td>" in html
    assert "<tr><td>1</td><td>Trường THCS số 1</td><td>46/50 (92%)</td>" in html


def test_docx_appendix_has_the_table(report: PlanReport, tmp_path: Path) -> None:
    document = docx.Document(str(write_report(report, "docx", tmp_path / "r.docx")))
    table = document.tables[-1]
    cells = [[cell.text for cell in row.cells] for row in table.rows]
    assert cells[0] == ["TT", "Đơn vị", *report.indicators[0].headers()]
    assert cells[1] == ["1", "Trường THCS số 1", "46/50 (92%)", "1.000", "không"]
    assert cells[6] == ["", "Tổng hợp", "96/100 (96%)", "Tổng: 1.234,5", "Trả lời «có»: 1/2 (50%)"]
    assert table.rows[6].cells[1].paragraphs[0].runs[0].bold
    texts = [p.text for p in document.paragraphs]
    assert "SỐ LIỆU CHỈ TIÊU" in texts
    assert "Nhiệm vụ A — Rà soát cơ sở vật chất, báo cáo phòng học kiên cố" in texts


def test_xlsx_has_numbers_and_totals_as_formulas(report: PlanReport, tmp_path: Path) -> None:
    path = write_report(report, "xlsx", tmp_path / "r.xlsx")
    formulas = openpyxl.load_workbook(path)["Chỉ tiêu"]
    cached = openpyxl.load_workbook(path, data_only=True)["Chỉ tiêu"]
    header = [c.value for c in formulas[1]]
    assert header[:4] == [
        "TT",
        "Mã đơn vị",
        "Đơn vị",
        "A · Phòng học kiên cố (phòng): số đạt (kỳ hạn 30/11/2026)",
    ]
    units = [[c.value for c in row] for row in cached.iter_rows(min_row=2, max_row=4)]
    assert units[0] == [1, "THCS_0001", "Trường THCS số 1", 46, 50, 0.92, 1000, "không"]
    assert units[2][3:] == [None, None, None, None, None]  # not reported: blank cells
    assert (
        formulas["F2"].value == '=IF(N(E2)=0,"",D2/E2)' and formulas["F2"].number_format == "0.0%"
    )
    rows = {formulas.cell(r, 3).value: r for r in range(5, formulas.max_row + 1)}
    total = rows["Tổng hợp"]
    assert [formulas.cell(total, c).value for c in range(4, 9)] == [
        "=SUM(D2:D4)",
        "=SUM(E2:E4)",
        f'=IF(N(E{total})=0,"",D{total}/E{total})',
        "=SUM(G2:G4)",
        '=COUNTIF(H2:H4,"có")',
    ]
    assert [cached.cell(total, c).value for c in range(4, 9)] == [96, 100, 0.96, 1234.5, 1]
    cluster = rows["Cộng: Cụm trường số 1"]
    assert formulas.cell(cluster, 4).value == "=SUM(D2:D3)"
    met = rows["Đánh giá so với mục tiêu"]
    assert formulas.cell(met, 6).value == f'=IF(F{total}="","",IF(F{total}>=1,"đạt","chưa đạt"))'
    assert cached.cell(met, 6).value == "chưa đạt"
    meeting = rows["Đơn vị đạt mục tiêu"]
    assert formulas.cell(meeting, 6).value == '=COUNTIF(F2:F4,">=1")'
    assert [cached.cell(meeting, c).value for c in (6, 8)] == [1, 1]
    missing = rows["Đơn vị chưa báo cáo"]
    assert formulas.cell(missing, 4).value == "=COUNTBLANK(D2:D4)"
    assert cached.cell(missing, 4).value == 1


def test_status_and_digest_give_a_headline_per_indicator(
    engine: Engine, report: PlanReport
) -> None:
    expected = "Phòng học kiên cố: 96/100 (96%) — mục tiêu 100% (1 đơn vị chưa báo cáo)"
    with Session(engine) as session:
        view = build_status(session, at=AT, plan_code="KH-TEST")
        summary = week_summary(session, plan_code="KH-TEST", now=local_time("2026-11-23 07:30"))
    assert expected in build_status_text(view)
    assert summary.indicators[0] == expected
    digest = build_digest_text(summary, attached=True)
    assert expected in digest and "Kinh phí sửa chữa: 1.234,5 triệu đồng" in digest


def test_a_reimport_keeps_the_values_of_a_renamed_or_dropped_indicator(
    engine: Engine, report: PlanReport, tmp_path: Path
) -> None:
    changed = (
        PLAN.replace("{due_a}", "30/11/2026")
        .replace("{due_b}", "26/11/2026")
        .replace("name: Phòng học kiên cố", "name: Phòng học kiên cố, bán kiên cố")
        .replace(
            "      - code: ns\n        name: Kinh phí sửa chữa\n"
            "        unit: triệu đồng\n        kind: number\n",
            "",
        )
    )
    (tmp_path / "plan.yaml").write_text(changed, encoding="utf-8")
    load_and_import_plan(engine, tmp_path / "plan.yaml", now=IMPORTED)
    with Session(engine) as session:
        (table,) = build_report(session, plan_code="KH-TEST", at=AT).indicators
        dropped = session.exec(select(TaskIndicator).where(TaskIndicator.code == "ns")).one()
    assert table.headers() == ["Phòng học kiên cố, bán kiên cố (phòng)", "Đã quán triệt"]
    assert table.cells(table.lines[0]) == ["46/50 (92%)", "không"]
    assert not dropped.active


def test_the_digest_counts_only_the_units_that_report(engine: Engine, tmp_path: Path) -> None:
    indicator_world(engine, tmp_path, now=IMPORTED, register=False)
    with_partners = PLAN.replace(
        "    owner: TRUONG\n    due: {due_a}",
        "    owner: TRUONG\n    partners: [PGDDT, UBND]\n    due: {due_a}",
    )
    (tmp_path / "plan.yaml").write_text(
        with_partners.replace("{due_a}", "30/11/2026").replace("{due_b}", "26/11/2026"),
        encoding="utf-8",
    )
    load_and_import_plan(engine, tmp_path / "plan.yaml", now=IMPORTED)
    give(engine, "THCS_0001", {"ns": "10"}, local_time("2026-11-20 09:00"))
    with Session(engine) as session:
        summary = week_summary(session, plan_code="KH-TEST", now=local_time("2026-11-23 07:30"))
        (table,) = build_report(session, plan_code="KH-TEST", at=AT).indicators
    assert "Kinh phí sửa chữa: 10 triệu đồng (2 đơn vị chưa báo cáo)" in summary.indicators
    assert table.headlines() == summary.indicators

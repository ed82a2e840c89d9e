"""Report files (Markdown, HTML, DOCX, XLSX) and the `report` / `status` commands."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

import docx
import openpyxl
import pytest
import typer
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Length
from sqlalchemy.engine import Engine
from sqlmodel import Session
from typer.testing import CliRunner

from bot.report_commands import register
from reports.docx_writer import write_docx
from reports.figures import build_report
from reports.files import write_report
from reports.letterhead import default_place
from reports.model import PlanReport
from reports.xlsx_writer import write_xlsx
from tests.utils.clock import local_time
from tests.utils.factories import assign, make_plan, make_report, make_task, make_unit

AT = date(2026, 11, 23)
FONT = "Times New Roman"


@pytest.fixture
def report(session: Session) -> PlanReport:
    """Two schools, a one-time task and an ongoing one; notes with markup and control chars."""
    make_unit(session, "UBND", name="UBND huyện Cẩm Giàng")
    make_unit(session, "PGDDT", name="Phòng Giáo dục và Đào tạo", parent="UBND")
    a = make_unit(session, "TH_A", name="Trường Tiểu học A", parent="PGDDT")
    b = make_unit(session, "TH_B", name="Trường Tiểu học <B> & C", parent="PGDDT")
    plan = make_plan(session, "KH-T", number="12/KH-UBND", coordinator="PGDDT")
    once = make_task(session, plan, "1", title="Rà soát cơ sở vật chất")
    ongoing = make_task(session, plan, "2", title="Tuyên truyền", due_kind="ongoing")
    (a_once,) = assign(session, once, a, [date(2026, 11, 20)], periods=["once"])
    (b_once,) = assign(session, once, b, [date(2026, 11, 20)], periods=["once"])
    (a_ongoing,) = assign(session, ongoing, a)
    assign(session, ongoing, b)
    make_report(
        session,
        a_once,
        "done",
        local_time("2026-11-20 16:00"),
        note="Đã xong | đủ\nhồ sơ",
        evidence=["f1", "f2"],
    )
    make_report(
        session,
        b_once,
        "blocked",
        local_time("2026-11-21 09:00"),
        note="<script>alert(1)</script> vướng\x07 kinh phí",
    )
    make_report(session, a_ongoing, "in_progress", local_time("2026-11-22 09:00"), note="=1+1")
    session.commit()
    built = build_report(session, plan_code="KH-T", at=AT)
    session.rollback()  # release SQLite's lock for the commands' own sessions
    return built


def _texts(document: docx.document.Document) -> list[str]:
    """Texts of the body paragraphs."""
    return [p.text for p in document.paragraphs if p.text]


def test_docx_follows_the_administrative_layout(report: PlanReport, tmp_path: Path) -> None:
    path = tmp_path / "bao-cao.docx"
    write_docx(report, path)
    document = docx.Document(str(path))
    left, right = document.tables[0].rows[0].cells
    assert [p.text for p in left.paragraphs] == [
        "UBND HUYỆN CẨM GIÀNG",
        "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO",
        "",  # the short rule
        "Số:\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0/BC-……",  # no abbreviation in the units file
    ]
    nation, motto, _, place = right.paragraphs
    assert nation.text == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" and nation.runs[0].bold
    assert motto.text == "Độc lập - Tự do - Hạnh phúc" and motto.runs[0].bold
    assert place.text == "Cẩm Giàng, ngày 23 tháng 11 năm 2026" and place.runs[0].italic
    texts = _texts(document)
    title = next(p for p in document.paragraphs if p.text == "BÁO CÁO")
    assert title.runs[0].bold and title.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert texts[texts.index("BÁO CÁO") + 1] == "Kết quả thực hiện Kế hoạch số 12/KH-UBND"
    sections = ["I. KẾT QUẢ THỰC HIỆN", "II. KHÓ KHĂN, VƯỚNG MẮC", "III. ĐỀ XUẤT, KIẾN NGHỊ"]
    assert [t for t in texts if t in sections] == sections
    assert any("Hoàn thành đúng hạn: 1 lượt (25%)" in t for t in texts)
    assert any(t.startswith("- Trường Tiểu học <B> & C: nhiệm vụ 1") for t in texts)
    assert "PHỤ LỤC" in texts
    recipients, signature = document.tables[1].rows[0].cells
    assert "Kính gửi: UBND huyện Cẩm Giàng" in texts
    assert recipients.text.splitlines() == ["Nơi nhận:", "- Như trên;", "- Lưu: VT."]
    assert signature.paragraphs[0].runs[0].bold


def test_docx_appendix_has_one_row_per_occurrence(report: PlanReport, tmp_path: Path) -> None:
    path = tmp_path / "bao-cao.docx"
    write_docx(report, path)
    appendix = docx.Document(str(path)).tables[-1]
    cells = [[cell.text for cell in row.cells] for row in appendix.rows]
    assert cells[0] == ["TT", "Đơn vị", "Nhiệm vụ", "Hạn", "Kết quả", "Ghi chú"]
    assert len(cells) == len(report.rows) + 1 == 5
    assert cells[1] == [
        "1",
        "Trường Tiểu học A",
        "1 — Rà soát cơ sở vật chất",
        "20/11/2026",
        "Hoàn thành đúng hạn",
        "Đã xong | đủ\nhồ sơ",
    ]
    assert cells[2][3:5] == ["Thường xuyên", "Không thời hạn"]
    assert cells[2][5] == "=1+1"
    assert cells[3][1] == "Trường Tiểu học <B> & C"
    assert cells[3][5] == "<script>alert(1)</script> vướng kinh phí; gặp khó khăn"
    assert appendix.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None


def test_docx_is_times_new_roman_on_a4_with_decree_margins(
    report: PlanReport, tmp_path: Path
) -> None:
    path = tmp_path / "bao-cao.docx"
    write_docx(report, path, place="Hải Dương")
    document = docx.Document(str(path))
    normal = document.styles["Normal"]
    assert normal.font.name == FONT
    fonts = normal.element.rPr.rFonts
    assert all(fonts.get(qn(f"w:{slot}")) == FONT for slot in ("ascii", "hAnsi", "eastAsia", "cs"))
    defaults = document.styles.element.find(qn("w:docDefaults"))
    for element in defaults.iter(qn("w:rFonts")):
        assert not any(name.endswith("Theme") for name in element.attrib)
    runs = [r for p in document.paragraphs for r in p.runs]
    runs += [r for t in document.tables for c in t._cells for p in c.paragraphs for r in p.runs]
    assert runs and all(r.font.name in (None, FONT) for r in runs)
    body, appendix = document.sections
    assert _mm(body.page_width, body.page_height) == [210, 297]
    assert _mm(body.top_margin, body.bottom_margin, body.left_margin, body.right_margin) == [
        20,
        20,
        30,
        15,
    ]
    assert appendix.orientation == WD_ORIENT.LANDSCAPE
    assert document.tables[0].rows[0].cells[1].paragraphs[3].text.startswith("Hải Dương, ngày")


def _mm(*lengths: Length | None) -> list[int]:
    """Lengths in whole millimetres (Word stores twips)."""
    return [round(length.mm) if length is not None else -1 for length in lengths]


@pytest.mark.parametrize(
    ("issuer", "place"),
    [
        ("UBND huyện Cẩm Giàng", "Cẩm Giàng"),
        ("Ban Thường vụ Huyện ủy Cẩm Giàng", "Cẩm Giàng"),
        ("UBND thành phố Hồ Chí Minh", "Hồ Chí Minh"),
        ("Phòng Giáo dục và Đào tạo", "……"),
        (None, "……"),
    ],
)
def test_default_place_is_the_issuers_place_name(issuer: str | None, place: str) -> None:
    assert default_place(issuer) == place


def test_xlsx_long_table_cell_by_cell(report: PlanReport, tmp_path: Path) -> None:
    path = tmp_path / "bao-cao.xlsx"
    write_xlsx(report, path)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Tổng hợp", "Theo đơn vị", "KH-T"]
    sheet = book["KH-T"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:M5"
    assert [c.value for c in sheet[1]] == [
        "TT",
        "Mã đơn vị",
        "Đơn vị",
        "Mã nhiệm vụ",
        "Nhiệm vụ",
        "Hạn",
        "Phân loại",
        "Trạng thái",
        "%",
        "Ghi chú",
        "Ngày báo cáo",
        "Minh chứng",
        "Lưu ý",
    ]
    assert sheet[1][0].font.bold
    assert [c.value for c in sheet[2]] == [
        1,
        "TH_A",
        "Trường Tiểu học A",
        "1",
        "Rà soát cơ sở vật chất",
        datetime(2026, 11, 20),
        "Hoàn thành đúng hạn",
        "Đã hoàn thành",
        100,
        "Đã xong | đủ\nhồ sơ",
        datetime(2026, 11, 20),
        2,
        None,
    ]
    assert sheet["F2"].number_format == "dd/mm/yyyy" == sheet["K2"].number_format
    assert [c.value for c in sheet[3]][5:10] == [
        "Thường xuyên",
        "Không thời hạn",
        "Đang thực hiện",
        None,
        "=1+1",
    ]
    assert sheet["J3"].data_type == "s"  # a note is never a formula
    assert sheet["J4"].value == "<script>alert(1)</script> vướng kinh phí"
    assert sheet["M4"].value == "gặp khó khăn"
    assert sheet["M5"].value == "chưa báo cáo"
    assert sheet.max_row == 5


def test_xlsx_summary_and_units(report: PlanReport, tmp_path: Path) -> None:
    path = tmp_path / "bao-cao.xlsx"
    write_xlsx(report, path)
    book = openpyxl.load_workbook(path)
    summary = {row[0]: row[1:] for row in book["Tổng hợp"].iter_rows(values_only=True) if row[0]}
    assert summary["Ngày ban hành"][0] == datetime(2026, 1, 5)
    assert summary["Hoàn thành đúng hạn"] == (1, 0.25)
    assert summary["Chưa hoàn thành, quá hạn"] == (1, 0.25)
    assert summary["Tổng cộng"][0] == 4
    assert summary["Hoàn thành (đúng hạn và quá hạn)"][0] == 1
    assert summary["Có thời hạn (không tính lượt không thời hạn)"][0] == 2
    assert summary["Tỷ lệ hoàn thành (hoàn thành / có thời hạn)"][1] == 0.5
    units = book["Theo đơn vị"]
    assert units.freeze_panes == "A2" and units.auto_filter.ref == "A1:N3"
    assert [c.value for c in units[2]] == [
        "TH_A",
        "Trường Tiểu học A",
        *(1, 0, 0, 0, 0, 1),  # per category
        *(2, 0, 0),  # total, unreported, blocked
        *(1, 1, 1),  # done, with a due date, completion rate
    ]


def test_html_embeds_the_chart_and_escapes_user_text(report: PlanReport, tmp_path: Path) -> None:
    path = write_report(report, "html", tmp_path / "bao-cao.html")
    html = path.read_text(encoding="utf-8")
    found = re.search(r'<img [^>]*src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert found is not None
    assert base64.b64decode(found.group(1)).startswith(b"\x89PNG\r\n\x1a\n")
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Trường Tiểu học &lt;B&gt; &amp; C" in html


def test_markdown_keeps_the_table_intact(report: PlanReport, tmp_path: Path) -> None:
    text = write_report(report, "md", tmp_path / "bao-cao.md").read_text(encoding="utf-8")
    assert "| Hoàn thành đúng hạn | 1 | 25% |" in text
    assert "Đã xong \\| đủ hồ sơ" in text
    rows = [line for line in text.splitlines() if re.match(r"\| \d+ \|", line)]
    assert len(rows) == 4 and all(line.count(" | ") == 9 for line in rows)


def test_write_report_dispatches_every_format(report: PlanReport, tmp_path: Path) -> None:
    for fmt in ("md", "html", "docx", "xlsx"):
        path = write_report(report, fmt, tmp_path / f"r.{fmt}")
        assert path.stat().st_size > 0
    with pytest.raises(ValueError):
        write_report(report, "pdf", tmp_path / "r.pdf")  # type: ignore[arg-type]


@pytest.fixture
def cli(engine: Engine) -> typer.Typer:
    """A bare Typer app with the report commands registered on the test database."""
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """dondoc"""

    @contextmanager
    def open_session() -> Iterator[Session]:
        with Session(engine) as session:
            yield session

    register(app, open_session)
    return app


def test_report_command_writes_the_file(
    report: PlanReport, cli: typer.Typer, tmp_path: Path
) -> None:
    out = tmp_path / "bc.xlsx"
    result = CliRunner().invoke(cli, ["report", "KH-T", "--out", str(out), "--at", "2026-11-23"])
    assert result.exit_code == 0, result.output
    assert str(out) in result.output and out.exists()
    result = CliRunner().invoke(cli, ["report", "KH-T", "-f", "md", "-o", str(tmp_path / "bc")])
    assert result.exit_code == 0 and (tmp_path / "bc").read_text(encoding="utf-8").startswith("#")


def test_report_command_refuses_an_unknown_plan(
    report: PlanReport, cli: typer.Typer, tmp_path: Path
) -> None:
    result = CliRunner().invoke(cli, ["report", "NOPE", "--out", str(tmp_path / "x.md")])
    assert result.exit_code == 2
    assert "Không có kế hoạch mã NOPE" in result.output
    assert not (tmp_path / "x.md").exists()


def test_status_command_prints_tables(report: PlanReport, cli: typer.Typer) -> None:
    result = CliRunner().invoke(cli, ["status", "KH-T", "--unit", "PGDDT", "--at", "2026-11-23"])
    assert result.exit_code == 0, result.output
    assert "Tình hình thực hiện" in result.output and "TH_A" in result.output
    assert CliRunner().invoke(cli, ["status", "--at", "23/11/2026"]).exit_code == 2

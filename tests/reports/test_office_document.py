"""The formal BÁO CÁO an office signs: letterhead, numbers, citations, recipients, page numbers.

State bodies after Nghị định 30/2020/NĐ-CP, Party bodies after Hướng dẫn 36-HD/VPTW; the DOCX is
read back with python-docx, the HTML header is compared with the DOCX's.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import date
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import docx
import pytest
from docx.document import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Length
from docx.table import _Cell
from docx.text.paragraph import Paragraph
from PIL import Image
from sqlmodel import Session, select

from reports.docx_writer import write_docx
from reports.figures import build_report
from reports.files import write_report
from reports.model import PlanReport
from storage.models import Unit
from tests.utils.clock import local_time
from tests.utils.factories import assign, make_plan, make_report, make_task, make_unit

AT = date(2024, 12, 2)
NBSP = "\u00a0"
GDDT_TITLE = (
    "Kế hoạch tổ chức thực hiện Kết luận của đồng chí Bí thư Tỉnh ủy tại Hội nghị tiếp xúc, "
    "đối thoại với cán bộ, công chức, viên chức lĩnh vực Giáo dục và Đào tạo"
)


def office_unit(
    session: Session,
    code: str,
    name: str,
    *,
    parent: str | None = None,
    abbreviation: str | None = None,
    signer: str | None = None,
    party: bool = False,
) -> Unit:
    """A unit with what its documents print, as the units file gives it."""
    unit = make_unit(session, code, name=name, parent=parent)
    unit.abbreviation, unit.signer, unit.party = abbreviation, signer, party
    session.add(unit)
    session.flush()
    return unit


@pytest.fixture
def county(session: Session) -> None:
    """The district's State and Party bodies, two schools, and a plan of each side: the
    education plan prints no number, the Party plan does."""
    office_unit(session, "UBND", "UBND huyện Cẩm Giàng", abbreviation="UBND")
    office_unit(
        session,
        "PGDDT",
        "Phòng Giáo dục và Đào tạo",
        parent="UBND",
        abbreviation="PGDĐT",
        signer="TRƯỞNG PHÒNG",
    )
    office_unit(
        session,
        "HUYEN_UY",
        "Huyện ủy Cẩm Giàng",
        abbreviation="HU",
        signer="T/M BAN THƯỜNG VỤ",
        party=True,
    )
    office_unit(
        session,
        "BTG_HU",
        "Ban Tuyên giáo Huyện ủy",
        parent="HUYEN_UY",
        abbreviation="BTGHU",
        signer="TRƯỞNG BAN",
        party=True,
    )
    school = make_unit(session, "TH_A", name="Trường Tiểu học Cẩm Vũ", parent="PGDDT")
    education = make_plan(
        session,
        "KH-GDDT-2023",
        coordinator="PGDDT",
        title=GDDT_TITLE,
        issuer="UBND huyện Cẩm Giàng",
        issued=date(2023, 9, 5),
    )
    party = make_plan(
        session,
        "KH-315-HU",
        coordinator="BTG_HU",
        number="315-KH/HU",
        title="Kế hoạch thực hiện Kết luận số 91-KL/TW",
        issuer="Ban Thường vụ Huyện ủy Cẩm Giàng",
        issued=date(2024, 11, 29),
    )
    for plan in (education, party):
        task = make_task(session, plan, "1", title="Rà soát cơ sở vật chất")
        (occurrence,) = assign(session, task, school, [date(2024, 11, 30)], periods=["once"])
        make_report(session, occurrence, "done", local_time("2024-11-29 10:00"))
    session.commit()


def _unit(session: Session, code: str) -> Unit:
    """A stored unit by code."""
    return session.exec(select(Unit).where(Unit.code == code)).one()


def _report(session: Session, plan_code: str) -> PlanReport:
    """The plan's report at AT."""
    return build_report(session, plan_code=plan_code, at=AT)


def _docx(session: Session, tmp_path: Path, plan_code: str) -> Document:
    """The plan's DOCX, written and read back."""
    path = tmp_path / f"{plan_code}.docx"
    write_docx(_report(session, plan_code), path)
    return docx.Document(str(path))


def _texts(cell: _Cell) -> list[str]:
    """The paragraphs of a cell ("" for a rule's empty paragraph)."""
    return [p.text for p in cell.paragraphs]


def _rule_of(paragraph: Paragraph, width: Length) -> tuple[int, int]:
    """A rule paragraph's (left, right) indents in EMU; fails unless it is a bottom border
    narrower than `width`."""
    border = paragraph._p.pPr.find(qn("w:pBdr"))
    assert border is not None and border.find(qn("w:bottom")) is not None, paragraph.text
    left = paragraph.paragraph_format.left_indent
    right = paragraph.paragraph_format.right_indent
    assert 0 < left == right < width / 2
    return left, right


def _all_text(document: Document) -> str:
    """Every paragraph of the body, its tables and its headers."""
    parts = [p.text for p in document.paragraphs]
    parts += [c.text for t in document.tables for row in t.rows for c in row.cells]
    for section in document.sections:
        for header in (section.header, section.first_page_header):
            parts += [p.text for p in header.paragraphs]
    return "\n".join(parts)


def test_a_state_body_has_quoc_hieu_tieu_ngu_and_short_rules(
    session: Session, county: None, tmp_path: Path
) -> None:
    document = _docx(session, tmp_path, "KH-GDDT-2023")
    left, right = document.tables[0].rows[0].cells
    assert _texts(left) == [
        "UBND HUYỆN CẨM GIÀNG",
        "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO",
        "",  # the rule under the issuing body
        f"Số:{NBSP * 6}/BC-PGDĐT",
    ]
    assert left.paragraphs[1].runs[0].bold and not left.paragraphs[0].runs[0].bold
    body_rule = _rule_of(left.paragraphs[2], left.width)
    assert _texts(right) == [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "",  # the rule under the Tiêu ngữ, as long as it
        "Cẩm Giàng, ngày 02 tháng 12 năm 2024",
    ]
    motto_rule = _rule_of(right.paragraphs[2], right.width)
    # The issuing body's rule is a third to a half of its line; the motto's spans the motto.
    assert right.width - sum(motto_rule) > left.width - sum(body_rule)
    assert right.paragraphs[3].runs[0].italic
    assert "ĐẢNG CỘNG SẢN VIỆT NAM" not in _all_text(document)


def test_a_party_body_has_the_party_header_star_and_number(
    session: Session, county: None, tmp_path: Path
) -> None:
    document = _docx(session, tmp_path, "KH-315-HU")
    left, right = document.tables[0].rows[0].cells
    assert _texts(left) == [
        "HUYỆN ỦY CẨM GIÀNG",
        "BAN TUYÊN GIÁO HUYỆN ỦY",
        "*",
        f"Số{NBSP * 6}-BC/BTGHU",
    ]
    assert _texts(right) == [
        "ĐẢNG CỘNG SẢN VIỆT NAM",
        "",
        "Cẩm Giàng, ngày 02 tháng 12 năm 2024",
    ]
    _rule_of(right.paragraphs[1], right.width)
    text = _all_text(document)
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" not in text
    assert "Độc lập - Tự do - Hạnh phúc" not in text
    recipients, signature = document.tables[1].rows[0].cells
    assert recipients.paragraphs[0].runs[0].underline  # Party style: "Nơi nhận" underlined
    assert _texts(recipients) == ["Nơi nhận:", "- Như trên,", "- Lưu VT."]
    assert signature.paragraphs[0].text == "TRƯỞNG BAN"
    appendix = [p.text for p in document.paragraphs if p.text.startswith("(Kèm theo")]
    assert appendix == [
        f"(Kèm theo Báo cáo số{NBSP * 6}-BC/BTGHU ngày 02/12/2024 của Ban Tuyên giáo Huyện ủy)"
    ]


def test_numbers_use_the_units_abbreviation_never_its_code(
    session: Session, county: None, tmp_path: Path
) -> None:
    for plan_code, internal in (("KH-GDDT-2023", "BC-PGDDT"), ("KH-315-HU", "BC/BTG_HU")):
        text = _all_text(_docx(session, tmp_path, plan_code))
        assert internal not in text
        assert ".../BC" not in text
    # A unit the units file gives no abbreviation gets a blank to fill in, not its code.
    unit = _unit(session, "PGDDT")
    unit.abbreviation = None
    session.add(unit)
    session.commit()
    left = _docx(session, tmp_path, "KH-GDDT-2023").tables[0].rows[0].cells[0]
    assert left.paragraphs[-1].text == f"Số:{NBSP * 6}/BC-……"


def test_page_numbers_from_page_two_and_the_appendix_numbered_apart(
    session: Session, county: None, tmp_path: Path
) -> None:
    body, appendix = _docx(session, tmp_path, "KH-GDDT-2023").sections
    assert body.different_first_page_header_footer
    assert not any(p.text for p in body.first_page_header.paragraphs)
    (number,) = body.header.paragraphs
    assert number.alignment == WD_ALIGN_PARAGRAPH.CENTER
    fields = [t.text.strip() for t in number._p.iter(qn("w:instrText"))]
    assert fields == ["PAGE"]
    kinds = [c.get(qn("w:fldCharType")) for c in number._p.iter(qn("w:fldChar"))]
    assert kinds == ["begin", "separate", "end"]
    assert appendix.different_first_page_header_footer
    assert appendix.header.is_linked_to_previous
    restart = appendix._sectPr.find(qn("w:pgNumType"))
    assert restart is not None and restart.get(qn("w:start")) == "1"


def test_a_plan_is_cited_by_its_number_or_by_title_and_date(
    session: Session, county: None, tmp_path: Path
) -> None:
    numbered = _docx(session, tmp_path, "KH-315-HU")
    subtitles = [p.text for p in numbered.paragraphs if p.text.startswith("Kết quả thực hiện")]
    assert subtitles == ["Kết quả thực hiện Kế hoạch số 315-KH/HU"]
    assert any(
        p.text.startswith(
            "Thực hiện Kế hoạch số 315-KH/HU ngày 29/11/2024 của Ban Thường vụ Huyện ủy Cẩm Giàng"
        )
        for p in numbered.paragraphs
    )
    unnumbered = _docx(session, tmp_path, "KH-GDDT-2023")
    subtitles = [p.text for p in unnumbered.paragraphs if p.text.startswith("Kết quả thực hiện")]
    assert subtitles == [f"Kết quả thực hiện {GDDT_TITLE} ngày 05/09/2023"]
    report = _report(session, "KH-GDDT-2023")
    outputs = [_all_text(unnumbered)]
    for fmt in ("md", "html"):
        outputs.append(write_report(report, fmt, tmp_path / f"r.{fmt}").read_text("utf-8"))
    for text in outputs:
        assert "KH-GDDT-2023" not in text  # an internal code is never a document number
        assert f"{GDDT_TITLE} ngày 05/09/2023" in text


def test_kinh_gui_and_noi_nhan_agree_and_the_signer_is_the_units(
    session: Session, county: None, tmp_path: Path
) -> None:
    document = _docx(session, tmp_path, "KH-GDDT-2023")
    assert "Kính gửi: UBND huyện Cẩm Giàng" in [p.text for p in document.paragraphs]
    recipients, signature = document.tables[1].rows[0].cells
    assert _texts(recipients) == ["Nơi nhận:", "- Như trên;", "- Lưu: VT."]
    assert recipients.paragraphs[0].runs[0].bold and recipients.paragraphs[0].runs[0].italic
    assert signature.paragraphs[0].text == "TRƯỞNG PHÒNG"
    assert signature.paragraphs[0].runs[0].bold
    assert "THỦ TRƯỞNG ĐƠN VỊ" not in _all_text(document)
    # A plan that names no issuer: no Kính gửi, so no "Như trên" either.
    plan = make_plan(session, "KH-NO-ISSUER", coordinator="PGDDT", issuer=None, number="1/KH")
    task = make_task(session, plan, "1")
    assign(session, task, _unit(session, "TH_A"), [date(2024, 12, 20)], periods=["once"])
    session.commit()
    document = _docx(session, tmp_path, "KH-NO-ISSUER")
    assert not any(p.text.startswith("Kính gửi") for p in document.paragraphs)
    recipients = document.tables[1].rows[0].cells[0]
    assert "- Như trên;" not in _texts(recipients)


class _Lines(HTMLParser):
    """The text lines of the HTML letterhead (<header>) and title block."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.lines: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "header":
            self.depth += 1
        if self.depth and tag == "p":
            self.lines.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "header":
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth and self.lines:
            self.lines[-1] += data.strip()


@pytest.mark.parametrize("plan_code", ["KH-GDDT-2023", "KH-315-HU"])
def test_the_html_report_carries_the_same_header(
    session: Session, county: None, tmp_path: Path, plan_code: str
) -> None:
    document = _docx(session, tmp_path, plan_code)
    left, right = document.tables[0].rows[0].cells
    expected = [t for t in _texts(left) + _texts(right) if t]
    html = write_report(_report(session, plan_code), "html", tmp_path / "r.html").read_text("utf-8")
    parser = _Lines()
    parser.feed(html)
    assert parser.lines == expected
    title = re.search(r'<p class="title[^"]*"><span>([^<]*)</span>', html)
    subtitles = [p.text for p in document.paragraphs if p.text.startswith("Kết quả thực hiện")]
    assert title is not None and [title.group(1)] == subtitles


# --- The HTML report in a real browser ---------------------------------------------------------

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
MEASURE = """<script>
window.addEventListener("load", () => {
  const page = document.documentElement;
  const parts = [...document.querySelectorAll("header, table, img")].map((e) => ({
    tag: e.tagName.toLowerCase(),
    right: e.getBoundingClientRect().right,
    rendered: e.tagName !== "IMG" || e.naturalWidth > 0,
  }));
  const out = document.createElement("pre");
  out.id = "measure";
  out.textContent = JSON.stringify({width: page.clientWidth, scroll: page.scrollWidth, parts});
  document.body.appendChild(out);
});
</script>"""


def _browser() -> str:
    """Debian's chromium (.ci/run installs it): the test fails, never skips, without it."""
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    pytest.fail("no headless browser: install Debian's chromium (apt-get install chromium)")


def _open(html: Path, width: int, profile: Path) -> tuple[dict[str, Any], Image.Image]:
    """Load `html` headless at `width` CSS pixels: what the page measures, and a screenshot."""
    shot = html.with_suffix(f".{width}.png")
    command = [
        _browser(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        f"--window-size={width},1600",
        f"--screenshot={shot}",
        "--dump-dom",
        html.as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    found = re.search(r'<pre id="measure">([^<]*)</pre>', done.stdout)
    assert found is not None, done.stderr[-2000:]
    return json.loads(unescape(found.group(1))), Image.open(shot).convert("L")


@pytest.mark.slow
@pytest.mark.parametrize("width", [1280, 500])  # a desktop; headless Chromium's narrowest
def test_the_html_report_fits_the_page_in_a_browser(
    session: Session, county: None, tmp_path: Path, width: int
) -> None:
    school = _unit(session, "TH_A")
    school.name = "Trường Trung học cơ sở Nguyễn Thị Minh Khai, thị trấn Lai Cách, huyện Cẩm Giàng"
    session.add(school)
    plan = make_plan(session, "KH-WIDE", coordinator="PGDDT", number="7/KH-UBND")
    for key in ("1", "2", "3"):
        task = make_task(session, plan, f"IV.{key}", title="Rà soát, bổ sung quy hoạch " * 6)
        (occurrence,) = assign(session, task, school, [date(2024, 11, 20)], periods=["once"])
        note = "Hồ sơ tại https://example.gov.vn/tai-lieu/ke-hoach-ra-soat-co-so-vat-chat-2024.pdf"
        make_report(session, occurrence, "blocked", local_time("2024-11-28 09:00"), note=note)
    session.commit()
    html = write_report(_report(session, "KH-WIDE"), "html", tmp_path / "bao-cao.html")
    html.write_text(html.read_text("utf-8").replace("</body>", MEASURE + "</body>"), "utf-8")
    measured, screenshot = _open(html, width, tmp_path / "profile")
    assert measured["width"] == width and measured["scroll"] <= width  # no sideways scrolling
    tags = [part["tag"] for part in measured["parts"]]
    assert tags == ["header", "table", "img", "table"]  # letterhead, counts, chart, detail
    for part in measured["parts"]:
        assert part["rendered"] and part["right"] <= width, part
    # Nothing is cut at the right edge: the body's margin there stays blank in the screenshot.
    margin = screenshot.crop((width - 8, 0, width, screenshot.height))
    assert margin.getextrema() == (255, 255)
    content = screenshot.crop((0, 0, width - 8, screenshot.height))
    assert content.getextrema()[0] < 128  # and the page did draw something

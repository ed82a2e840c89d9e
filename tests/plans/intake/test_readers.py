"""Each format read into the same draft: DOCX (numbering, merged cells), PDF, text, Markdown;
documents that cannot be read get a message that says what to do."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import docx
import pytest
import yaml
from reportlab.pdfgen import canvas

from plans.intake.document import IntakeError
from plans.intake.draft import Draft
from plans.intake.reader import read_document
from tests.plans.intake.conftest import DATA, write_pdf


def test_docx_prints_automatic_numbering(tmp_path: Path, draft: Callable[[Path], Draft]) -> None:
    document = docx.Document()
    document.add_paragraph("Số: 12/KH-UBND")
    document.add_paragraph("TỔ CHỨC THỰC HIỆN")
    document.add_paragraph("Phòng Nội vụ", style="List Number")
    document.add_paragraph("Tham mưu kiện toàn bộ máy trước ngày 30/6/2024.", style="List Bullet")
    document.add_paragraph("Phòng Tài chính - Kế hoạch", style="List Number")
    document.add_paragraph("Bố trí kinh phí trong quý III/2024.", style="List Bullet")
    path = tmp_path / "plan.docx"
    document.save(str(path))
    texts = [block.text for block in read_document(path).blocks]
    assert texts[2:] == [
        "1. Phòng Nội vụ",
        "- Tham mưu kiện toàn bộ máy trước ngày 30/6/2024.",
        "2. Phòng Tài chính - Kế hoạch",
        "- Bố trí kinh phí trong quý III/2024.",
    ]
    tasks = yaml.safe_load(draft(path).text)["tasks"]
    assert [(t["id"], t["owner"], t["due"]) for t in tasks] == [
        ("1.1", "PNV", "trước ngày 30/6/2024"),
        ("2.1", "PTCKH", "trong quý III/2024"),
    ]


def test_docx_table_merged_cells_and_any_column_order(
    tmp_path: Path, draft: Callable[[Path], Draft]
) -> None:
    document = docx.Document()
    document.add_paragraph(
        "PHỤ LỤC (Kèm theo Kế hoạch số 47/KH-UBND ngày 05/3/2024 của UBND huyện)"
    )
    table = document.add_table(rows=6, cols=6)
    rows = [
        ["STT", "Sản phẩm", "Nhiệm vụ", "Đơn vị thực hiện", "", "Thời gian hoàn thành"],
        ["", "", "", "Chủ trì", "Phối hợp", ""],
        ["A", "NHIỆM VỤ CHUNG", "", "", "", ""],
        [
            "1",
            "Kế hoạch",
            "Xây dựng kế hoạch chuyển đổi số",
            "Phòng GD&ĐT",
            "Phòng Nội vụ",
            "Quý II/2024",
        ],
        ["2", "Báo cáo", "Tổng hợp, báo cáo kết quả", "", "Phòng TC-KH", "Hằng quý"],
        ["3", "Văn bản", "Rà soát chính sách hỗ trợ", "Phòng LĐ-TB&XH", "", "Năm 2025"],
    ]
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            table.cell(r, c).text = value
    table.cell(0, 3).merge(table.cell(0, 4))  # "Đơn vị thực hiện" over "Chủ trì | Phối hợp"
    table.cell(2, 1).merge(table.cell(2, 5))  # a section row across the table
    table.cell(3, 3).merge(table.cell(4, 3))  # one owner for two rows
    path = tmp_path / "phu-luc.docx"
    document.save(str(path))
    plan = yaml.safe_load(draft(path).text)
    assert (plan["number"], str(plan["issued"])) == ("47/KH-UBND", "2024-03-05")
    tasks = [(t["id"], t["owner"], t.get("partners"), t["due"]) for t in plan["tasks"]]
    assert tasks == [
        ("A.1", "PGDDT", ["PNV"], "Quý II/2024"),
        ("A.2", "PGDDT", ["PTCKH"], "Hằng quý"),
        ("A.3", "PLDTBXH", None, "Năm 2025"),
    ]
    assert plan["tasks"][0]["title"] == "Xây dựng kế hoạch chuyển đổi số"


@pytest.mark.parametrize(
    ("seed", "expected"),
    [
        ("ke-hoach-thuc-hien-ket-luan-giao-duc.txt", "ke-hoach-thuc-hien-ket-luan-giao-duc"),
        ("phu-luc-nhiem-vu-kh-315-KH-HU.docx", "phu-luc-nhiem-vu-kh-315-KH-HU.docx"),
    ],
)
def test_pdf_of_a_seed_scores_like_the_seed(
    seed: str,
    expected: str,
    tmp_path: Path,
    draft: Callable[[Path], Draft],
    score: Callable[[Path, Path], tuple[int, int, str]],
) -> None:
    content: list[str | list[list[str]]] = []
    for block in read_document(DATA / seed).blocks:
        if block.is_row:
            if not content or isinstance(content[-1], str):
                content.append([])
            table = content[-1]
            assert isinstance(table, list)
            table.append(list(block.cells))
        else:
            content.append(block.text)
    pdf = write_pdf(tmp_path / "plan.pdf", content)
    out = tmp_path / "draft.yaml"
    out.write_text(draft(pdf).text, encoding="utf-8")
    exact, total, report = score(out, DATA / f"{expected}.expected.yaml")
    assert exact / total >= 0.9, report


def test_scanned_pdf_is_refused_with_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    page = canvas.Canvas(str(path))
    page.rect(50, 50, 400, 600, fill=1)  # a page that is a picture: no text layer
    page.showPage()
    page.save()
    with pytest.raises(IntakeError, match="OCR") as error:
        read_document(path)
    assert ".docx" in str(error.value)


def test_old_word_file_is_refused_with_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "ke-hoach.doc"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    with pytest.raises(IntakeError, match=r"\.docx"):
        read_document(path)


def test_text_not_in_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ke-hoach.txt"
    path.write_bytes("KẾ HOẠCH triển khai".encode("utf-16"))
    with pytest.raises(IntakeError, match="UTF-8"):
        read_document(path)


def test_markdown_table_and_headings(tmp_path: Path, draft: Callable[[Path], Draft]) -> None:
    path = tmp_path / "plan.md"
    path.write_text(
        "# KẾ HOẠCH\n\nRà soát cơ sở vật chất năm 2024\n\n"
        "| TT | Nội dung | Đơn vị chủ trì | Thời hạn |\n|---|---|---|---|\n"
        "| 1 | Rà soát phòng học | **Phòng GD&ĐT** | Trước 15/8/2024 |\n",
        encoding="utf-8",
    )
    plan = yaml.safe_load(draft(path).text)
    assert plan["title"] == "Kế hoạch rà soát cơ sở vật chất năm 2024"
    assert plan["until"].isoformat() == "2024-12-31"
    assert [(t["owner"], t["due"], t["source"]) for t in plan["tasks"]] == [
        ("PGDDT", "Trước 15/8/2024", "dòng 7")
    ]

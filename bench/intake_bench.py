"""Benchmark `dondoc plan draft` on a 30-page DOCX (target: under 3 s, offline).

Run: `.venv/bin/python -m bench.intake_bench [--pages 30] [--repeat 3]`. The document is built
with python-docx from the seed plan's section IV (automatic numbering, 13 pt text) and an
appendix table, repeated until it holds about 450 words a page, the density of a printed plan.
The figure is the wall time of reading, extracting and writing the draft, median of the runs.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

import docx
from docx.shared import Pt

from bench.figures import NO_DATABASE, Target, target_line
from plans.intake.draft import draft_plan
from plans.intake.owners import UnitIndex
from plans.intake.reader import read_document
from plans.units_file import load_units_file

DATA = Path(__file__).resolve().parents[1] / "tests" / "plans" / "intake" / "data"
SEED = DATA / "ke-hoach-thuc-hien-ket-luan-giao-duc.txt"
APPENDIX = DATA / "phu-luc-nhiem-vu-kh-315-KH-HU.docx"
WORDS_PER_PAGE = 450


INTAKE = Target(3.0, at_least=False, unit=" s", digits=2)


def build_docx(path: Path, pages: int) -> int:
    """Write a plan of about `pages` pages; return its word count."""
    blocks = read_document(SEED).blocks
    start = next(i for i, b in enumerate(blocks) if b.text.startswith("IV."))
    end = next(i for i, b in enumerate(blocks) if b.text.startswith("Trên đây"))
    section = [b.text for b in blocks[start + 1 : end]]
    rows = [b.cells for b in read_document(APPENDIX).blocks if b.is_row]
    document = docx.Document()
    document.styles["Normal"].font.size = Pt(13)
    document.add_paragraph("Số: 47/KH-UBND\tCẩm Giàng, ngày 05 tháng 9 năm 2023")
    document.add_paragraph("KẾ HOẠCH")
    document.add_paragraph("Tổ chức thực hiện Kết luận về giáo dục và đào tạo")
    document.add_paragraph("IV. TỔ CHỨC THỰC HIỆN")
    words = 0
    while words < pages * WORDS_PER_PAGE * 0.7:
        for text in section:
            document.add_paragraph(text)
            words += len(text.split())
    table = document.add_table(rows=0, cols=3)
    while words < pages * WORDS_PER_PAGE:
        for cells in rows:
            row = table.add_row().cells
            for cell, text in zip(row, cells, strict=True):
                cell.text = text
            words += sum(len(text.split()) for text in cells)
    document.save(str(path))
    return words


def main() -> None:
    """Build the document, draft it `--repeat` times, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    units = UnitIndex.from_units_file(load_units_file(DATA / "units-cam-giang.yaml"))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "plan.docx"
        words = build_docx(path, args.pages)
        times = []
        for _ in range(args.repeat):
            began = time.perf_counter()
            draft = draft_plan(path, units, today=date(2023, 9, 5))
            times.append(time.perf_counter() - began)
    print(
        f"plan draft, {args.pages}-page DOCX ({words:,} words, {draft.tasks} tasks, "
        f"{len(draft.doubts)} doubts): median {statistics.median(times):.2f} s "
        f"of {args.repeat} (target < 3 s)"
    )
    print(target_line("intake, 30-page DOCX", times, INTAKE, engine=NO_DATABASE))


if __name__ == "__main__":
    main()

"""The tasks a plan assigns: who does what, by when, where the document says so.

Two shapes carry them. Text: the section "Tổ chức thực hiện" / "Phân công nhiệm vụ", where a
numbered heading names the unit(s) and the sentences and bullets under it are their tasks, or a
paragraph names its own unit ("Ban Tuyên giáo Huyện ủy chủ trì …", "Giao X chủ trì, phối hợp với
Y …", "Đề nghị X …": a request). Tables: an appendix whose header names its columns in any order
(Nhiệm vụ / Nội dung, Đơn vị chủ trì, Phối hợp, Thời gian / Thời hạn / Tiến độ, Sản phẩm), or
whose section rows name the owner ("III | UBND HUYỆN"). A paragraph with several deadlines is
split into one task per deadline; a clause before the first deadline keeps none of its own.
Without such a section, any paragraph that names its unit is taken.
"""

from __future__ import annotations

import re
from datetime import date

from plans.intake.document import Block
from plans.intake.owners import UnitIndex, fold_words
from plans.intake.paragraph import CLOSING_RE, Task
from plans.intake.table_tasks import TableReader, task_tables
from plans.intake.text_reader import MARKER_RE
from plans.intake.text_tasks import TextReader

_SECTION_WORDS = (
    ("tổ", "chức", "thực", "hiện"),
    ("phân", "công"),
    ("trách", "nhiệm", "thực", "hiện"),
    ("trách", "nhiệm", "của"),
    ("nhiệm", "vụ", "cụ", "thể"),
    ("giải", "pháp", "và", "phân", "công"),
    ("nhiệm", "vụ", "của", "các"),
)


_SECTION_MAX_WORDS = 10


_ROMAN_RE = re.compile(r"^(?:(?:PHẦN|Phần)\s+)?([IVX]{1,4})[.)]?\s+(?=\S)")


def extract_tasks(blocks: tuple[Block, ...], units: UnitIndex, *, issued: date) -> list[Task]:
    """The tasks of a document, in document order, with unique ids."""
    region, prefix = _task_region(blocks)
    tables = task_tables(blocks)
    tasks: list[Task] = []
    if region is not None:
        tasks += TextReader(units, issued, prefix, strict=False).read(region)
    elif not tables:
        tasks += TextReader(units, issued, "", strict=True).read(_body(blocks))
    for number, (rows, columns, header) in enumerate(tables, start=1):
        label = "" if len(tables) == 1 else f"B{number}."
        tasks += TableReader(units, issued, columns, label).read(rows, header)
    return _unique_ids(tasks)


def _task_region(blocks: tuple[Block, ...]) -> tuple[list[Block] | None, str]:
    """The blocks of the task section and its numeral, or (None, "") when there is none."""
    start: int | None = None
    numeral = ""
    for index, block in enumerate(blocks):
        if block.is_row:
            continue
        if start is not None and (CLOSING_RE.match(block.text) or _ends_section(block, numeral)):
            return list(blocks[start:index]), numeral
        if start is None and _is_task_heading(block):
            start = index + 1
            match = _ROMAN_RE.match(block.text)
            numeral = match[1].upper() if match else ""
    return (list(blocks[start:]), numeral) if start is not None else (None, "")


def _is_task_heading(block: Block) -> bool:
    """A section heading such as "IV. TỔ CHỨC THỰC HIỆN" or "Phân công nhiệm vụ"."""
    roman = _ROMAN_RE.match(block.text)
    text = block.text[roman.end() :] if roman else MARKER_RE.sub("", block.text)
    folded = fold_words(text)
    if not folded or len(folded) > _SECTION_MAX_WORDS:
        return False
    heading = bool(roman) or block.emphasis or text.isupper()
    return heading and any(tuple(folded[: len(w)]) == w for w in _SECTION_WORDS)


def _ends_section(block: Block, numeral: str) -> bool:
    """Whether a block opens the next section (a heading numbered like the task section's)."""
    roman = _ROMAN_RE.match(block.text)
    return bool(numeral) and roman is not None and roman[1].upper() != numeral


def _body(blocks: tuple[Block, ...]) -> list[Block]:
    """The paragraphs after the header: from the first section heading on."""
    for index, block in enumerate(blocks):
        if not block.is_row and _ROMAN_RE.match(block.text):
            return [b for b in blocks[index:] if not b.is_row]
    return [b for b in blocks if not b.is_row]


def _unique_ids(tasks: list[Task]) -> list[Task]:
    """Tasks with ids made unique ("IV.2", "IV.2-2") and valid for a plan file."""
    seen: dict[str, int] = {}
    renamed: dict[str, str] = {}
    for task in tasks:
        base = re.sub(r"[^A-Za-z0-9_.\-]", "", task.id.replace(" ", "")).strip(".") or "T"
        base = base[:36]
        seen[base] = seen.get(base, 0) + 1
        new = base if seen[base] == 1 else f"{base}-{seen[base]}"
        renamed[task.id] = renamed.get(task.id, new)
        task.id = new
    for task in tasks:
        if task.split_ids:
            task.split_ids = tuple(renamed.get(i, i) for i in task.split_ids)
    return tasks

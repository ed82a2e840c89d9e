"""Tasks from an appendix table: its header's columns, section rows naming owners, task rows."""

from __future__ import annotations

import re
from datetime import date

from plans.intake.document import Block
from plans.intake.due import find_due_phrases, readable
from plans.intake.owners import Mention, UnitIndex, fold_words
from plans.intake.paragraph import HEADING_SUFFIX_RE, REQUEST_RE, Task, named, partners_in, title_of

_COLUMN_RULES = (
    ("partners", ("phối hợp",)),
    ("owner", ("chủ trì",)),
    ("product", ("sản phẩm", "kết quả", "hình thức", "ghi chú", "kinh phí", "nguồn")),
    ("due", ("thời gian", "thời hạn", "tiến độ", "hoàn thành")),
    ("content", ("nhiệm vụ", "nội dung", "công việc", "hoạt động", "giải pháp", "đề án")),
    ("owner", ("đơn vị", "cơ quan", "người", "bộ phận", "phụ trách", "thực hiện")),
    ("number", ("tt", "stt", "số")),
)


_COLUMN_NUMBERS_RE = re.compile(r"^\(?[0-9]{1,2}\)?$")


def task_tables(
    blocks: tuple[Block, ...],
) -> list[tuple[list[Block], dict[str, int], tuple[str, ...]]]:
    """Tables whose header names a content column and an owner or time column: the rows
    after the header, the column of each role, the header's cells."""
    tables: dict[int, list[Block]] = {}
    follows: dict[int, int] = {}  # table → the table it directly follows (a page break apart)
    previous: Block | None = None
    for block in blocks:
        if block.is_row:
            if block.table not in tables and previous is not None and previous.is_row:
                follows[block.table] = previous.table
            tables.setdefault(block.table, []).append(block)
        previous = block
    found: list[tuple[list[Block], dict[str, int], tuple[str, ...]]] = []
    by_table: dict[int, int] = {}
    for table, rows in tables.items():
        before = follows.get(table)
        width = len(rows[0].cells)
        if before in by_table and len(tables[before][0].cells) == width:
            found[by_table[before]][0].extend(rows)  # the same table on the next page
            by_table[table] = by_table[before]
            continue
        for index, row in enumerate(rows[:3]):
            columns = _columns(row.cells)
            if "content" in columns and ("owner" in columns or "due" in columns):
                below = rows[index + 1] if index + 1 < len(rows) else None
                if below is not None and _is_subheader(below.cells):
                    # "Đơn vị thực hiện" over "Chủ trì | Phối hợp": the lower row decides.
                    columns |= _columns(below.cells)
                    index += 1
                by_table[table] = len(found)
                found.append((list(rows[index + 1 :]), columns, row.cells))
                break
    return found


def _is_subheader(cells: tuple[str, ...]) -> bool:
    """A second header row: every filled cell names a column role."""
    filled = [c for c in cells if c]
    return bool(filled) and len(_columns(tuple(filled))) == len(filled)


def _columns(cells: tuple[str, ...]) -> dict[str, int]:
    """The role of each header cell, by the words it holds."""
    columns: dict[str, int] = {}
    for index, cell in enumerate(cells):
        folded = " ".join(fold_words(cell))
        for role, keys in _COLUMN_RULES:
            hit = any(re.search(rf"(?:^|\s){re.escape(k)}(?:\s|$)", folded) for k in keys)
            if hit and role not in columns:
                columns[role] = index
                break
    return columns


class TableReader:
    """Tasks from the rows of an appendix table."""

    def __init__(self, units: UnitIndex, issued: date, columns: dict[str, int], label: str) -> None:
        self.units = units
        self.issued = issued
        self.columns = columns
        self.label = label
        self.section = ""
        self.section_owners: list[Mention] = []
        self.last_owners: list[Mention] = []
        self.count = 0

    def cell(self, row: Block, role: str) -> str:
        """The text of a row's cell in a role ("" when the table has no such column)."""
        index = self.columns.get(role)
        if index is None or index >= len(row.cells):
            return ""
        return row.cells[index].strip()

    def read(self, rows: list[Block], header: tuple[str, ...]) -> list[Task]:
        """The tasks of the rows."""
        tasks = []
        for row in rows:
            if all(_COLUMN_NUMBERS_RE.match(c) for c in row.cells if c):
                continue  # a row numbering the columns: (1) (2) (3)
            if row.cells == header:
                continue  # the header repeated on a new page
            if self._section(row):
                continue
            task = self._task(row)
            if task:
                tasks.append(task)
        return tasks

    def _section(self, row: Block) -> bool:
        """A row that only heads the rows below it ("III | UBND HUYỆN"): remember its owner."""
        number = self.cell(row, "number")
        filled = [c for i, c in enumerate(row.cells) if c and i != self.columns.get("number")]
        roman = bool(re.fullmatch(r"[IVX]{1,4}|[A-Z]", number.rstrip(".")))
        if len(set(filled)) != 1 or not (roman or not number):
            return False
        text = filled[0]
        if not roman and self.cell(row, "content") != text:
            return False
        if not roman and not (text.isupper() or self.units.resolve(text)):
            return False
        self.section = number.rstrip(".") or self.section
        self.count = 0
        mentions = self.units.units_at(REQUEST_RE.sub("", text))
        full = mentions and HEADING_SUFFIX_RE.match(text[mentions[-1].end :])
        self.section_owners = list(mentions) if full else []
        self.last_owners = []
        return True

    def _task(self, row: Block) -> Task | None:
        """The task of a row with content."""
        content = " ".join(self.cell(row, "content").split())
        if not content:
            return None
        self.count += 1
        number = self.cell(row, "number").rstrip(".)") or str(self.count)
        ident = f"{self.label}{self.section}.{number}" if self.section else f"{self.label}{number}"
        request = bool(REQUEST_RE.match(content))
        owners = self._owners(row, content)
        if "partners" in self.columns:
            partners = named(self.units, self.cell(row, "partners"))
        else:
            partners = partners_in(self.units, content)
        title = title_of(content.strip(" .;"))
        task = Task(ident, title, row.source, owners, partners, request=request)
        lines = self.cell(row, "due").split("\n")
        due_cell = "; ".join(" ".join(line.split()).strip(" .;") for line in lines if line.strip())
        if due_cell:
            task.due, task.due_readable = due_cell, readable(due_cell, self.issued)
        elif "due" not in self.columns:
            phrases = find_due_phrases(content, issued=self.issued)
            if phrases:
                task.due = "; ".join(p.text for p in phrases)
                task.due_readable = all(p.readable for p in phrases)
        return task

    def _owners(self, row: Block, content: str) -> list[Mention]:
        """The owner cell; else a unit the content starts with; else the section's; else the
        row above's (a cell merged down the rows)."""
        cell = self.cell(row, "owner")
        if cell:
            text = cell.replace("\n", ", ")
            mentions = self.units.units_at(text)
            self.last_owners = mentions or [Mention(text, None, 0, len(text))]
            return self.last_owners
        own = self.units.units_at(REQUEST_RE.sub("", content))
        if own and not all(m.vague for m in own) and content[own[-1].end :].strip():
            return own
        return self.section_owners or self.last_owners

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
from dataclasses import dataclass, field, replace
from datetime import date

from plans.intake.document import Block
from plans.intake.due import DuePhrase, find_due_phrases, readable
from plans.intake.owners import Mention, UnitIndex, fold_words
from plans.intake.text_reader import MARKER_RE

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
_CLOSING_RE = re.compile(
    r"^(?:Trên đây là|Nơi nhận|TM\.|KT\.|T/M|Lưu:|Lưu VT|Yêu cầu các|Trong quá trình thực hiện)",
    re.IGNORECASE,
)
_HEADING_PREFIX_RE = re.compile(
    r"^(?:đối với|trách nhiệm của|nhiệm vụ của|giao cho|giao)\s+", re.IGNORECASE
)
_HEADING_SUFFIX_RE = re.compile(
    r"^\s*(?:có trách nhiệm|chịu trách nhiệm|chủ trì|thực hiện)?"
    r"(?:\s*(?:các|những))?(?:\s*nhiệm vụ)?(?:\s*(?:sau|cụ thể|sau đây))?\s*[:.]?\s*$",
    re.IGNORECASE,
)
_REQUEST_RE = re.compile(r"^(?:kính\s+)?đề nghị\s+", re.IGNORECASE)
_ASSIGN_RE = re.compile(r"(?:^|,\s|\s)giao(?:\s+cho)?\s+(?=\S)", re.IGNORECASE)
_PARTNER_RE = re.compile(r"\bphối hợp(?:\s+chặt chẽ)?(?:\s+với)?\s+", re.IGNORECASE)
_CLAUSE_RE = re.compile(r";\s*|\.\s+(?=[^\W\d_])|\n")
_BULLETS = ("-", "+", "•", "*", "–")
_FIELD_RES = (
    (
        "owner",
        re.compile(r"^(?:cơ quan|đơn vị|bộ phận)?\s*(?:chủ trì|thực hiện|phụ trách)\s*:\s*", re.I),
    ),
    ("partners", re.compile(r"^(?:cơ quan|đơn vị)?\s*phối hợp\s*:\s*", re.I)),
    ("due", re.compile(r"^(?:thời gian|thời hạn|tiến độ)(?: thực hiện| hoàn thành)?\s*:\s*", re.I)),
    ("skip", re.compile(r"^(?:sản phẩm|kết quả|hình thức|kinh phí)[^:]{0,30}:\s*", re.I)),
)
_COLUMN_RULES = (
    ("partners", ("phối hợp",)),
    ("owner", ("chủ trì",)),
    ("product", ("sản phẩm", "kết quả", "hình thức", "ghi chú", "kinh phí", "nguồn")),
    ("due", ("thời gian", "thời hạn", "tiến độ", "hoàn thành")),
    ("content", ("nhiệm vụ", "nội dung", "công việc", "hoạt động", "giải pháp", "đề án")),
    ("owner", ("đơn vị", "cơ quan", "người", "bộ phận", "phụ trách", "thực hiện")),
    ("number", ("tt", "stt", "số")),
)
_ROW_NUMBER_RE = re.compile(r"^(?:[IVX]{1,4}|[A-Z]|[0-9]{1,3}(?:\.[0-9]{1,3})*|[a-zđ])[.)]?$")
_COLUMN_NUMBERS_RE = re.compile(r"^\(?[0-9]{1,2}\)?$")


@dataclass
class Task:
    """One drafted task: what the document says, resolved where it could be."""

    id: str
    title: str
    source: str
    owners: list[Mention] = field(default_factory=list)
    partners: list[Mention] = field(default_factory=list)
    due: str | None = None
    due_readable: bool = True
    request: bool = False
    split_ids: tuple[str, ...] = ()  # the tasks one paragraph was split into


@dataclass(frozen=True)
class _Context:
    """What a heading or an introducing paragraph hands down to the items under it."""

    level: int
    id: str
    owners: tuple[Mention, ...] = ()
    partners: tuple[Mention, ...] = ()
    request: bool = False
    due: DuePhrase | None = None
    children: int = 0


def extract_tasks(blocks: tuple[Block, ...], units: UnitIndex, *, issued: date) -> list[Task]:
    """The tasks of a document, in document order, with unique ids."""
    region, prefix = _task_region(blocks)
    tables = _task_tables(blocks)
    tasks: list[Task] = []
    if region is not None:
        tasks += _TextReader(units, issued, prefix, strict=False).read(region)
    elif not tables:
        tasks += _TextReader(units, issued, "", strict=True).read(_body(blocks))
    for number, (rows, columns, header) in enumerate(tables, start=1):
        label = "" if len(tables) == 1 else f"B{number}."
        tasks += _TableReader(units, issued, columns, label).read(rows, header)
    return _unique_ids(tasks)


# --- Where the tasks are ------------------------------------------------------------------


def _task_region(blocks: tuple[Block, ...]) -> tuple[list[Block] | None, str]:
    """The blocks of the task section and its numeral, or (None, "") when there is none."""
    start: int | None = None
    numeral = ""
    for index, block in enumerate(blocks):
        if block.is_row:
            continue
        if start is not None and (_CLOSING_RE.match(block.text) or _ends_section(block, numeral)):
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


# --- Text ---------------------------------------------------------------------------------


class _TextReader:
    """Tasks from numbered headings, paragraphs and bullets."""

    def __init__(self, units: UnitIndex, issued: date, prefix: str, *, strict: bool) -> None:
        self.units = units
        self.issued = issued
        self.prefix = prefix
        self.strict = strict
        self.kinds: list[str] = []
        self.stack: list[_Context] = [_Context(-1, prefix)]
        self.tasks: list[Task] = []
        # Without a task section, a task naming no unit is kept only if a labelled line under
        # it names one ("Cơ quan chủ trì: …").
        self.tentative: set[int] = set()

    def read(self, blocks: list[Block]) -> list[Task]:
        """The tasks of the paragraphs, in order."""
        paragraphs = [b for b in blocks if not b.is_row]
        for index, block in enumerate(paragraphs):
            if _CLOSING_RE.match(block.text):
                break
            following = paragraphs[index + 1] if index + 1 < len(paragraphs) else None
            self._paragraph(block, following)
        return [task for task in self.tasks if id(task) not in self.tentative]

    def _level(self, text: str) -> tuple[int, str]:
        """The nesting level of a paragraph's numbering (kinds ranked by first use) and its
        label; an unnumbered paragraph lies under everything before it."""
        kind, label = _marker(text)
        if not kind:
            return 1000, ""
        if kind not in self.kinds:
            self.kinds.append(kind)
        return self.kinds.index(kind), label

    def _paragraph(self, block: Block, following: Block | None) -> None:
        """Read one paragraph: a field of the last task, a heading, an intro, or tasks."""
        level, label = self._level(block.text)
        body = MARKER_RE.sub("", block.text, count=1).strip()
        if self._field(body):
            return
        if level < 1000:
            while self.stack[-1].level >= level:
                self.stack.pop()
        parent = self.stack[-1]
        ident = self._ident(parent, label)
        heading = self._heading(body)
        if heading is not None:
            owners, request = heading
            self.stack.append(_Context(level, ident, tuple(owners), (), request))
            return
        owners, request, lead = self._own_owners(body)
        inherited = not owners
        if inherited:
            owners, request = self._inherited()
        phrases = find_due_phrases(body, issued=self.issued)
        if self._introduces(body, level, following):
            due = phrases[-1] if phrases else self._inherited_due()
            partners = tuple(_partners(self.units, body)) or self._inherited_partners()
            self.stack.append(_Context(level, ident, tuple(owners), partners, request, due))
            return
        if not phrases and (due := self._inherited_due()):
            phrases = [replace(due, start=len(body), end=len(body))]
        tasks = self._split(body, phrases, ident, block.source, owners, request, lead)
        self.tasks += tasks
        if not owners and self.strict:
            self.tentative |= {id(task) for task in tasks}
        if level < 1000:
            self.stack.append(_Context(level, ident, tuple(owners), (), request))

    def _ident(self, parent: _Context, label: str) -> str:
        """A task id from the numbering path ("IV.1.2"), or the parent's for a plain paragraph."""
        if label and "." in label and label[0].isdigit():
            return f"{self.prefix}.{label}" if self.prefix else label
        if not label or label in _BULLETS:
            count = sum(1 for t in self.tasks if t.id.startswith(parent.id)) + 1
            label = str(count) if label else ""
            if not label:
                return parent.id or "T"
        return f"{parent.id}.{label}" if parent.id else label

    def _field(self, body: str) -> bool:
        """A labelled line under a task ("Cơ quan chủ trì: …", "Thời hạn: …"): set it."""
        for name, pattern in _FIELD_RES:
            match = pattern.match(body)
            if not match:
                continue
            if not self.tasks:
                return True
            task = self.tasks[-1]
            value = body[match.end() :].strip(" .;")
            if name == "owner":
                task.owners = self.units.units_at(value) or [Mention(value, None, 0, len(value))]
                self.tentative.discard(id(task))
            elif name == "partners":
                task.partners = _named(self.units, value)
            elif name == "due":
                task.due, task.due_readable = value, readable(value, self.issued)
            return True
        return False

    def _heading(self, body: str) -> tuple[list[Mention], bool] | None:
        """(owners, request) when the paragraph only names units ("1. Phòng GD&ĐT:")."""
        request = bool(_REQUEST_RE.match(body))
        text = _REQUEST_RE.sub("", _HEADING_PREFIX_RE.sub("", body))
        mentions = self.units.units_at(text)
        if not mentions:
            return None
        rest = text[mentions[-1].end :]
        return (mentions, request) if _HEADING_SUFFIX_RE.match(rest) else None

    def _own_owners(self, body: str) -> tuple[list[Mention], bool, int]:
        """Units the paragraph names as its own doers, whether it is a request, and where the
        task's own words start."""
        request = _REQUEST_RE.match(body)
        if request:
            mentions = self.units.units_at(body, request.end())
            if mentions:
                return mentions, True, mentions[-1].end
        assign = _ASSIGN_RE.search(body[:80])
        if assign:
            mentions = self.units.units_at(body, assign.end())
            if mentions and not all(m.vague for m in mentions):
                return mentions, False, mentions[-1].end
        mentions = self.units.units_at(body)
        if mentions and not all(m.vague for m in mentions) and body[mentions[-1].end :].strip():
            return mentions, False, 0
        return [], False, 0

    def _inherited(self) -> tuple[list[Mention], bool]:
        """The owners handed down by the nearest heading or intro."""
        for context in reversed(self.stack):
            if context.owners:
                return list(context.owners), context.request
        return [], False

    def _inherited_due(self) -> DuePhrase | None:
        """The deadline of the nearest intro ("…trước ngày 30/6/2024, gồm:")."""
        for context in reversed(self.stack):
            if context.due:
                return context.due
        return None

    def _inherited_partners(self) -> tuple[Mention, ...]:
        """The partners of the nearest intro."""
        for context in reversed(self.stack):
            if context.partners:
                return context.partners
        return ()

    def _introduces(self, body: str, level: int, following: Block | None) -> bool:
        """Whether the paragraph ends with ":" and numbered items under it follow."""
        if not body.rstrip().endswith(":") or following is None:
            return False
        next_level = self._peek_level(following.text)
        return next_level is not None and (level == 1000 or next_level > level)

    def _peek_level(self, text: str) -> int | None:
        """The level a paragraph would have (a kind not seen yet ranks below all others)."""
        kind, _ = _marker(text)
        if not kind:
            return None
        return self.kinds.index(kind) if kind in self.kinds else len(self.kinds)

    def _split(
        self,
        body: str,
        phrases: list[DuePhrase],
        ident: str,
        source: str,
        owners: list[Mention],
        request: bool,
        lead: int,
    ) -> list[Task]:
        """One task per deadline (or one task); each with its partners."""
        segments = _segments(body, phrases)
        ids = (
            [ident]
            if len(segments) == 1
            else [f"{ident}{chr(97 + i)}" for i in range(len(segments))]
        )
        tasks = []
        for task_id, (start, end, due) in zip(ids, segments, strict=True):
            text = body[start:end].strip(" ;,.")
            partners = _partners(self.units, body[max(start, lead) : end]) or list(
                self._inherited_partners()
            )
            task = Task(task_id, _title(text), source, list(owners), partners, request=request)
            if due:
                task.due = "; ".join(p.text for p in due)
                task.due_readable = all(p.readable for p in due)
            if len(segments) > 1:
                task.split_ids = tuple(ids)
            tasks.append(task)
        return tasks


def _partners(units: UnitIndex, text: str) -> list[Mention]:
    """The units after the first "phối hợp (với)" of a text, vague ones left out."""
    match = _PARTNER_RE.search(text)
    return _named(units, text, match.end()) if match else []


def _named(units: UnitIndex, text: str, start: int = 0) -> list[Mention]:
    """The units a text lists from `start`, vague ones ("các đơn vị liên quan") left out."""
    return [m for m in units.units_at(text, start) if not m.vague]


def _marker(text: str) -> tuple[str, str]:
    """The kind of a paragraph's numbering ("arabic2" for "1.2.", "letter", "-") and its
    label ("1.2", "a", "-"); ("", "") when unnumbered."""
    marker = MARKER_RE.match(text)
    if not marker:
        return "", ""
    label = marker[0].rstrip(".)")
    if label in _BULLETS:
        return label, label
    if label.isdigit() or "." in label:
        return f"arabic{label.count('.') + 1}", label
    if re.fullmatch(r"[IVXLC]+", label):
        return "roman", label
    return "letter", label


def _segments(body: str, phrases: list[DuePhrase]) -> list[tuple[int, int, list[DuePhrase]]]:
    """(start, end, deadlines) of each task a paragraph holds: one per clause that has a
    deadline, the clauses after it joining it; clauses before the first deadline stay apart."""
    clauses = _clauses(body)
    dated = {i for i, (s, e) in enumerate(clauses) if any(s <= p.start < e for p in phrases)}
    if len(dated) <= 1:
        return [(0, len(body), phrases)]
    groups: list[list[int]] = []
    for index in range(len(clauses)):
        if index in dated or not groups:
            groups.append([index])
        else:
            groups[-1].append(index)
    out = []
    for group in groups:
        start, end = clauses[group[0]][0], clauses[group[-1]][1]
        out.append((start, end, [p for p in phrases if start <= p.start < end]))
    return out


def _clauses(body: str) -> list[tuple[int, int]]:
    """The clauses of a paragraph: split at ";" and at sentence ends."""
    spans = []
    start = 0
    for match in _CLAUSE_RE.finditer(body):
        if body[start : match.start()].strip():
            spans.append((start, match.end()))
        start = match.end()
    if body[start:].strip():
        spans.append((start, len(body)))
    return spans or [(0, len(body))]


def _title(text: str) -> str:
    """A task's title: its text on one line, first letter capital."""
    text = " ".join(text.split())
    return text[:1].upper() + text[1:]


# --- Tables ---------------------------------------------------------------------------------


def _task_tables(
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


class _TableReader:
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
        mentions = self.units.units_at(_REQUEST_RE.sub("", text))
        full = mentions and _HEADING_SUFFIX_RE.match(text[mentions[-1].end :])
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
        request = bool(_REQUEST_RE.match(content))
        owners = self._owners(row, content)
        if "partners" in self.columns:
            partners = _named(self.units, self.cell(row, "partners"))
        else:
            partners = _partners(self.units, content)
        title = _title(content.strip(" .;"))
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
        own = self.units.units_at(_REQUEST_RE.sub("", content))
        if own and not all(m.vague for m in own) and content[own[-1].end :].strip():
            return own
        return self.section_owners or self.last_owners


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

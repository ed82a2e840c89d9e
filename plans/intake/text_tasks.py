"""Tasks from the text: numbered headings, the paragraphs and bullets under them, their fields."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date

from plans.intake.document import Block
from plans.intake.due import DuePhrase, find_due_phrases, readable
from plans.intake.owners import Mention, UnitIndex
from plans.intake.paragraph import (
    BULLETS,
    CLOSING_RE,
    HEADING_SUFFIX_RE,
    REQUEST_RE,
    Task,
    deadline_segments,
    named,
    numbering,
    partners_in,
    title_of,
)
from plans.intake.text_reader import MARKER_RE

_HEADING_PREFIX_RE = re.compile(
    r"^(?:đối với|trách nhiệm của|nhiệm vụ của|giao cho|giao)\s+", re.IGNORECASE
)


_ASSIGN_RE = re.compile(r"(?:^|,\s|\s)giao(?:\s+cho)?\s+(?=\S)", re.IGNORECASE)


_FIELD_RES = (
    (
        "owner",
        re.compile(r"^(?:cơ quan|đơn vị|bộ phận)?\s*(?:chủ trì|thực hiện|phụ trách)\s*:\s*", re.I),
    ),
    ("partners", re.compile(r"^(?:cơ quan|đơn vị)?\s*phối hợp\s*:\s*", re.I)),
    ("due", re.compile(r"^(?:thời gian|thời hạn|tiến độ)(?: thực hiện| hoàn thành)?\s*:\s*", re.I)),
    ("skip", re.compile(r"^(?:sản phẩm|kết quả|hình thức|kinh phí)[^:]{0,30}:\s*", re.I)),
)


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


class TextReader:
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
            if CLOSING_RE.match(block.text):
                break
            following = paragraphs[index + 1] if index + 1 < len(paragraphs) else None
            self._paragraph(block, following)
        return [task for task in self.tasks if id(task) not in self.tentative]

    def _level(self, text: str) -> tuple[int, str]:
        """The nesting level of a paragraph's numbering (kinds ranked by first use) and its
        label; an unnumbered paragraph lies under everything before it."""
        kind, label = numbering(text)
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
            partners = tuple(partners_in(self.units, body)) or self._inherited_partners()
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
        if not label or label in BULLETS:
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
                task.partners = named(self.units, value)
            elif name == "due":
                task.due, task.due_readable = value, readable(value, self.issued)
            return True
        return False

    def _heading(self, body: str) -> tuple[list[Mention], bool] | None:
        """(owners, request) when the paragraph only names units ("1. Phòng GD&ĐT:")."""
        request = bool(REQUEST_RE.match(body))
        text = REQUEST_RE.sub("", _HEADING_PREFIX_RE.sub("", body))
        mentions = self.units.units_at(text)
        if not mentions:
            return None
        rest = text[mentions[-1].end :]
        return (mentions, request) if HEADING_SUFFIX_RE.match(rest) else None

    def _own_owners(self, body: str) -> tuple[list[Mention], bool, int]:
        """Units the paragraph names as its own doers, whether it is a request, and where the
        task's own words start."""
        request = REQUEST_RE.match(body)
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
        kind, _ = numbering(text)
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
        segments = deadline_segments(body, phrases)
        ids = (
            [ident]
            if len(segments) == 1
            else [f"{ident}{chr(97 + i)}" for i in range(len(segments))]
        )
        tasks = []
        for task_id, (start, end, due) in zip(ids, segments, strict=True):
            text = body[start:end].strip(" ;,.")
            partners = partners_in(self.units, body[max(start, lead) : end]) or list(
                self._inherited_partners()
            )
            task = Task(task_id, title_of(text), source, list(owners), partners, request=request)
            if due:
                task.due = "; ".join(p.text for p in due)
                task.due_readable = all(p.readable for p in due)
            if len(segments) > 1:
                task.split_ids = tuple(ids)
            tasks.append(task)
        return tasks

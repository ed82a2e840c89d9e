"""A document read into a draft plan file: YAML with a `# KIỂM TRA:` comment on each doubt."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from plans.intake import texts
from plans.intake.header import Header, read_header
from plans.intake.owners import Mention, UnitIndex, fold, plain
from plans.intake.paragraph import Task
from plans.intake.reader import read_document
from plans.intake.tasks import extract_tasks

_CODE_MAX = 40
# A task that follows the plan as a whole: its owner is the plan's coordinator.
_COORDINATOR_RE = re.compile(
    r"đầu mối|cơ quan thường trực|theo dõi, đôn đốc|tổng hợp.{0,80}báo cáo", re.IGNORECASE
)


@dataclass(frozen=True)
class Doubt:
    """Something the operator must check, on a line of the draft."""

    line: int
    message: str


@dataclass(frozen=True)
class Draft:
    """The draft's YAML text, its doubts and how many tasks it holds."""

    text: str
    doubts: tuple[Doubt, ...]
    tasks: int


def draft_plan(path: Path, units: UnitIndex, *, today: date) -> Draft:
    """Read a plan document and write its draft; `today` stands in for an unknown issue date
    when checking that deadlines read."""
    document = read_document(path)
    header = read_header(document.blocks)
    tasks = extract_tasks(document.blocks, units, issued=header.issued or today)
    return _Writer(units).write(path.name, header, tasks)


def plan_code(number: str | None, fallback: str) -> str:
    """A plan code from its number ("315-KH/HU" → "KH-315-HU") or from the file's name."""
    if number:
        parts = [p for p in re.split(r"[-/.\s]+", plain(number).upper()) if p]
        if "KH" in parts:
            parts.remove("KH")
            parts.insert(0, "KH")
        code = "-".join(parts)
    else:
        code = "-".join(re.findall(r"[A-Z0-9]+", plain(fallback).upper()))
    return re.sub(r"[^A-Za-z0-9_-]", "", code)[:_CODE_MAX].strip("-") or "KH"


class _Writer:
    """Writes the draft line by line, keeping the line of each doubt."""

    def __init__(self, units: UnitIndex) -> None:
        self.units = units
        self.lines: list[str] = []
        self.doubts: list[Doubt] = []

    def emit(self, text: str, *doubts: str) -> None:
        """One line, with its doubts as a trailing comment."""
        if doubts:
            text = f"{text}  # {texts.DOUBT_MARK} {'; '.join(doubts)}"
            self.doubts += [Doubt(len(self.lines) + 1, d) for d in doubts]
        self.lines.append(text)

    def write(self, source: str, header: Header, tasks: list[Task]) -> Draft:
        """The whole draft."""
        for line in texts.DRAFT_HEADER.format(source=source).splitlines():
            self.lines.append(line)
        self._header(source, header, tasks)
        self.emit("tasks:", *([] if tasks else [texts.DOUBT_NO_TASKS]))
        for task in tasks:
            self._task(task)
        return Draft("\n".join(self.lines) + "\n", tuple(self.doubts), len(tasks))

    def _header(self, source: str, header: Header, tasks: list[Task]) -> None:
        """Plan-level fields."""
        self.emit(f"code: {plan_code(header.number, Path(source).stem)}")
        if header.number:
            self.emit(f"number: {_scalar(header.number)}")
        if header.title:
            self.emit(f"title: {_scalar(header.title)}")
        else:
            fallback = (
                texts.TITLE_OF_NUMBER.format(number=header.number) if header.number else source
            )
            self.emit(f"title: {_scalar(fallback)}", texts.DOUBT_NO_TITLE)
        if header.issuer:
            self.emit(f"issuer: {_scalar(header.issuer)}")
        if header.issued:
            self.emit(f"issued: {header.issued.isoformat()}")
        else:
            self.emit("issued: null", texts.DOUBT_NO_ISSUED)
        if header.until:
            self.emit(f"until: {header.until.isoformat()}")
        if header.implements:
            self.emit(f"implements: {_scalar(header.implements)}")
        coordinator = self._coordinator(header, tasks)
        if coordinator:
            self.emit(f"coordinator: {coordinator}")
        else:
            self.emit("coordinator: null", texts.DOUBT_NO_COORDINATOR)

    def _coordinator(self, header: Header, tasks: list[Task]) -> str | None:
        """The unit that follows the whole plan and compiles its report, when the text says."""
        for task in tasks:
            codes = [m.code for m in task.owners]
            if len(codes) == 1 and codes[0] and not self.units.is_group(codes[0]):
                if _COORDINATOR_RE.search(fold(task.title)):
                    return codes[0]
        issuer = self.units.resolve(header.issuer) if header.issuer else None
        return issuer.code if issuer and issuer.code and not issuer.fuzzy else None

    def _task(self, task: Task) -> None:
        """One task entry."""
        split = (
            [texts.DOUBT_SPLIT.format(count=len(task.split_ids), ids=", ".join(task.split_ids))]
            if task.split_ids
            else []
        )
        self.emit(f"  - id: {_scalar(task.id)}")
        self.emit(f"    title: {_scalar(task.title)}", *split)
        self._owner(task.owners)
        self._partners(task.partners)
        if task.due is None:
            self.emit("    due: null", texts.DOUBT_NO_DUE)
        elif not task.due_readable:
            self.emit(
                f"    due: {_scalar(task.due)}", texts.DOUBT_DUE_UNREADABLE.format(due=task.due)
            )
        else:
            self.emit(f"    due: {_scalar(task.due)}")
        if task.request:
            self.emit("    request: true")
        self.emit(f"    source: {_scalar(task.source)}")

    def _owner(self, owners: list[Mention]) -> None:
        """The owner: one code, a list of co-owners, or the name as written (flagged)."""
        if not owners:
            self.emit("    owner: null", texts.DOUBT_NO_OWNER)
            return
        values = _unique([m.code or m.text for m in owners])
        doubts = [self._owner_doubt(m) for m in owners if m.code is None or m.fuzzy]
        value = values[0] if len(values) == 1 else values
        self.emit(f"    owner: {_scalar(value)}", *_unique(doubts))

    def _owner_doubt(self, mention: Mention) -> str:
        """Why an owner needs checking."""
        if mention.code is None:
            return texts.DOUBT_OWNER_UNKNOWN.format(name=mention.text)
        unit = self.units.name_of(mention.code)
        return texts.DOUBT_OWNER_FUZZY.format(name=mention.text, code=mention.code, unit=unit)

    def _partners(self, partners: list[Mention]) -> None:
        """Partner units; names no directory knows stay as written (flagged)."""
        if not partners:
            return
        values = _unique([m.code or m.text for m in partners])
        doubts = [
            texts.DOUBT_PARTNER_UNKNOWN.format(name=m.text)
            if m.code is None
            else self._owner_doubt(m)
            for m in partners
            if m.code is None or m.fuzzy
        ]
        self.emit(f"    partners: {_scalar(values)}", *_unique(doubts))


def _unique(values: list[str]) -> list[str]:
    """Values without repeats, in order."""
    return list(dict.fromkeys(values))


def _scalar(value: Any) -> str:
    """A value as one line of YAML (quoted where YAML needs it; lists in flow style)."""
    dumped = yaml.safe_dump(
        value, allow_unicode=True, default_flow_style=True, width=1_000_000, sort_keys=False
    )
    return dumped.removesuffix("\n").removesuffix("\n...").strip()

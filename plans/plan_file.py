"""Load and validate a plan file (SPEC §3) against the units directory."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from plans.calendar import Calendar, default_calendar
from plans.deadline import Deadline, parse_deadline
from plans.errors import DeadlineError, InputFileError, Problem
from plans.policy import ReminderPolicy, validate_policy
from plans.source import SourceDoc, read_yaml

PLAN_CODE_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
TASK_ID_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,40}$")
KNOWN_KEYS = {"code", "number", "title", "issuer", "issued", "coordinator", "reminders", "tasks"}
TASK_KEYS = {"id", "title", "owner", "partners", "due"}


@dataclass(frozen=True)
class Directory:
    """What the plan may refer to: unit codes, group members, and aliases."""

    units: frozenset[str]
    groups: dict[str, tuple[str, ...]]
    aliases: dict[str, str] = field(default_factory=dict)  # folded alias → unit code

    def resolve(self, name: str) -> str | None:
        """A unit or group code for a code or a known alias."""
        if name in self.units or name in self.groups:
            return name
        return self.aliases.get(name.casefold().strip())

    def members(self, code: str) -> tuple[str, ...]:
        """The units a code stands for: itself, or every member of a group."""
        return self.groups.get(code, ()) if code in self.groups else (code,)


@dataclass(frozen=True)
class TaskSpec:
    """One validated task."""

    key: str
    title: str
    owner: str
    partners: tuple[str, ...]
    due_text: str
    deadline: Deadline


@dataclass(frozen=True)
class PlanSpec:
    """A validated plan file."""

    path: Path
    code: str
    title: str
    issued: date
    coordinator: str
    number: str | None
    issuer: str | None
    reminders: dict[str, Any]
    tasks: tuple[TaskSpec, ...]

    @property
    def policy(self) -> ReminderPolicy:
        """The plan's reminder policy (defaults overridden by `reminders:`)."""
        return ReminderPolicy.from_mapping(self.reminders)


def load_plan_file(
    path: Path, directory: Directory, *, calendar: Calendar | None = None
) -> PlanSpec:
    """Read and validate a plan; raise InputFileError listing every problem found."""
    doc = read_yaml(path)
    if not isinstance(doc.data, dict):
        raise InputFileError([doc.problem((), "tệp kế hoạch phải là một ánh xạ YAML")])
    calendar = calendar or default_calendar()
    raw = doc.data
    problems: list[Problem] = []
    for key in raw:
        if key not in KNOWN_KEYS:
            problems.append(doc.problem((str(key),), f"trường không biết: {key}"))
    code = _required_str(doc, raw, "code", problems)
    if code and not PLAN_CODE_RE.match(code):
        problems.append(doc.problem(("code",), f"mã kế hoạch không hợp lệ: {code!r}"))
    title = _required_str(doc, raw, "title", problems)
    issued = _issued(doc, raw.get("issued"), problems)
    coordinator = _required_str(doc, raw, "coordinator", problems)
    if coordinator and coordinator not in directory.units:
        problems.append(doc.problem(("coordinator",), f"đơn vị không tồn tại: {coordinator}"))
    problems.extend(
        validate_policy(
            raw.get("reminders"),
            lambda ptr, msg: doc.problem(("reminders", *ptr), msg),
        )
    )
    tasks = _tasks(doc, raw.get("tasks"), directory, issued, calendar, problems)
    if problems:
        raise InputFileError(problems)
    assert code and title and issued and coordinator
    return PlanSpec(
        path=path,
        code=code,
        title=title,
        issued=issued,
        coordinator=coordinator,
        number=_optional_str(raw.get("number")),
        issuer=_optional_str(raw.get("issuer")),
        reminders=dict(raw.get("reminders") or {}),
        tasks=tuple(tasks),
    )


def _optional_str(value: Any) -> str | None:
    """A stripped string or None."""
    return str(value).strip() or None if value is not None else None


def _required_str(doc: SourceDoc, raw: dict, key: str, problems: list[Problem]) -> str | None:
    """A required non-empty string field."""
    value = raw.get(key)
    if value is None or not str(value).strip():
        problems.append(doc.problem((key,), f"thiếu trường bắt buộc '{key}'"))
        return None
    return str(value).strip()


def _issued(doc: SourceDoc, value: Any, problems: list[Problem]) -> date | None:
    """The issue date, as a YAML date or an ISO string."""
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    message = (
        "thiếu trường bắt buộc 'issued'" if value is None else "ngày ban hành phải là YYYY-MM-DD"
    )
    problems.append(doc.problem(("issued",), message))
    return None


def _tasks(
    doc: SourceDoc,
    raw: Any,
    directory: Directory,
    issued: date | None,
    calendar: Calendar,
    problems: list[Problem],
) -> list[TaskSpec]:
    """Validate the task list."""
    if not isinstance(raw, list) or not raw:
        problems.append(doc.problem(("tasks",), "kế hoạch phải có danh sách nhiệm vụ 'tasks'"))
        return []
    tasks: list[TaskSpec] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        ptr = ("tasks", index)
        if not isinstance(item, dict):
            problems.append(doc.problem(ptr, "mỗi nhiệm vụ phải là một ánh xạ"))
            continue
        before = len(problems)
        for key in item:
            if key not in TASK_KEYS:
                problems.append(doc.problem((*ptr, str(key)), f"trường không biết: {key}"))
        key = str(item.get("id", "")).strip()
        if not TASK_ID_RE.match(key):
            problems.append(doc.problem((*ptr, "id"), f"mã nhiệm vụ không hợp lệ: {key!r}"))
        elif key in seen:
            problems.append(doc.problem((*ptr, "id"), f"mã nhiệm vụ trùng: {key}"))
        seen.add(key)
        title = str(item.get("title") or "").strip()
        if not title:
            problems.append(doc.problem((*ptr, "title"), "thiếu tên nhiệm vụ"))
        owner = _unit_ref(doc, (*ptr, "owner"), item.get("owner"), directory, problems)
        partners = _partners(doc, (*ptr, "partners"), item.get("partners"), directory, problems)
        deadline = _deadline(doc, (*ptr, "due"), item.get("due"), issued, calendar, problems)
        if len(problems) == before and owner and deadline:
            due_text = str(item["due"]).strip()
            tasks.append(TaskSpec(key, title, owner, partners, due_text, deadline))
    return tasks


def _unit_ref(
    doc: SourceDoc, ptr: tuple, value: Any, directory: Directory, problems: list[Problem]
) -> str | None:
    """A unit or group reference that exists in the directory."""
    if not isinstance(value, str) or not value.strip():
        problems.append(doc.problem(ptr, "thiếu đơn vị chủ trì"))
        return None
    code = directory.resolve(value.strip())
    if code is None:
        problems.append(doc.problem(ptr, f"đơn vị hoặc nhóm không tồn tại: {value}"))
        return None
    if code in directory.groups and not directory.groups[code]:
        problems.append(doc.problem(ptr, f"nhóm {code} chưa có đơn vị nào"))
        return None
    return code


def _partners(
    doc: SourceDoc, ptr: tuple, value: Any, directory: Directory, problems: list[Problem]
) -> tuple[str, ...]:
    """The optional list of partner units or groups."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        problems.append(doc.problem(ptr, "'partners' phải là danh sách mã đơn vị"))
        return ()
    found: list[str] = []
    for item in value:
        code = directory.resolve(str(item)) if isinstance(item, str) else None
        if code is None:
            problems.append(doc.problem(ptr, f"đơn vị hoặc nhóm không tồn tại: {item}"))
        else:
            found.append(code)
    return tuple(found)


def _deadline(
    doc: SourceDoc,
    ptr: tuple,
    value: Any,
    issued: date | None,
    calendar: Calendar,
    problems: list[Problem],
) -> Deadline | None:
    """Parse the `due` expression (needs a valid `issued`)."""
    if value is None or not str(value).strip():
        problems.append(doc.problem(ptr, "thiếu thời hạn 'due'"))
        return None
    if isinstance(value, date):  # an unquoted YAML date: write it the Vietnamese way
        value = f"{value.day}/{value.month}/{value.year}"
    if issued is None:
        return None
    try:
        return parse_deadline(str(value), issued=issued, calendar=calendar)
    except DeadlineError as exc:
        problems.append(doc.problem(ptr, str(exc)))
        return None

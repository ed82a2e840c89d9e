"""Load and validate a plan file (plans/examples/kh-gddt-2023.yaml) against the units directory."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz

from plans.calendar import Calendar, default_calendar
from plans.deadline import Deadline, parse_deadline
from plans.errors import DeadlineError, InputFileError, Problem
from plans.indicator_specs import parse_indicator_specs
from plans.indicators import IndicatorSpec
from plans.plan_spec import Directory, PlanSpec, TaskSpec
from plans.policy import validate_policy
from plans.source import Pointer, SourceDoc, read_yaml
from plans.unit_names import Found

PLAN_CODE_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
TASK_ID_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,40}$")
UNIT_CODE_RE = re.compile(r"[A-Z0-9_-]{1,32}")
KNOWN_KEYS = {
    "code",
    "number",
    "title",
    "issuer",
    "issued",
    "issued_note",  # where an issue date the document does not print came from
    "until",
    "implements",
    "coordinator",
    "reminders",
    "tasks",
}
# `source`: where a drafted task came from in the plan's document (plans/intake/draft.py).
TASK_KEYS = {
    "id",
    "title",
    "owner",
    "partners",
    "partners_report",
    "due",
    "request",
    "indicators",
    "source",
}
# A partner written as free text this close (rapidfuzz ratio, whole names) to a unit's name is
# taken for a mistyped unit and refused, rather than shown as an organisation outside the
# directory ("Sở Giáo dục và Đào tạo" scores 84 against "Phòng Giáo dục và Đào tạo": outside).
EXTERNAL_REFUSED_FROM = 90
_LIST_SEPARATOR = re.compile(r"[,;]")


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
    refs = _References(doc, directory, problems)
    for key in raw:
        if key not in KNOWN_KEYS:
            problems.append(doc.problem((str(key),), f"trường không biết: {key}"))
    code = _required_str(doc, raw, "code", problems)
    if code and not PLAN_CODE_RE.match(code):
        problems.append(doc.problem(("code",), f"mã kế hoạch không hợp lệ: {code!r}"))
    title = _required_str(doc, raw, "title", problems)
    issued = _date(doc, "issued", raw.get("issued"), problems, required=True)
    until = _date(doc, "until", raw.get("until"), problems, required=False)
    if issued and until and until < issued:
        problems.append(doc.problem(("until",), "ngày kết thúc 'until' trước ngày ban hành"))
    coordinator = _required_str(doc, raw, "coordinator", problems)
    if coordinator:
        coordinator = refs.unit(("coordinator",), coordinator)
    problems.extend(
        validate_policy(
            raw.get("reminders"),
            lambda ptr, msg: doc.problem(("reminders", *ptr), msg),
        )
    )
    tasks = _tasks(doc, raw.get("tasks"), refs, issued, calendar, problems)
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
        until=until,
        implements=_optional_str(raw.get("implements")),
        issued_note=_optional_str(raw.get("issued_note")),
        notices=tuple(refs.notices),
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


def _date(
    doc: SourceDoc, key: str, value: Any, problems: list[Problem], *, required: bool
) -> date | None:
    """A date field, as a YAML date or an ISO string."""
    if isinstance(value, date):
        return value
    if value is None and not required:
        return None
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    message = f"thiếu trường bắt buộc '{key}'" if value is None else "ngày phải là YYYY-MM-DD"
    if key == "issued" and value is not None:
        message = "ngày ban hành phải là YYYY-MM-DD"
    problems.append(doc.problem((key,), message))
    return None


def _flag(doc: SourceDoc, ptr: Pointer, value: Any, problems: list[Problem]) -> bool:
    """An optional true/false field."""
    if value is None or isinstance(value, bool):
        return bool(value)
    problems.append(doc.problem(ptr, f"phải là true hoặc false: {value!r}"))
    return False


def _tasks(
    doc: SourceDoc,
    raw: Any,
    refs: _References,
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
        task = _task(doc, ptr, (key, title), item, refs, issued, calendar, problems)
        if len(problems) == before and task is not None:
            tasks.append(task)
    return tasks


def _task(
    doc: SourceDoc,
    ptr: Pointer,
    names: tuple[str, str],
    item: dict[str, Any],
    refs: _References,
    issued: date | None,
    calendar: Calendar,
    problems: list[Problem],
) -> TaskSpec | None:
    """A task with its id and title (`names`), or None when its owners or due are unusable."""
    owners = refs.owners((*ptr, "owner"), item.get("owner"))
    partners, external = refs.partners((*ptr, "partners"), item.get("partners"), owners)
    deadline = _deadline(doc, (*ptr, "due"), item.get("due"), issued, calendar, problems)
    indicators = _indicators(doc, (*ptr, "indicators"), item.get("indicators"), problems)
    report = _flag(doc, (*ptr, "partners_report"), item.get("partners_report"), problems)
    request = _flag(doc, (*ptr, "request"), item.get("request"), problems)
    if not owners or deadline is None:
        return None
    return TaskSpec(
        *names,
        owner=owners[0],
        partners=partners,
        due_text=deadline.text.strip(),
        deadline=deadline,
        owners=owners,
        external_partners=external,
        partners_report=report,
        request=request,
        indicators=indicators,
    )


@dataclass
class _References:
    """Finds the units a plan names, collecting problems and what was read differently."""

    doc: SourceDoc
    directory: Directory
    problems: list[Problem]
    notices: list[Problem] = field(default_factory=list)

    def unit(self, ptr: Pointer, written: str) -> str | None:
        """One unit (not a group), e.g. the coordinator."""
        codes = self._codes(ptr, written)
        if len(codes) == 1 and codes[0] in self.directory.groups:
            self._problem(ptr, f"{codes[0]} là một nhóm; ở đây cần một đơn vị")
            return None
        if len(codes) > 1:
            self._problem(ptr, f"chỉ ghi một đơn vị: {written}")
        return codes[0] if len(codes) == 1 else None

    def owners(self, ptr: Pointer, value: Any) -> tuple[str, ...]:
        """The lead units or groups: one written name or a list of them."""
        if value is None or value == "" or value == []:
            self._problem(ptr, "thiếu đơn vị chủ trì")
            return ()
        items = self._items(ptr, value, "'owner' phải là một đơn vị hoặc danh sách đơn vị")
        codes: list[str] = []
        for item_ptr, item in items:
            if not isinstance(item, str) or not item.strip():
                self._problem(item_ptr, f"đơn vị chủ trì phải là mã hoặc tên: {item!r}")
                continue
            for code in self._codes(item_ptr, item):
                if code in codes:
                    self._problem(item_ptr, f"đơn vị chủ trì ghi hai lần: {code}")
                elif code in self.directory.groups and not self.directory.groups[code]:
                    self._problem(item_ptr, f"nhóm {code} chưa có đơn vị nào")
                else:
                    codes.append(code)
        return tuple(codes)

    def partners(
        self, ptr: Pointer, value: Any, owners: tuple[str, ...]
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Partner units or groups, and organisations outside the directory (free text)."""
        if value is None:
            return (), ()
        items = self._items(ptr, value, "'partners' phải là danh sách đơn vị phối hợp")
        codes: list[str] = []
        external: list[str] = []
        for item_ptr, item in items:
            if isinstance(item, dict) and list(item) == ["external"]:
                text = _optional_str(item["external"])
                if text:
                    external.append(text)
                    continue
            if not isinstance(item, str) or not item.strip():
                message = f"đơn vị phối hợp phải là mã, tên, hoặc {{external: tên}}: {item!r}"
                self._problem(item_ptr, message)
                continue
            for part in self._split(item):
                found = self._partner(item_ptr, part)
                if isinstance(found, str):
                    external.append(found)
                for code in found if isinstance(found, list) else ():
                    if code in owners:
                        self._problem(item_ptr, f"{code} đã là đơn vị chủ trì")
                    elif code not in codes:
                        codes.append(code)
        return tuple(codes), tuple(external)

    def _split(self, written: str) -> list[str]:
        """A written "A, B" as its parts, when the whole names nothing and some part a unit."""
        if self.directory.find(written).code or not any(self._parts(written)):
            return [written]
        return [part.strip() for part in _LIST_SEPARATOR.split(written)]

    def _partner(self, ptr: Pointer, written: str) -> list[str] | str:
        """A partner's codes, or its text when it names an organisation outside the directory."""
        text = " ".join(written.split())
        found = self.directory.find(text)
        if found.code or found.ambiguous or UNIT_CODE_RE.fullmatch(text):
            return self._codes(ptr, text)
        close = self.directory.index.closest(text, cutoff=EXTERNAL_REFUSED_FROM, scorer=fuzz.ratio)
        if close:
            described = self.directory.index.describe(close)
            message = (
                f"đơn vị hoặc nhóm không tồn tại: {text} (gần giống: {described}); nếu là "
                f"tổ chức ngoài danh bạ, ghi: {{external: {text}}}"
            )
            self._problem(ptr, message)
            return []
        return text

    def _codes(self, ptr: Pointer, written: str) -> list[str]:
        """The codes a written name stands for: one, or each of a list "A, B" (with problems)."""
        found = self.directory.find(written)
        if found.code:
            return self._active(ptr, found.code)
        parts = self._parts(written)
        if len(parts) > 1 and any(parts) and not found.ambiguous:
            codes: list[str] = []
            for part, code in zip(_LIST_SEPARATOR.split(written), parts, strict=True):
                if code:
                    codes += self._active(ptr, code)
                else:
                    self._refuse(ptr, part.strip(), self.directory.find(part))
            return codes
        self._refuse(ptr, written.strip(), found)
        return []

    def _parts(self, written: str) -> list[str | None]:
        """The code of each part of "A, B; C" (None where a part names nothing)."""
        pieces = _LIST_SEPARATOR.split(written)
        if len(pieces) < 2 or not all(p.strip() for p in pieces):
            return []
        return [self.directory.find(piece).code for piece in pieces]

    def _active(self, ptr: Pointer, code: str) -> list[str]:
        """The code itself, or for a retired unit the one it merged into (noted)."""
        if code not in self.directory.retired:
            return [code]
        successor = self.directory.successor(code)
        if successor is None:
            self._problem(ptr, f"đơn vị {code} đã ngừng hoạt động")
            return []
        message = f"{code} đã ngừng hoạt động, sáp nhập vào {successor}: tính cho {successor}"
        self.notices.append(self.doc.problem(ptr, message))
        return [successor]

    def _refuse(self, ptr: Pointer, written: str, found: Found) -> None:
        """Report a name that is unknown, or that several units carry."""
        described = self.directory.index.describe(found.candidates)
        if found.ambiguous:
            self._problem(ptr, f"«{written}» có thể là: {described}; hãy ghi mã")
            return
        close = f" (gần giống: {described})" if described else ""
        self._problem(ptr, f"đơn vị hoặc nhóm không tồn tại: {written}{close}")

    def _items(self, ptr: Pointer, value: Any, message: str) -> list[tuple[Pointer, Any]]:
        """One value or each item of a list, with where it is."""
        if isinstance(value, list):
            return [((*ptr, index), item) for index, item in enumerate(value)]
        if isinstance(value, str | dict):
            return [(ptr, value)]
        self._problem(ptr, message)
        return []

    def _problem(self, ptr: Pointer, message: str) -> None:
        """Record a problem at `ptr`."""
        self.problems.append(self.doc.problem(ptr, message))


def _indicators(
    doc: SourceDoc, ptr: Pointer, raw: Any, problems: list[Problem]
) -> tuple[IndicatorSpec, ...]:
    """The task's indicators (plans/indicator_specs.py), problems located in this file."""

    def locate(inner: Pointer, message: str) -> Problem:
        """A problem inside the task's `indicators:`."""
        return doc.problem((*ptr, *inner), message)

    try:
        return parse_indicator_specs(raw, locate)
    except InputFileError as exc:
        problems.extend(exc.problems)
        return ()


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

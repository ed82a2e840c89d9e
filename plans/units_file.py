"""Load and validate a units file (YAML or CSV; plans/examples/units.yaml shows the format)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plans.errors import InputFileError, Problem
from plans.source import Pointer, SourceDoc, read_csv, read_yaml

CODE_RE = re.compile(r"^[A-Z0-9_-]{1,32}$")
CSV_COLUMNS = ("code", "name", "parent", "groups", "aliases")
# Optional CSV columns, as in YAML: a retired unit and its successor, the ký hiệu used in
# document numbers, the signer's title, a Party body.
CSV_OPTIONAL = ("active", "merged_into", "abbreviation", "signer", "party")
UNIT_KEYS = frozenset((*CSV_COLUMNS, *CSV_OPTIONAL))
GROUP_KEYS = frozenset(("name", "aliases"))
_CSV_BOOLEANS = {"": None, "true": True, "false": False, "1": True, "0": False}


@dataclass(frozen=True)
class UnitSpec:
    """One unit as written in the file."""

    code: str
    name: str
    parent: str | None = None
    groups: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    active: bool = True
    merged_into: str | None = None  # the unit that took over a retired one's work
    abbreviation: str | None = None  # ký hiệu in document numbers, e.g. PGDĐT, BTGHU
    signer: str | None = None  # the signer's title, e.g. TRƯỞNG PHÒNG
    party: bool = False  # a Party body (Huyện ủy, its boards, Đảng ủy xã)


@dataclass(frozen=True)
class GroupSpec:
    """One group ("các trường học"): its code, its description and the names plans give it."""

    code: str
    name: str = ""
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class UnitsFile:
    """A validated units file."""

    path: Path
    units: tuple[UnitSpec, ...]
    groups: dict[str, str] = field(default_factory=dict)  # code → description
    group_specs: tuple[GroupSpec, ...] = ()  # the same groups with their aliases


def load_units_file(
    path: Path, *, known_parents: Mapping[str, str | None] | None = None
) -> UnitsFile:
    """Read and validate a units file; `known_parents`: code → parent of the stored units."""
    if path.suffix.lower() == ".csv":
        doc = read_csv(path, CSV_COLUMNS)
        raw_units: Any = [_csv_row(row) for row in doc.data]
        raw_groups: Any = {}
        units_ptr: tuple[str, ...] = ()
    else:
        doc = read_yaml(path)
        if not isinstance(doc.data, dict):
            raise InputFileError([doc.problem((), "tệp đơn vị phải có khóa 'units'")])
        raw_units = doc.data.get("units")
        raw_groups = doc.data.get("groups") or {}
        units_ptr = ("units",)
    problems: list[Problem] = []
    if not isinstance(raw_units, list) or not raw_units:
        problems.append(doc.problem(units_ptr or (), "danh sách đơn vị trống hoặc sai kiểu"))
        raise InputFileError(problems)
    group_specs = _validate_groups(doc, raw_groups, problems)
    known = dict(known_parents or {})
    units = _validate_units(doc, units_ptr, raw_units, known, problems)
    if problems:
        raise InputFileError(problems)
    return UnitsFile(
        path=path,
        units=tuple(units),
        groups={g.code: g.name for g in group_specs},
        group_specs=tuple(group_specs),
    )


def _csv_row(row: dict[str, str]) -> dict[str, Any]:
    """Turn a CSV row into the YAML shape (lists split on ';', empty cells left out)."""
    shaped: dict[str, Any] = {
        "code": row.get("code", ""),
        "name": row.get("name", ""),
        "parent": row.get("parent") or None,
        "groups": [s.strip() for s in row.get("groups", "").split(";") if s.strip()],
        "aliases": [s.strip() for s in row.get("aliases", "").split(";") if s.strip()],
    }
    for column in CSV_OPTIONAL:
        value = row.get(column, "")
        if value:
            flag = _CSV_BOOLEANS.get(value.casefold(), value)
            shaped[column] = flag if column in ("active", "party") else value
    return shaped


def _validate_groups(doc: SourceDoc, raw: Any, problems: list[Problem]) -> list[GroupSpec]:
    """Check the `groups:` mapping of code → description, or → {name, aliases}."""
    if not isinstance(raw, dict):
        problems.append(doc.problem(("groups",), "'groups' phải là ánh xạ mã → mô tả"))
        return []
    groups: list[GroupSpec] = []
    for code, value in raw.items():
        ptr = ("groups", str(code))
        if not isinstance(code, str) or not CODE_RE.match(code):
            problems.append(doc.problem(ptr, f"mã nhóm không hợp lệ: {code!r}"))
            continue
        if not isinstance(value, dict):
            groups.append(GroupSpec(code, str(value or "").strip()))
            continue
        for key in value:
            if key not in GROUP_KEYS:
                problems.append(doc.problem((*ptr, str(key)), f"trường không biết: {key}"))
        aliases = _string_list(doc, (*ptr, "aliases"), value.get("aliases"), problems)
        groups.append(GroupSpec(code, str(value.get("name") or "").strip(), tuple(aliases)))
    return groups


def _validate_units(
    doc: SourceDoc,
    base: Pointer,
    raw_units: list[Any],
    known: dict[str, str | None],
    problems: list[Problem],
) -> list[UnitSpec]:
    """Check every unit entry and the references between them."""
    units: list[UnitSpec] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(raw_units):
        ptr = (*base, index)
        if not isinstance(raw, dict):
            problems.append(doc.problem(ptr, "mỗi đơn vị phải là một ánh xạ"))
            continue
        code = raw.get("code")
        if not isinstance(code, str) or not CODE_RE.match(code):
            problems.append(doc.problem((*ptr, "code"), f"mã đơn vị không hợp lệ: {code!r}"))
            continue
        if code in seen:
            problems.append(doc.problem((*ptr, "code"), f"mã đơn vị trùng: {code}"))
            continue
        seen[code] = index
        spec = _unit(doc, ptr, code, raw, problems)
        if spec is not None:
            units.append(spec)
    for spec in units:
        if spec.parent and spec.parent not in seen and spec.parent not in known:
            ptr = (*base, seen[spec.code], "parent")
            problems.append(doc.problem(ptr, f"đơn vị cấp trên không tồn tại: {spec.parent}"))
    _check_successors(doc, base, units, seen, known, problems)
    parents = known | {spec.code: spec.parent for spec in units}  # the file updates in place
    cycles: set[frozenset[str]] = set()
    for spec in units:
        cycle = _ancestor_cycle(spec.code, parents)
        if cycle and frozenset(cycle) not in cycles:  # one problem per cycle, at its first unit
            cycles.add(frozenset(cycle))
            chain = " → ".join((*cycle, spec.code))
            message = f"đơn vị {spec.code} là cấp trên của chính nó: {chain}"
            problems.append(doc.problem((*base, seen[spec.code], "parent"), message))
    return units


def _unit(
    doc: SourceDoc, ptr: tuple, code: str, raw: dict[str, Any], problems: list[Problem]
) -> UnitSpec | None:
    """One unit entry's fields, or None when its name is missing."""
    for key in raw:
        if key not in UNIT_KEYS:
            problems.append(doc.problem((*ptr, str(key)), f"trường không biết: {key}"))
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append(doc.problem((*ptr, "name"), f"thiếu tên đơn vị {code}"))
        return None
    groups = _string_list(doc, (*ptr, "groups"), raw.get("groups"), problems)
    for group in groups:
        if not CODE_RE.match(group):
            problems.append(doc.problem((*ptr, "groups"), f"mã nhóm không hợp lệ: {group!r}"))
    aliases = _string_list(doc, (*ptr, "aliases"), raw.get("aliases"), problems)
    parent = raw.get("parent")
    if parent is not None and not isinstance(parent, str):
        problems.append(doc.problem((*ptr, "parent"), "'parent' phải là một mã đơn vị"))
        parent = None
    merged_into = _text(doc, (*ptr, "merged_into"), raw.get("merged_into"), problems)
    if merged_into is not None and not CODE_RE.match(merged_into):
        message = f"'merged_into' phải là mã một đơn vị: {merged_into!r}"
        problems.append(doc.problem((*ptr, "merged_into"), message))
    active = _flag(doc, (*ptr, "active"), raw.get("active"), problems)
    if active and merged_into:
        message = f"đơn vị còn hoạt động không thể sáp nhập vào {merged_into} (ghi active: false)"
        problems.append(doc.problem((*ptr, "merged_into"), message))
    return UnitSpec(
        code,
        name.strip(),
        parent or None,
        tuple(groups),
        tuple(aliases),
        active=not merged_into if active is None else active,
        merged_into=merged_into,
        abbreviation=_text(doc, (*ptr, "abbreviation"), raw.get("abbreviation"), problems),
        signer=_text(doc, (*ptr, "signer"), raw.get("signer"), problems),
        party=bool(_flag(doc, (*ptr, "party"), raw.get("party"), problems)),
    )


def _check_successors(
    doc: SourceDoc,
    base: Pointer,
    units: list[UnitSpec],
    seen: dict[str, int],
    known: Mapping[str, str | None],
    problems: list[Problem],
) -> None:
    """A retired unit's successor exists and is active (so no chain or cycle of mergers)."""
    by_code = {spec.code: spec for spec in units}
    for spec in units:
        successor = spec.merged_into
        if successor is None or not CODE_RE.match(successor):
            continue
        ptr = (*base, seen[spec.code], "merged_into")
        if successor not in by_code and successor not in known:
            problems.append(doc.problem(ptr, f"đơn vị kế thừa không tồn tại: {successor}"))
            continue
        target = by_code.get(successor)
        if target is None or target.active:
            continue
        message = f"{spec.code} sáp nhập vào {successor}, nhưng {successor} đã ngừng hoạt động"
        if target.merged_into and target.merged_into != spec.code:
            message += f" (sáp nhập vào {target.merged_into}): ghi thẳng đơn vị còn hoạt động"
        problems.append(doc.problem(ptr, message))


def _ancestor_cycle(code: str, parents: Mapping[str, str | None]) -> list[str] | None:
    """The chain code → parent → … when it comes back to `code`, else None."""
    chain = [code]
    visited = {code}
    parent = parents.get(code)
    while parent and parent not in visited:
        chain.append(parent)
        visited.add(parent)
        parent = parents.get(parent)
    return chain if parent == code else None


def _string_list(doc: SourceDoc, ptr: tuple, raw: Any, problems: list[Problem]) -> list[str]:
    """A list of non-empty strings, or a problem."""
    if raw is None:
        return []
    if isinstance(raw, str):
        return [raw]
    if not isinstance(raw, list) or not all(isinstance(v, str) and v.strip() for v in raw):
        problems.append(doc.problem(ptr, "phải là danh sách chuỗi"))
        return []
    return [v.strip() for v in raw]


def _text(doc: SourceDoc, ptr: tuple, raw: Any, problems: list[Problem]) -> str | None:
    """An optional one-line text, or a problem."""
    if raw is None:
        return None
    if not isinstance(raw, str) or not raw.strip():
        problems.append(doc.problem(ptr, "phải là một chuỗi"))
        return None
    return " ".join(raw.split())


def _flag(doc: SourceDoc, ptr: tuple, raw: Any, problems: list[Problem]) -> bool | None:
    """An optional true/false, or a problem."""
    if raw is None or isinstance(raw, bool):
        return raw
    problems.append(doc.problem(ptr, f"phải là true hoặc false: {raw!r}"))
    return None

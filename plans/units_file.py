"""Load and validate a units file (YAML or CSV, SPEC §2)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plans.errors import InputFileError, Problem
from plans.source import SourceDoc, read_csv, read_yaml

CODE_RE = re.compile(r"^[A-Z0-9_-]{1,32}$")
CSV_COLUMNS = ("code", "name", "parent", "groups", "aliases")


@dataclass(frozen=True)
class UnitSpec:
    """One unit as written in the file."""

    code: str
    name: str
    parent: str | None = None
    groups: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class UnitsFile:
    """A validated units file."""

    path: Path
    units: tuple[UnitSpec, ...]
    groups: dict[str, str] = field(default_factory=dict)


def load_units_file(
    path: Path, *, known_parents: Mapping[str, str | None] | None = None
) -> UnitsFile:
    """Read and validate a units file; `known_parents`: code → parent of the stored units."""
    if path.suffix.lower() == ".csv":
        doc = read_csv(path, CSV_COLUMNS)
        raw_units = [_csv_row(row) for row in doc.data]
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
    groups = _validate_groups(doc, raw_groups, problems)
    known = dict(known_parents or {})
    units = _validate_units(doc, units_ptr, raw_units, known, problems)
    if problems:
        raise InputFileError(problems)
    return UnitsFile(path=path, units=tuple(units), groups=groups)


def _csv_row(row: dict[str, str]) -> dict[str, Any]:
    """Turn a CSV row into the YAML shape (lists split on ';')."""
    split = [s.strip() for s in row.get("groups", "").split(";") if s.strip()]
    aliases = [s.strip() for s in row.get("aliases", "").split(";") if s.strip()]
    return {
        "code": row.get("code", ""),
        "name": row.get("name", ""),
        "parent": row.get("parent") or None,
        "groups": split,
        "aliases": aliases,
    }


def _validate_groups(doc: SourceDoc, raw: Any, problems: list[Problem]) -> dict[str, str]:
    """Check the `groups:` mapping of code → description."""
    if not isinstance(raw, dict):
        problems.append(doc.problem(("groups",), "'groups' phải là ánh xạ mã → mô tả"))
        return {}
    groups: dict[str, str] = {}
    for code, name in raw.items():
        if not isinstance(code, str) or not CODE_RE.match(code):
            problems.append(doc.problem(("groups", str(code)), f"mã nhóm không hợp lệ: {code!r}"))
            continue
        groups[code] = str(name or "")
    return groups


def _validate_units(
    doc: SourceDoc,
    base: tuple[str, ...],
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
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip():
            problems.append(doc.problem((*ptr, "name"), f"thiếu tên đơn vị {code}"))
            continue
        groups = _string_list(doc, (*ptr, "groups"), raw.get("groups"), problems)
        for group in groups:
            if not CODE_RE.match(group):
                problems.append(doc.problem((*ptr, "groups"), f"mã nhóm không hợp lệ: {group!r}"))
        aliases = _string_list(doc, (*ptr, "aliases"), raw.get("aliases"), problems)
        parent = raw.get("parent")
        if parent is not None and not isinstance(parent, str):
            problems.append(doc.problem((*ptr, "parent"), "'parent' phải là một mã đơn vị"))
            parent = None
        units.append(UnitSpec(code, name.strip(), parent or None, tuple(groups), tuple(aliases)))
    for spec in units:
        if spec.parent and spec.parent not in seen and spec.parent not in known:
            ptr = (*base, seen[spec.code], "parent")
            problems.append(doc.problem(ptr, f"đơn vị cấp trên không tồn tại: {spec.parent}"))
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

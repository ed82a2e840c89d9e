"""What a validated plan file holds (PlanSpec, TaskSpec), and the units directory it refers to."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

from plans.deadline import Deadline
from plans.errors import Problem
from plans.indicators import IndicatorSpec
from plans.policy import ReminderPolicy
from plans.unit_names import Found, UnitNames
from plans.units_file import UnitsFile

_MAX_MERGES = 32  # a successor chain longer than this is a cycle in stored data


@dataclass(frozen=True)
class Directory:
    """What the plan may refer to: unit and group codes, their names, and retired units."""

    units: frozenset[str]  # active units
    groups: dict[str, tuple[str, ...]]  # group → member units
    aliases: dict[str, str] = field(default_factory=dict)  # a name or alias → unit code
    names: dict[str, tuple[str, ...]] = field(default_factory=dict)  # code → name, aliases
    retired: dict[str, str | None] = field(default_factory=dict)  # unit → merged into

    @classmethod
    def from_units_file(cls, units_file: UnitsFile) -> Directory:
        """The directory a units file describes."""
        active = [u for u in units_file.units if u.active]
        groups: dict[str, list[str]] = {g.code: [] for g in units_file.group_specs}
        for unit in active:
            for group in unit.groups:
                groups.setdefault(group, []).append(unit.code)
        names = {u.code: (u.name, *u.aliases) for u in units_file.units}
        for spec in units_file.group_specs:
            names[spec.code] = (spec.name, *spec.aliases)
        return cls(
            units=frozenset(u.code for u in active),
            groups={code: tuple(members) for code, members in groups.items()},
            names=names,
            retired={u.code: u.merged_into for u in units_file.units if not u.active},
        )

    @cached_property
    def index(self) -> UnitNames:
        """Every unit, retired unit and group by its code, names and aliases."""
        named: dict[str, list[str]] = {
            code: list(self.names.get(code, ()))
            for code in (*self.units, *self.retired, *self.groups)
        }
        for alias, code in self.aliases.items():
            named.setdefault(code, []).append(alias)
        return UnitNames(named)

    def find(self, written: str) -> Found:
        """The unit or group a written code, name or alias stands for."""
        return self.index.find(written)

    def resolve(self, name: str) -> str | None:
        """A unit or group code for a code, a name or an alias; None when unknown or ambiguous."""
        return self.find(name).code

    def members(self, code: str) -> tuple[str, ...]:
        """The units a code stands for: itself, or every member of a group."""
        return self.groups.get(code, ()) if code in self.groups else (code,)

    def successor(self, code: str) -> str | None:
        """The active unit that took over a retired one's work, or None."""
        for _ in range(_MAX_MERGES):
            code = self.retired.get(code) or ""
            if code in self.units or not code:
                return code or None
        return None


@dataclass(frozen=True)
class TaskSpec:
    """One validated task."""

    key: str
    title: str
    owner: str  # the first of `owners`
    partners: tuple[str, ...]  # unit and group codes ("phối hợp"), shown, reminded if asked
    due_text: str
    deadline: Deadline
    owners: tuple[str, ...]  # every lead ("chủ trì") unit or group: each is assigned the task
    external_partners: tuple[str, ...] = ()  # organisations outside the directory, as written
    partners_report: bool = False  # partners report their status too
    request: bool = False  # an "Đề nghị" to a body the issuer does not direct
    indicators: tuple[IndicatorSpec, ...] = ()


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
    until: date | None = None  # the plan's end: recurring deadlines stop there
    implements: str | None = None  # the number of the plan or resolution it carries out
    issued_note: str | None = None  # set when the document prints no date: where it came from
    notices: tuple[Problem, ...] = ()  # what was read differently from what is written

    @property
    def policy(self) -> ReminderPolicy:
        """The plan's reminder policy (defaults overridden by `reminders:`)."""
        return ReminderPolicy.from_mapping(self.reminders)

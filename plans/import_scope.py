"""What every task of one import shares: the stored units, their heirs, the horizon, the policy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from sqlmodel import Session, select

from plans.calendar import Calendar
from plans.clock import local_date
from plans.deadline import Deadline, parse_deadline
from plans.expansion import UNDATED, Expansion, TaskState, Wanted, wanted_periods
from plans.plan_spec import Directory, TaskSpec
from plans.policy import ReminderPolicy
from storage.enums import AssignmentRole
from storage.models import UnitGroup
from storage.queries import group_members, units_by_code


def directory_from_db(session: Session) -> Directory:
    """The units directory a plan is validated against: retired units lead to their successor."""
    units = units_by_code(session=session)
    names = {code: (unit.name, *unit.aliases) for code, unit in units.items()}
    for group in session.exec(select(UnitGroup)):
        names[group.code] = (group.name, *group.aliases)
    members = group_members(session=session)
    return Directory(
        units=frozenset(c for c, u in units.items() if u.active),
        groups={code: tuple(codes) for code, codes in members.items()},
        names=names,
        retired={c: u.merged_into for c, u in units.items() if not u.active},
    )


def stored_units(
    session: Session,
) -> tuple[Directory, dict[str, int], dict[int, tuple[int, date]]]:
    """The directory, unit ids by code, and each retired unit's heir (`ImportScope.heirs`)."""
    units = units_by_code(session=session)
    directory = directory_from_db(session)
    ids = {code: unit.id for code, unit in units.items() if unit.id is not None}
    heirs: dict[int, tuple[int, date]] = {}
    for code, unit in units.items():
        heir = directory.successor(code) if not unit.active else None
        if heir is not None and unit.retired_on is not None:
            heirs[ids[code]] = (ids[heir], unit.retired_on)
    return directory, ids, heirs


def _current_units(directory: Directory, code: str) -> tuple[str, ...]:
    """The active units a stored owner or partner code stands for now."""
    if code in directory.groups:
        return directory.groups[code]
    if code in directory.units:
        return (code,)
    successor = directory.successor(code)
    return (successor,) if successor else ()


@dataclass(frozen=True)
class ImportScope:
    """What every task of one import shares."""

    directory: Directory
    unit_ids: dict[str, int]
    horizon: date
    now: datetime
    policy: ReminderPolicy
    calendar: Calendar
    # retired unit id → (the id of the active unit that took over its work, the day it retired)
    heirs: dict[int, tuple[int, date]] = field(default_factory=dict)

    @property
    def today(self) -> date:
        """The local day of the import."""
        return local_date(self.now)

    def units(self, owners: Sequence[str], partners: Sequence[str]) -> dict[int, AssignmentRole]:
        """The ids of the units a task assigns (a group: each member), with how each takes part.

        Every owner ("chủ trì") is assigned, a unit named both ways leads; partners ("phối
        hợp") are assigned too: the tick tells them once, and they report only if asked.
        """
        roles: dict[int, AssignmentRole] = {}
        for role, codes in ((AssignmentRole.PARTNER, partners), (AssignmentRole.OWNER, owners)):
            for code in codes:
                for unit in _current_units(self.directory, code):
                    roles[self.unit_ids[unit]] = role
        return roles

    def of_spec(self, spec: TaskSpec) -> dict[int, AssignmentRole]:
        """The units a task of the file assigns."""
        return self.units(spec.owners, spec.partners)

    def with_heirs(
        self, units: dict[int, AssignmentRole], state: TaskState
    ) -> dict[int, AssignmentRole]:
        """`units`, and the successor of every unit whose part in the task ended when it
        retired: it carries that part on, whether or not it belongs to the task's groups."""
        found = dict(units)
        for unit_id, held in state.assignments.items():
            if unit_id not in self.heirs or held.ended_on is None:
                continue
            heir, retired_on = self.heirs[unit_id]
            if held.ended_on >= retired_on and (
                heir not in found or held.role == AssignmentRole.OWNER
            ):
                found[heir] = held.role
        return found

    def due(self, spec: TaskSpec, override: str | None) -> tuple[TaskSpec, str | None]:
        """The task with its deadline: the file's, or while the file gives none, the date a
        coordinator gave it (`set_task_due`), which is then kept."""
        if not override or spec.deadline.kind != UNDATED:
            return spec, None
        deadline = parse_deadline(override, issued=spec.deadline.issued, calendar=self.calendar)
        return replace(spec, deadline=deadline, due_text=deadline.text.strip()), override

    def wanted(self, deadline: Deadline) -> Wanted:
        """The occurrences a deadline asks for up to the horizon."""
        return wanted_periods(
            Expansion(deadline, self.horizon, self.now, self.policy, self.calendar)
        )

"""The reminder policy: which reminder steps an occurrence gets, and when."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import date, datetime, timedelta
from typing import Any

from plans.calendar import Calendar
from plans.clock import at_local, local
from plans.errors import Problem

# Quiet hours hold for every message dondoc sends, whatever the plan says.
QUIET_START = 21
QUIET_END = 7


@dataclass(frozen=True)
class ReminderPolicy:
    """Per-plan reminder settings (a plan file's `reminders:`); the defaults hold otherwise."""

    before_days: tuple[int, ...] = (7, 3, 1, 0)
    overdue_every_working_days: int = 2
    overdue_limit: int = 10  # after this many overdue reminders, one a week until done or closed
    escalate_from: int = 3  # the n-th overdue reminder is copied to the parent unit's heads
    send_hour: int = 8
    checkin_day: int = 25
    catchup_days: int = 14  # a missed step before the deadline older than this is not sent

    @classmethod
    def from_mapping(cls, raw: dict[str, Any]) -> ReminderPolicy:
        """Build a policy from a plan's `reminders:` mapping (already validated)."""
        values = dict(raw)
        if "before_days" in values:
            values["before_days"] = tuple(sorted(set(values["before_days"]), reverse=True))
        return replace(cls(), **values)


@dataclass(frozen=True)
class Step:
    """One reminder moment of one occurrence."""

    name: str  # before-7, due, overdue-1, checkin-2026-11
    send_at: datetime  # aware UTC
    overdue_index: int = 0

    def escalates(self, policy: ReminderPolicy) -> bool:
        """Whether this step is copied to the heads of the owner's parent unit."""
        return self.overdue_index >= policy.escalate_from


def validate_policy(raw: Any, problem: Any) -> list[Problem]:
    """Check a `reminders:` mapping; `problem(key, message)` locates each error."""
    if raw is None:
        return []
    if not isinstance(raw, dict):
        return [problem((), "'reminders' phải là một ánh xạ")]
    known = {f.name for f in fields(ReminderPolicy)}
    found: list[Problem] = []
    for key, value in raw.items():
        if key not in known:
            found.append(problem((key,), f"thiết lập nhắc việc không biết: {key}"))
        elif key == "before_days":
            ok = isinstance(value, list) and all(
                isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 366 for v in value
            )
            if not ok:
                found.append(problem((key,), "before_days phải là danh sách số ngày từ 0 đến 366"))
        elif not isinstance(value, int) or isinstance(value, bool) or value < 0:
            found.append(problem((key,), f"{key} phải là số nguyên không âm"))
    send_hour = raw.get("send_hour")
    if isinstance(send_hour, int) and not QUIET_END <= send_hour < QUIET_START:
        found.append(problem(("send_hour",), f"giờ gửi phải từ {QUIET_END} đến {QUIET_START - 1}"))
    if isinstance(raw.get("checkin_day"), int) and not 1 <= raw["checkin_day"] <= 28:
        found.append(problem(("checkin_day",), "checkin_day phải từ 1 đến 28"))
    return found


def _send_time(day: date, policy: ReminderPolicy, calendar: Calendar) -> datetime:
    """08:00 (policy hour) on the day, moved back to the previous working day."""
    return at_local(calendar.previous_working_day(day), policy.send_hour)


def dated_steps(due: date, policy: ReminderPolicy, calendar: Calendar) -> list[Step]:
    """The steps before, on and just after a due date, at most one per day; weekly ones follow."""
    steps: list[Step] = []
    for days in sorted(set(policy.before_days), reverse=True):
        name = "due" if days == 0 else f"before-{days}"
        steps.append(Step(name, _send_time(due - timedelta(days=days), policy, calendar)))
    every = max(policy.overdue_every_working_days, 1)
    for index in range(1, policy.overdue_limit + 1):
        day = calendar.add_working_days(due, 1 + every * (index - 1))
        steps.append(Step(f"overdue-{index}", at_local(day, policy.send_hour), index))
    return _one_per_day(steps)


def _week_of(day: date) -> date:
    """The Monday of the day's week."""
    return day - timedelta(days=day.weekday())


def _weekly_step(
    week: date, first: date, policy: ReminderPolicy, calendar: Calendar
) -> Step | None:
    """The weekly overdue step of a week: its first working day (none in a week of holidays)."""
    for offset in range(7):
        day = week + timedelta(days=offset)
        if calendar.is_working_day(day):
            index = policy.overdue_limit + 1 + (week - first).days // 7
            return Step(f"overdue-{index}", at_local(day, policy.send_hour), index)
    return None


def _weekly_around(
    last: date, moment: datetime, policy: ReminderPolicy, calendar: Calendar
) -> tuple[Step | None, Step]:
    """The last weekly overdue step at or before `moment`, and the first one after it.

    Once the frequent overdue steps are spent (the last fell on `last`), an open occurrence is
    reminded on the first working day of every week, for as long as it stays open: overdue work
    is never dropped.
    """
    first = _week_of(last) + timedelta(days=7)
    today = _week_of(local(moment).date())
    latest: Step | None = None
    week = today
    while latest is None and week >= first:
        step = _weekly_step(week, first, policy, calendar)
        latest = step if step is not None and step.send_at <= moment else None
        week -= timedelta(days=7)
    week = max(today, first)
    while True:
        step = _weekly_step(week, first, policy, calendar)
        if step is not None and step.send_at > moment:
            return latest, step
        week += timedelta(days=7)


def _one_per_day(steps: list[Step]) -> list[Step]:
    """Keep the later step when two fall on the same day (the closer one to the due date)."""
    by_day: dict[date, Step] = {}
    for step in sorted(steps, key=lambda s: s.send_at):
        by_day[local(step.send_at).date()] = step
    return sorted(by_day.values(), key=lambda s: s.send_at)


def checkin_step(year: int, month: int, policy: ReminderPolicy, calendar: Calendar) -> Step:
    """The monthly check-in of an ongoing task."""
    day = date(year, month, policy.checkin_day)
    return Step(f"checkin-{year:04d}-{month:02d}", _send_time(day, policy, calendar))


def _months_from(day: date) -> Any:
    """Yield (year, month) from the month of `day` on, for ever."""
    year, month = day.year, day.month
    while True:
        yield year, month
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _checkins_between(
    start: datetime, end: datetime, policy: ReminderPolicy, calendar: Calendar
) -> list[Step]:
    """An ongoing task's check-ins with start < send_at <= end."""
    found: list[Step] = []
    for year, month in _months_from(local(start).date() - timedelta(days=31)):
        step = checkin_step(year, month, policy, calendar)
        if step.send_at > end:
            break
        if step.send_at > start:
            found.append(step)
    return found


def next_step_after(
    *, due: date | None, ongoing: bool, after: datetime, policy: ReminderPolicy, calendar: Calendar
) -> Step | None:
    """The first step strictly after `after`, or None when the occurrence has no more."""
    if due is not None:
        return due_and_next_step(
            due=due, ongoing=False, now=after, policy=policy, calendar=calendar
        )[1]
    if not ongoing:
        return None
    for year, month in _months_from(local(after).date() - timedelta(days=31)):
        step = checkin_step(year, month, policy, calendar)
        if step.send_at > after:
            return step
    return None  # pragma: no cover - the month generator never ends


def latest_due_step(
    *, due: date | None, ongoing: bool, now: datetime, policy: ReminderPolicy, calendar: Calendar
) -> Step | None:
    """The latest step whose time has come and that is still worth sending (after downtime)."""
    return due_and_next_step(due=due, ongoing=ongoing, now=now, policy=policy, calendar=calendar)[0]


def first_look_at(
    *, due: date | None, ongoing: bool, now: datetime, policy: ReminderPolicy, calendar: Calendar
) -> datetime | None:
    """When the tick first looks at a new occurrence: now if a step is worth sending, else later."""
    latest, nxt = due_and_next_step(
        due=due, ongoing=ongoing, now=now, policy=policy, calendar=calendar
    )
    step = latest or nxt
    return step.send_at if step else None


def catchup_start(now: datetime, policy: ReminderPolicy) -> datetime:
    """The oldest moment a missed step may be from and still be sent (after downtime, import)."""
    return now - timedelta(days=policy.catchup_days)


def due_and_next_step(
    *, due: date | None, ongoing: bool, now: datetime, policy: ReminderPolicy, calendar: Calendar
) -> tuple[Step | None, Step | None]:
    """The one step to send at `now` (None: nothing worth sending) and the next step after it.

    However long the downtime or however late the contact registered, only the latest missed
    step is sent. A missed step before the deadline expires after `catchup_days`; a missed
    overdue step never does, and the weekly steps keep the latest one within a week.
    """
    window_start = catchup_start(now, policy)
    if due is None:
        steps = _checkins_between(window_start, now, policy, calendar) if ongoing else []
        return (
            steps[-1] if steps else None,
            next_step_after(due=None, ongoing=ongoing, after=now, policy=policy, calendar=calendar),
        )
    latest: Step | None = None
    last_overdue = due
    for step in dated_steps(due, policy, calendar):
        if step.send_at > now:
            return latest, step
        if step.send_at > window_start or step.overdue_index:
            latest = step
        if step.overdue_index:
            last_overdue = local(step.send_at).date()
    weekly, nxt = _weekly_around(last_overdue, now, policy, calendar)
    return weekly or latest, nxt


def in_quiet_hours(moment: datetime) -> bool:
    """Whether nothing may be sent at this moment (21:00–07:00 local)."""
    hour = local(moment).hour
    return hour >= QUIET_START or hour < QUIET_END

"""Reminder policy at explicit moments: weekends, holidays, overdue, escalation, check-ins."""

from __future__ import annotations

from datetime import date

from plans.calendar import default_calendar
from plans.clock import local
from plans.policy import (
    ReminderPolicy,
    dated_steps,
    first_look_at,
    in_quiet_hours,
    latest_due_step,
    next_step_after,
)
from tests.utils.clock import local_time

CAL = default_calendar()
POLICY = ReminderPolicy()


def schedule(due: date, policy: ReminderPolicy = POLICY) -> list[tuple[str, str]]:
    """(step, local send time) pairs of a due date."""
    return [(s.name, f"{local(s.send_at):%Y-%m-%d %H:%M}") for s in dated_steps(due, policy, CAL)]


def test_default_steps_before_on_and_after_a_weekday_due_date() -> None:
    steps = schedule(date(2026, 12, 16))  # a Wednesday
    assert steps[:6] == [
        ("before-7", "2026-12-09 08:00"),
        ("before-3", "2026-12-11 08:00"),  # Sunday 13/12 moves to Friday 11/12
        ("before-1", "2026-12-15 08:00"),
        ("due", "2026-12-16 08:00"),
        ("overdue-1", "2026-12-17 08:00"),
        ("overdue-2", "2026-12-21 08:00"),  # two working days later, over the weekend
    ]


def test_weekend_steps_move_to_the_previous_working_day_and_never_twice_a_day() -> None:
    steps = dict(schedule(date(2026, 11, 30)))
    # before-1 falls on Sunday 29/11 and moves to Friday 27/11, where before-3 already is:
    # only one reminder that day, the closer one.
    assert "before-3" not in steps
    assert steps["before-1"] == "2026-11-27 08:00"
    days = [t[:10] for _, t in schedule(date(2026, 11, 30))]
    assert len(days) == len(set(days))


def test_holiday_moves_a_step_back_across_the_tet_break() -> None:
    steps = dict(schedule(date(2026, 2, 23)))  # Monday after the 14–22/2/2026 break
    assert steps["before-1"] == "2026-02-13 08:00"  # last working day before Tết
    assert "before-3" not in steps  # 20/2 is inside the break: merged into the 13/2 reminder
    assert steps["overdue-1"] == "2026-02-24 08:00"


def test_overdue_every_two_working_days_with_escalation_from_the_third() -> None:
    steps = [s for s in dated_steps(date(2026, 12, 4), POLICY, CAL) if s.overdue_index]  # Friday
    assert [f"{local(s.send_at):%a %d}" for s in steps[:4]] == [
        "Mon 07",
        "Wed 09",
        "Fri 11",
        "Tue 15",
    ]
    assert [s.escalates(POLICY) for s in steps[:4]] == [False, False, True, True]
    assert len(steps) == POLICY.overdue_limit


def test_plan_override_of_before_days() -> None:
    policy = ReminderPolicy.from_mapping({"before_days": [0, 14]})
    names = [name for name, _ in schedule(date(2026, 12, 16), policy)]
    assert names[:2] == ["before-14", "due"]


def test_latest_step_only_after_downtime() -> None:
    due = date(2026, 11, 30)
    now = local_time("2026-12-03 15:00")  # down since before 23/11
    step = latest_due_step(due=due, ongoing=False, now=now, policy=POLICY, calendar=CAL)
    assert step is not None and step.name == "overdue-2"


def test_ongoing_tasks_get_a_monthly_check_in_on_the_25th() -> None:
    after = local_time("2026-11-25 09:00")
    step = next_step_after(due=None, ongoing=True, after=after, policy=POLICY, calendar=CAL)
    assert step is not None
    assert step.name == "checkin-2026-12"
    assert f"{local(step.send_at):%Y-%m-%d %H:%M}" == "2026-12-25 08:00"
    # 25/4/2026 is a Saturday: the check-in moves to Friday 24/4.
    april = next_step_after(
        due=None, ongoing=True, after=local_time("2026-04-01 00:00"), policy=POLICY, calendar=CAL
    )
    assert april is not None and f"{local(april.send_at):%Y-%m-%d}" == "2026-04-24"


def test_quiet_hours() -> None:
    assert in_quiet_hours(local_time("2026-11-23 21:00"))
    assert in_quiet_hours(local_time("2026-11-24 06:59"))
    assert not in_quiet_hours(local_time("2026-11-24 07:00"))
    assert not in_quiet_hours(local_time("2026-11-24 20:59"))


def test_overdue_work_is_chased_every_week_once_the_frequent_steps_are_spent() -> None:
    due = date(2026, 9, 30)  # Wednesday
    frequent = [s for s in dated_steps(due, POLICY, CAL) if s.overdue_index]
    moment = frequent[-1].send_at
    weekly: list[str] = []
    for _ in range(8):
        step = next_step_after(due=due, ongoing=False, after=moment, policy=POLICY, calendar=CAL)
        assert step is not None and step.escalates(POLICY)
        weekly.append(f"{step.name} {local(step.send_at):%a %d/%m %H:%M}")
        moment = step.send_at
    assert weekly[:3] == [
        "overdue-11 Mon 02/11 08:00",  # the frequent ones ended on Tuesday 27/10
        "overdue-12 Mon 09/11 08:00",
        "overdue-13 Mon 16/11 08:00",
    ]
    assert len({line.split()[0] for line in weekly}) == 8  # each week its own step


def test_a_week_of_holidays_moves_the_weekly_reminder_to_its_first_working_day() -> None:
    due = date(2025, 12, 1)  # overdue through the 14–22/2/2026 Tết break
    seen = []
    moment = local_time("2026-02-01 09:00")
    while moment < local_time("2026-03-03 09:00"):
        step = next_step_after(due=due, ongoing=False, after=moment, policy=POLICY, calendar=CAL)
        assert step is not None
        seen.append(f"{local(step.send_at):%d/%m}")
        moment = step.send_at
    assert seen[:4] == ["02/02", "09/02", "23/02", "02/03"]  # 16–20/2 has no working day


def test_a_deadline_years_past_is_reminded_once_at_once_then_weekly() -> None:
    due = date(2023, 9, 19)
    now = local_time("2024-11-27 15:00")  # a Wednesday, imported or registered late
    step = latest_due_step(due=due, ongoing=False, now=now, policy=POLICY, calendar=CAL)
    assert step is not None and step.escalates(POLICY)
    assert f"{local(step.send_at):%d/%m/%Y}" == "25/11/2024"  # this week's, not sixty missed ones
    nxt = next_step_after(due=due, ongoing=False, after=now, policy=POLICY, calendar=CAL)
    assert nxt is not None and f"{local(nxt.send_at):%d/%m/%Y}" == "02/12/2024"
    assert first_look_at(due=due, ongoing=False, now=now, policy=POLICY, calendar=CAL) == (
        step.send_at
    )


def test_a_missed_step_before_the_deadline_still_expires_after_the_catchup_window() -> None:
    policy = ReminderPolicy(before_days=(30,))
    due = date(2026, 12, 31)
    now = local_time("2026-12-20 09:00")  # before-30 was on 1/12, 19 days ago
    assert latest_due_step(due=due, ongoing=False, now=now, policy=policy, calendar=CAL) is None

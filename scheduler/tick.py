"""One scheduler pass: plan due reminders and the weekly digest, then dispatch the outbox.

The digest rides on the minute tick instead of a job of its own: the week's digest is planned by
the first tick from Monday 07:30 on, so a process that was down on Monday morning still sends it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine

from plans.calendar import Calendar
from scheduler.digest import digest_due, plan_digests
from scheduler.dispatcher import Dispatcher, DispatchResult
from scheduler.planner import PlanResult, plan_due_reminders

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TickResult:
    """What a tick planned and sent."""

    planned: PlanResult
    dispatched: DispatchResult


async def tick(
    engine: Engine,
    dispatcher: Dispatcher,
    *,
    now: datetime,
    calendar: Calendar | None = None,
    quotas: Mapping[str, int] | None = None,
) -> TickResult:
    """Plan due reminders and the weekly digest (`quotas`: per channel) at `now`, then send."""
    planned = plan_due_reminders(
        engine, now=now, calendar=calendar, shows_of=dispatcher.capabilities
    )
    if digest_due(now):
        plan_digests(
            engine,
            now=now,
            capabilities=dispatcher.capabilities,
            channels=list(dispatcher.senders),
            quotas=quotas,
        )
    dispatched = await dispatcher.dispatch(now=now)
    if planned.planned or dispatched.messages:
        logger.info(
            "tick %s: planned %s, sent %s rows in %s messages",
            now.isoformat(),
            planned.planned,
            dispatched.sent,
            dispatched.messages,
        )
    return TickResult(planned=planned, dispatched=dispatched)

"""Outbox claims held by a lease: a live worker renews it, a dead one's claims lapse.

A claimed row ('sending') names its worker and the moment its lease runs out. Whatever happened
to the worker — killed, its container restarted under the same PID, its host gone — the row goes
back to the queue once the lease has run out, and only then (or at once to the worker itself,
whose earlier pass failed). A PID says nothing here: a restarted container's process is PID 1
again. A pass measures its own time as the pass's moment plus the time it has run, so the lease
follows the clock the other workers compare it with, and `dondoc tick --now` works as well.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import bindparam, or_, update
from sqlalchemy.engine import Engine

from storage.db import session_scope, table_of
from storage.models import Outbox

# Long enough that a live pass renews well before it runs out (a single attempt waits at most a
# minute for a 429 plus one HTTP timeout), short enough that a crash delays its rows little.
LEASE = timedelta(minutes=10)
RENEW_AFTER = timedelta(minutes=1)  # a live pass pushes its lease forward this often
OUTBOX = table_of(Outbox)

RENEW = (
    update(OUTBOX)
    .where(OUTBOX.c.status == "sending", OUTBOX.c.claimed_by == bindparam("by"))
    .values(lease_until=bindparam("until"))
)
# Rows of a pass of ours that failed (passes of one worker never overlap), and lapsed claims.
RECLAIM = (
    update(OUTBOX)
    .where(
        OUTBOX.c.status == "sending",
        or_(
            OUTBOX.c.claimed_by == bindparam("by"),
            OUTBOX.c.lease_until.is_(None),  # claimed before leases existed
            OUTBOX.c.lease_until < bindparam("now"),
        ),
    )
    .values(status="pending", claimed_by=None, lease_until=None)
)


class Lease:
    """One worker's lease on the rows it claims, over the passes it runs one after another."""

    def __init__(
        self, engine: Engine, worker: str, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.engine = engine
        self.worker = worker
        self.monotonic = monotonic
        self._now = datetime.min
        self._started = self._renewed = monotonic()

    def begin(self, now: datetime) -> int:
        """Start a pass at `now`: return lapsed claims and our own leftovers; how many."""
        self._now, self._started = now, self.monotonic()
        with session_scope(self.engine) as session:
            result = session.connection().execute(RECLAIM, {"by": self.worker, "now": now})
        return int(result.rowcount)

    def clock(self) -> datetime:
        """The pass's moment plus the time the pass has run."""
        return self._now + timedelta(seconds=self.monotonic() - self._started)

    def claimed(self) -> datetime:
        """The end of the lease of rows claimed now (the earlier ones are done with)."""
        self._renewed = self.monotonic()
        return self.clock() + LEASE

    def keep(self) -> None:
        """Push the lease of the rows still held forward, if RENEW_AFTER has passed."""
        if self.monotonic() - self._renewed < RENEW_AFTER.total_seconds():
            return
        until = self.claimed()
        with session_scope(self.engine) as session:
            session.connection().execute(RENEW, {"by": self.worker, "until": until})

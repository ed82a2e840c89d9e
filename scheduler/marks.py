"""Group commit of "sent" marks: the messages that come back together share one round trip.

A message counts as in flight until its mark is committed, so the number of messages a crash
can repeat stays the number allowed in flight (scheduler/dispatcher.py).
"""

from __future__ import annotations

import asyncio

from storage.outbox import SentMarks


class MarkBatch:
    """Collects the marks given in one turn of the event loop and writes them in one commit."""

    def __init__(self, marks: SentMarks) -> None:
        self.marks = marks
        self._waiting: list[tuple[int, str | None]] = []
        self._written: asyncio.Future[None] | None = None

    async def sent(self, row_ids: list[int], platform_id: str | None) -> None:
        """Mark the rows of one delivered message sent; return once the mark is committed."""
        self._waiting += [(row_id, platform_id) for row_id in row_ids]
        if self._written is None:
            loop = asyncio.get_running_loop()
            self._written = loop.create_future()
            loop.call_soon(self._write)  # after the other sends that completed in this turn
        # Shielded: one waiter cancelled must not cancel the commit the others wait for.
        await asyncio.shield(self._written)

    def _write(self) -> None:
        """Write what has gathered, and wake its waiters."""
        marks, written = self._waiting, self._written
        self._waiting, self._written = [], None
        assert written is not None
        try:
            self.marks.write(marks)
        except Exception as exc:  # every waiter's pass fails, as a lone mark's would
            written.set_exception(exc)
        else:
            written.set_result(None)

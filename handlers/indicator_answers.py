"""Indicator values in the conversation: in the status reply's line, or one question at a time.

A reply on a task with indicators may carry its figures ("A7K 1 phong=45/50 ht=co"); those
missing are then asked for in turn, each question with the unit of measure and what is on
record (this period's value, else last period's). A value that cannot be read is refused with
the reason and nothing is stored; a step waits for the answer like a pending note
(handlers/state.py). Values are stored per occurrence (plans/indicator_store.py) until the
coordinator confirms the occurrence.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from chat.buttons import skip_value_button
from chat.messages import Capabilities, OutgoingMessage
from chat.texts import message
from handlers.errors import AlreadyConfirmedError, RetiredOccurrenceError
from handlers.reporting import OpenItem
from handlers.state import clear_state, set_state
from handlers.types import Incoming, Outcome
from plans.indicator_store import Indicator, known_values, record_values, task_indicators
from plans.indicator_values import format_value, parse_value, parse_value_line
from plans.indicators import CODE_RE, IndicatorKind, Value, ValueRefused, fold
from storage.enums import Role
from storage.models import Assignment, Contact, Occurrence, Task, Unit

STEP = "indicator"
SKIP_WORDS = frozenset({"bo qua", "skip", "-"})  # not "không": a yes/no answer
KEY_RE = re.compile(rf"(?:^|(?<=[\s;,]))(?P<code>{CODE_RE.pattern})\s*=")
LIST_SEPARATORS = re.compile(r"[;\n]")


class LineRefused(ValueRefused):
    """A reply whose `code=value` part cannot be read; nothing of the reply is stored."""

    def __init__(self, message: str, indicators: list[Indicator]) -> None:
        super().__init__(message)
        self.indicators = indicators


@dataclass(frozen=True)
class Given:
    """A task's indicators, and the values a reply gave for them (by code)."""

    indicators: list[Indicator]
    values: dict[str, Value]

    def by_id(self) -> dict[int, Value]:
        """The values keyed by indicator id, for storage."""
        return {
            i.id: self.values[i.spec.code] for i in self.indicators if i.spec.code in self.values
        }

    def shown(self) -> list[tuple[str, str]]:
        """(name, value as written back) of the values given, in the plan's order."""
        return [
            (i.spec.name, format_value(i.spec, self.values[i.spec.code]))
            for i in self.indicators
            if i.spec.code in self.values
        ]


def split_reply(session: Session, item: OpenItem, text: str) -> tuple[str, Given | None]:
    """The reply without its `code=value` part, and the values read from that part.

    None for a task without indicators: its reply is read exactly as before. The values part
    starts at the first of the task's codes followed by "="; LineRefused when any value in it
    cannot be read, so nothing of the reply is stored.
    """
    if item.has_indicators is False:  # as read with the item (handlers/reporting.py)
        return text, None
    task_id = item.task.id
    assert task_id is not None
    indicators = task_indicators(session, [task_id]).get(task_id)
    if not indicators:
        return text, None
    codes = {i.spec.code.casefold() for i in indicators}
    start = next((m.start() for m in KEY_RE.finditer(text) if m["code"].casefold() in codes), None)
    if start is None:
        return text, Given(indicators, {})
    try:
        values = parse_value_line([i.spec for i in indicators], text[start:])
    except ValueRefused as exc:
        raise LineRefused(exc.message, indicators) from None
    return text[:start].rstrip(" ,;.-–:"), Given(indicators, values)


def save_given(
    session: Session, given: Given, item: OpenItem, contact_id: int, now: datetime
) -> None:
    """Store the values a reply gave on its occurrence."""
    assert item.occurrence.id is not None
    record_values(
        session,
        occurrence_id=item.occurrence.id,
        contact_id=contact_id,
        values=given.by_id(),
        now=now,
    )


def ask_first(
    session: Session,
    incoming: Incoming,
    item: OpenItem,
    contact_id: int,
    *,
    given: Given | None = None,
    now: datetime,
) -> tuple[OutgoingMessage, ...]:
    """Start asking for the values a report did not give; nothing when there are none to ask."""
    if given is None:
        assert item.task.id is not None
        given = Given(task_indicators(session, [item.task.id]).get(item.task.id, []), {})
    codes = [i.spec.code for i in given.indicators if i.spec.code not in given.values]
    if not codes:
        return ()
    state = {
        "step": STEP,
        "occurrence_id": item.occurrence.id,
        "contact_id": contact_id,
        "ref": item.ref.code,
        "codes": codes,
        "count": len(codes),
    }
    set_state(session, incoming.channel, incoming.chat_id, state, now=now)
    context = _Context.of(item, given.indicators)
    return (_question(session, incoming.capabilities, context, state),)


@dataclass(frozen=True)
class _Context:
    """The occurrence a step is about, with the names to show and the task's indicators."""

    occurrence: Occurrence
    task: Task
    unit: Unit
    indicators: list[Indicator]

    @classmethod
    def of(cls, item: OpenItem, indicators: list[Indicator]) -> _Context:
        """The context of an item whose indicators are known."""
        return cls(item.occurrence, item.task, item.unit, indicators)

    def pending(self, codes: Sequence[str]) -> list[Indicator]:
        """The indicators still to ask for, in the order of `codes`."""
        by_code = {i.spec.code: i for i in self.indicators}
        return [by_code[code] for code in codes if code in by_code]


def answer(
    session: Session,
    incoming: Incoming,
    contacts: list[Contact],
    state: dict[str, Any],
    now: datetime,
    *,
    skip: bool = False,
) -> Outcome:
    """The answer to the pending question (or «bỏ qua»): store it and ask the next one."""
    ch, chat_id, shows = incoming.channel, incoming.chat_id, incoming.capabilities
    context = _context(session, contacts, state)
    pending = context.pending(state.get("codes", [])) if context else []
    if context is None or not pending:
        clear_state(session, ch, chat_id)
        return Outcome(messages=(message(shows, "stale_button"),))
    refusal = _closed(context.occurrence)
    if refusal is not None:
        clear_state(session, ch, chat_id)
        return Outcome(messages=(message(shows, "refused", reason=refusal),))
    text = incoming.text.strip()
    try:
        values = {} if skip or fold(text) in SKIP_WORDS else _read(context, pending, text)
    except ValueRefused as exc:
        set_state(session, ch, chat_id, state, now=now)  # the question waits again
        again = _question(session, shows, context, state)
        refused = message(shows, "value_refused", reason=exc.message)
        return Outcome(messages=(refused, again))
    by_code = {i.spec.code: i for i in context.indicators}
    assert context.occurrence.id is not None
    record_values(
        session,
        occurrence_id=context.occurrence.id,
        contact_id=int(state["contact_id"]),
        values={by_code[code].id: value for code, value in values.items()},
        now=now,
    )
    answered = set(values) or {pending[0].spec.code}  # a skip passes over the current one
    state = {**state, "codes": [i.spec.code for i in pending if i.spec.code not in answered]}
    if state["codes"]:
        set_state(session, ch, chat_id, state, now=now)
        ack = [(by_code[c].spec.name, format_value(by_code[c].spec, v)) for c, v in values.items()]
        return Outcome(messages=(_question(session, shows, context, state, ack=ack),))
    clear_state(session, ch, chat_id)
    return Outcome(messages=(_summary(session, shows, context, str(state.get("ref", ""))),))


def _read(context: _Context, pending: list[Indicator], text: str) -> dict[str, Value]:
    """The values an answer gives: "code=value …" for any, "v1; v2" in turn, else the current."""
    if KEY_RE.search(text):
        return parse_value_line([i.spec for i in context.indicators], text)
    current = pending[0].spec
    if len(pending) > 1 and current.kind != IndicatorKind.TEXT and LIST_SEPARATORS.search(text):
        return parse_value_line([i.spec for i in pending], text)
    return {current.code: parse_value(current, text)}


def _closed(occurrence: Occurrence) -> str | None:
    """Why values may no longer be given on an occurrence, or None."""
    if occurrence.confirmed_at is not None:
        return str(AlreadyConfirmedError())
    if not occurrence.active:
        return str(RetiredOccurrenceError())
    return None


def _context(
    session: Session, contacts: list[Contact], state: Mapping[str, Any]
) -> _Context | None:
    """The step's occurrence, if it is still one this chat's contact reports on."""
    contact = next(
        (c for c in contacts if c.id == state.get("contact_id") and c.role == Role.CONTACT), None
    )
    if contact is None:
        return None
    row = session.exec(
        select(Occurrence, Task, Unit)
        .join(Assignment, col(Assignment.id) == col(Occurrence.assignment_id))
        .join(Task, col(Task.id) == col(Assignment.task_id))
        .join(Unit, col(Unit.id) == col(Assignment.unit_id))
        .where(col(Occurrence.id) == state.get("occurrence_id"), col(Unit.id) == contact.unit_id)
    ).first()
    if row is None:
        return None
    occurrence, task, unit = row
    assert task.id is not None
    return _Context(occurrence, task, unit, task_indicators(session, [task.id]).get(task.id, []))


def _question(
    session: Session,
    shows: Capabilities,
    context: _Context,
    state: Mapping[str, Any],
    *,
    ack: Sequence[tuple[str, str]] = (),
) -> OutgoingMessage:
    """The question for the first pending indicator, with what is on record for it."""
    pending = context.pending(state["codes"])
    current = pending[0]
    known = known_values(session, context.occurrence, [current]).get(current.id)
    count = int(state.get("count", len(pending)))
    return message(
        shows,
        "ask_value",
        buttons=[[skip_value_button()]],
        task_key=context.task.key,
        unit_name=context.unit.name,
        number=count - len(pending) + 1,
        count=count,
        spec=current.spec,
        known=format_value(current.spec, known.value) if known else None,
        earlier=bool(known and known.earlier_period),
        rest=[i.spec for i in pending],
        ack=ack,
    )


def _summary(
    session: Session, shows: Capabilities, context: _Context, code: str
) -> OutgoingMessage:
    """What is now on record for each indicator of the occurrence."""
    known = known_values(session, context.occurrence, context.indicators)
    lines = []
    for indicator in context.indicators:
        found = known.get(indicator.id)
        shown = (
            format_value(indicator.spec, found.value)
            if found and not found.earlier_period
            else None
        )
        lines.append((indicator.spec.name, shown))
    return message(
        shows,
        "values_recorded",
        task_key=context.task.key,
        unit_name=context.unit.name,
        lines=lines,
        specs=[i.spec for i in context.indicators],
        code=code,
    )


def refused(shows: Capabilities, task_key: str, error: LineRefused) -> Outcome:
    """A reply whose values cannot be read: nothing was stored, the codes are recalled."""
    specs = [i.spec for i in error.indicators]
    text = message(shows, "values_refused", reason=error.message, task_key=task_key, specs=specs)
    return Outcome(messages=(text,))

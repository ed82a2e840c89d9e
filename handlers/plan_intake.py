"""Plan intake in chat: a coordinator's plan document → a draft to check → the plan imported.

The draft is kept in the database (`PlanDraft`), so a restart keeps it; its buttons carry only
its id, checked again against the chat that taps them.
"""

from __future__ import annotations

import logging
import re
import tempfile
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from pathlib import Path, PurePath
from typing import Any

import yaml
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from chat import buttons
from chat.buttons import DraftAnswer
from chat.messages import Attachment, Capabilities
from chat.texts import message, say
from handlers.types import Incoming, IncomingDocument, Outcome
from plans.clock import local_date
from plans.errors import DondocError, InputFileError
from plans.import_scope import directory_from_db
from plans.importer import import_plan
from plans.intake.document import IntakeError
from plans.intake.texts import DOUBT_MARK
from plans.plan_file import load_plan_file
from plans.plan_spec import Directory, PlanSpec
from storage.db import session_scope, stored_id
from storage.enums import DraftState, Role
from storage.models import Contact, Plan, PlanDraft, Unit

logger = logging.getLogger(__name__)

DRAFT_SUFFIXES = (".yaml", ".yml")
DOUBT_RE = re.compile(rf"#\s*{re.escape(DOUBT_MARK)}\s*(.*)$")
LISTED = 15  # doubts and problems one message lists; the rest are counted
STEM_LIMIT = 120  # characters of a file name kept in the draft's name


@dataclass(frozen=True)
class Doubt:
    """A `# KIỂM TRA:` comment left in a draft, on its line."""

    line: int
    message: str


class _Refused(Exception):
    """A file that gives no draft: the chat is told why and nothing changes."""

    def __init__(self, kind: str, name: str, reason: str = "") -> None:
        super().__init__(reason or kind)
        self.context = {"kind": kind, "name": name, "reason": reason}


def may_draft(contacts: list[Contact]) -> bool:
    """Whether the chat may send plans: a coordinator's (the operator registers as one)."""
    return any(c.role == Role.COORDINATOR for c in contacts)


def howto(incoming: Incoming, contacts: list[Contact]) -> Outcome:
    """/kehoach: how to send a plan here, or elsewhere on a channel that takes no files."""
    if not may_draft(contacts):
        return _say(incoming.capabilities, "not_allowed")
    return _say(incoming.capabilities, "intake_howto", files=incoming.capabilities.files)


def receive(
    session: Session, incoming: Incoming, contacts: list[Contact], *, now: datetime
) -> Outcome:
    """A coordinator's file: a plan document drafted, or a corrected draft (YAML) taken."""
    document = incoming.documents[0]
    name = PurePath(document.filename.replace("\\", "/")).name or "ke-hoach.txt"
    try:
        filename, text = _draft_of(session, document, name, now)
    except _Refused as refused:
        return _say(incoming.capabilities, "intake_refused", **refused.context)
    contact = next(c for c in contacts if c.role == Role.COORDINATOR)
    draft = _store(session, contact, filename, text, now)
    return _shown(session, incoming.capabilities, draft)


def answer(
    session: Session,
    incoming: Incoming,
    contacts: list[Contact],
    action: DraftAnswer,
    *,
    now: datetime,
) -> Outcome:
    """«Nhập kế hoạch» or «Hủy» under a draft; a stale button changes nothing."""
    shows = incoming.capabilities
    draft = session.get(PlanDraft, action.draft_id)
    own = {c.id for c in contacts if c.role == Role.COORDINATOR}
    if draft is None or draft.contact_id not in own or draft.state != DraftState.PENDING:
        return Outcome(popup=say(shows, "intake_popup", kind="stale"))
    if not action.do_import:
        _set_state(session, draft, DraftState.CANCELLED, now)
        cancelled = message(shows, "intake_cancelled", filename=draft.filename)
        return Outcome(messages=(cancelled,), popup=say(shows, "intake_popup", kind="cancelled"))
    checked = _checked(session, shows, draft, contacts)
    if isinstance(checked, Outcome):
        return checked
    _set_state(session, draft, DraftState.IMPORTING, now)  # a second tap finds it stale
    job = partial(_import, shows, stored_id(draft), checked)
    return Outcome(popup=say(shows, "intake_popup", kind="importing"), then=job)


def doubts_in(text: str) -> list[Doubt]:
    """The `# KIỂM TRA:` comments a draft still holds, by line."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        if doubt := DOUBT_RE.search(line):
            found.append(Doubt(number, doubt.group(1).strip()))
    return found


def _say(shows: Capabilities, template: str, **context: Any) -> Outcome:
    """An outcome of one templated message."""
    return Outcome(messages=(message(shows, template, **context),))


def _draft_of(
    session: Session, document: IncomingDocument, name: str, now: datetime
) -> tuple[str, str]:
    """The draft's file name and YAML text; _Refused when the file gives none."""
    if not document.content:  # too large or not downloaded: the channel sent no bytes
        raise _Refused("empty", name)
    if name.lower().endswith(DRAFT_SUFFIXES):
        try:
            text = document.content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise _Refused("not_plan", name, "không phải UTF-8") from None
        _mapping(text, name)
        return name, text
    # The reader's libraries (python-docx, pdfplumber, rapidfuzz) load only when a plan comes.
    from plans.intake.draft import draft_plan
    from plans.intake.owners import UnitIndex

    with tempfile.TemporaryDirectory(prefix="dondoc-intake-") as folder:
        path = Path(folder) / name
        path.write_bytes(document.content)
        try:
            draft = draft_plan(path, UnitIndex.from_session(session), today=local_date(now))
        except IntakeError as exc:
            raise _Refused("unreadable", name, str(exc)) from None
    if not draft.tasks:
        raise _Refused("no_tasks", name)
    return f"{Path(name).stem[:STEM_LIMIT]}.draft.yaml", draft.text


def _mapping(text: str, name: str) -> dict[str, Any]:
    """A draft's YAML as a plan mapping with a task list; _Refused otherwise."""
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 0
        raise _Refused("not_plan", name, f"lỗi cú pháp YAML, dòng {line}") from None
    except yaml.YAMLError:
        raise _Refused("not_plan", name, "lỗi cú pháp YAML") from None
    if not isinstance(data, dict) or not isinstance(data.get("tasks"), list):
        raise _Refused("not_plan", name, "thiếu danh sách «tasks»")
    return data


def _store(
    session: Session, contact: Contact, filename: str, text: str, now: datetime
) -> PlanDraft:
    """Keep the draft; the chat's earlier pending draft is replaced (its buttons go stale)."""
    session.execute(
        update(PlanDraft)
        .where(
            col(PlanDraft.contact_id) == contact.id,
            col(PlanDraft.state) == DraftState.PENDING,
        )
        .values(state=DraftState.REPLACED, updated_at=now)
    )
    draft = PlanDraft(
        contact_id=stored_id(contact),
        filename=filename,
        text=text,
        doubts=len(doubts_in(text)),
        state=DraftState.PENDING,
        created_at=now,
        updated_at=now,
    )
    session.add(draft)
    session.flush()
    return draft


def _shown(session: Session, shows: Capabilities, draft: PlanDraft) -> Outcome:
    """The summary, the doubts and the buttons, with the draft as a file."""
    data = _mapping(draft.text, draft.filename)
    directory = directory_from_db(session)
    tasks = [t for t in data["tasks"] if isinstance(t, dict)]
    shown = message(
        shows,
        "intake_draft",
        buttons=[list(buttons.draft_buttons(stored_id(draft)))],
        code=data.get("code") or "",
        title=data.get("title") or "",
        filename=draft.filename,
        tasks=len(tasks),
        assignments=sum(len(_units(task, directory)) for task in tasks),
        doubts=doubts_in(draft.text),
        limit=LISTED,
    )
    file = Attachment(draft.filename, draft.text.encode("utf-8"))
    return Outcome(messages=(replace(shown, attachments=(file,)),))


def _units(task: dict[str, Any], directory: Directory) -> set[str]:
    """The units a draft's task would assign: its owners and partners, groups expanded."""
    names: list[Any] = []
    for key in ("owner", "owners", "partners"):
        value = task.get(key)
        names.extend(value if isinstance(value, list) else [value])
    units: set[str] = set()
    for name in names:
        code = directory.resolve(str(name)) if name else None
        units.update(directory.members(code) if code else ())
    return units


def _checked(
    session: Session, shows: Capabilities, draft: PlanDraft, contacts: list[Contact]
) -> Outcome | PlanSpec:
    """The validated plan, or why it may not be imported (doubts, problems, another's plan)."""
    if draft.doubts:
        return _say(shows, "intake_not_imported", doubts=draft.doubts)
    with tempfile.TemporaryDirectory(prefix="dondoc-intake-") as folder:
        path = Path(folder) / draft.filename
        path.write_text(draft.text, encoding="utf-8")
        try:
            spec = load_plan_file(path, directory_from_db(session))
        except InputFileError as exc:
            problems = [str(replace(p, file=draft.filename)) for p in exc.problems]
            return _say(shows, "intake_not_imported", problems=problems, limit=LISTED)
    ours = _coordinated_units(session, contacts)
    stored = session.exec(select(Plan.coordinator_code).where(Plan.code == spec.code)).first()
    for coordinator in (spec.coordinator, stored):
        if coordinator is not None and coordinator not in ours:
            return _say(shows, "intake_not_imported", code=spec.code, coordinator=coordinator)
    return replace(spec, path=Path(draft.filename))


def _coordinated_units(session: Session, contacts: list[Contact]) -> set[str]:
    """The codes of the units this chat coordinates for."""
    ids = [c.unit_id for c in contacts if c.role == Role.COORDINATOR]
    return set(session.exec(select(Unit.code).where(col(Unit.id).in_(ids))).all())


def _set_state(session: Session, draft: PlanDraft, state: DraftState, now: datetime) -> None:
    """Move a draft on."""
    draft.state = state
    draft.updated_at = now
    session.add(draft)


def _import(
    shows: Capabilities, draft_id: int, spec: PlanSpec, engine: Engine, now: datetime
) -> Outcome:
    """Import a validated draft once the tap is committed (the importer writes in batches)."""
    try:
        summary = import_plan(engine, spec, now=now)
    except Exception as exc:  # the tap is committed: whatever failed, the draft is given back
        logger.exception("plan %s from chat not imported", spec.code)
        _finish(engine, draft_id, DraftState.PENDING, now)
        reason = str(exc) if isinstance(exc, DondocError) else type(exc).__name__
        return _say(shows, "intake_imported", failed=True, code=spec.code, reason=reason)
    _finish(engine, draft_id, DraftState.IMPORTED, now)
    return _say(
        shows,
        "intake_imported",
        code=spec.code,
        tasks=len(spec.tasks),
        created=summary.created,
        updated=summary.updated,
        occurrences=summary.occurrences,
    )


def _finish(engine: Engine, draft_id: int, state: DraftState, now: datetime) -> None:
    """Record how an import ended."""
    with session_scope(engine) as session:
        draft = session.get(PlanDraft, draft_id)
        if draft is not None:
            _set_state(session, draft, state, now)

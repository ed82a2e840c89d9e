"""Button data: every kind of button the bot shows, formatted and parsed here and nowhere else.

The data is a short reference (Telegram allows 64 bytes), never the thing itself: whoever taps
it is checked again before anything changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from chat.messages import Button
from plans.status import STATUS_CHOICES, STATUS_LABELS
from storage.enums import ReportStatus


@dataclass(frozen=True)
class StatusPick:
    """A status button of one task: the task's short code and the status chosen."""

    code: str
    status: ReportStatus


@dataclass(frozen=True)
class SkipNote:
    """«Bỏ qua» under the question for a note."""


@dataclass(frozen=True)
class SkipValue:
    """«Bỏ qua» under the question for one indicator's value (handlers/indicator_answers.py)."""


@dataclass(frozen=True)
class ClaimAnswer:
    """A coordinator confirms a "done" claim, or returns it."""

    occurrence_id: int
    confirm: bool


@dataclass(frozen=True)
class DrillDown:
    """/status: open a plan, or one unit within it."""

    plan_id: int
    unit_id: int | None = None


@dataclass(frozen=True)
class DraftAnswer:
    """A coordinator imports a plan draft sent in chat, or cancels it (handlers/plan_intake.py)."""

    draft_id: int
    do_import: bool


ButtonData = StatusPick | SkipNote | SkipValue | ClaimAnswer | DrillDown | DraftAnswer

SKIP_NOTE = "n:skip"
SKIP_VALUE = "v:skip"
STATUS_RE = re.compile(r"s:([A-Z2-9]{3,8}):([123])")
CLAIM_RE = re.compile(r"c:(ok|ret):(\d{1,12})")
DRILL_RE = re.compile(r"st:(?:p:(\d{1,12})|u:(\d{1,12}):(\d{1,12}))")
DRAFT_RE = re.compile(r"pd:(ok|no):(\d{1,12})")
CHOICE_OF = {status: choice for choice, status in STATUS_CHOICES.items()}
STATUS_ICONS = {
    ReportStatus.DONE: "✅",
    ReportStatus.IN_PROGRESS: "🔄",
    ReportStatus.BLOCKED: "⚠️",
}
CAPTIONS = {
    "skip": "Bỏ qua",
    "confirm": "✅ Xác nhận {id}",
    "return": "↩️ Trả lại {id}",
    "plan": "📋 {code}",
    "unit": "🏫 {name}",
    "import": "📥 Nhập kế hoạch",
    "cancel": "✖️ Hủy",
}
UNIT_NAME_LIMIT = 40


def data_of(action: ButtonData) -> str:
    """The data a button carries for `action`."""
    match action:
        case StatusPick(code=code, status=status):
            return f"s:{code}:{CHOICE_OF[status]}"
        case SkipNote():
            return SKIP_NOTE
        case SkipValue():
            return SKIP_VALUE
        case ClaimAnswer(occurrence_id=occurrence_id, confirm=confirm):
            return f"c:{'ok' if confirm else 'ret'}:{occurrence_id}"
        case DrillDown(plan_id=plan_id, unit_id=None):
            return f"st:p:{plan_id}"
        case DrillDown(plan_id=plan_id, unit_id=unit_id):
            return f"st:u:{plan_id}:{unit_id}"
        case DraftAnswer(draft_id=draft_id, do_import=do_import):
            return f"pd:{'ok' if do_import else 'no'}:{draft_id}"
    raise TypeError(f"not button data: {action!r}")  # pragma: no cover - the union is closed


def parse(data: str) -> ButtonData | None:
    """What a button's data asks for; None when it is not data dondoc made."""
    if data == SKIP_NOTE:
        return SkipNote()
    if data == SKIP_VALUE:
        return SkipValue()
    if status := STATUS_RE.fullmatch(data):
        return StatusPick(status.group(1), STATUS_CHOICES[status.group(2)])
    if claim := CLAIM_RE.fullmatch(data):
        return ClaimAnswer(int(claim.group(2)), confirm=claim.group(1) == "ok")
    if drill := DRILL_RE.fullmatch(data):
        if drill.group(1) is not None:
            return DrillDown(int(drill.group(1)))
        return DrillDown(int(drill.group(2)), int(drill.group(3)))
    if draft := DRAFT_RE.fullmatch(data):
        return DraftAnswer(int(draft.group(2)), do_import=draft.group(1) == "ok")
    return None


def status_buttons(code: str, *, with_labels: bool) -> tuple[Button, ...]:
    """The three status buttons of one task: full labels, or icons with the task's code."""
    return tuple(
        Button(
            f"{STATUS_ICONS[status]} {STATUS_LABELS[status] if with_labels else code}",
            data_of(StatusPick(code, status)),
        )
        for status in STATUS_CHOICES.values()
    )


def skip_note_button() -> Button:
    """«Bỏ qua»: no note after a status button."""
    return Button(CAPTIONS["skip"], SKIP_NOTE)


def skip_value_button() -> Button:
    """«Bỏ qua»: no value for this indicator now."""
    return Button(CAPTIONS["skip"], SKIP_VALUE)


def claim_buttons(occurrence_id: int) -> tuple[Button, Button]:
    """Confirm or return one "done" claim."""
    confirm = data_of(ClaimAnswer(occurrence_id, confirm=True))
    give_back = data_of(ClaimAnswer(occurrence_id, confirm=False))
    return (
        Button(CAPTIONS["confirm"].format(id=occurrence_id), confirm),
        Button(CAPTIONS["return"].format(id=occurrence_id), give_back),
    )


def plan_button(plan_id: int, plan_code: str) -> Button:
    """Open one plan from the /status summary."""
    return Button(CAPTIONS["plan"].format(code=plan_code), data_of(DrillDown(plan_id)))


def unit_button(plan_id: int, unit_id: int, unit_name: str) -> Button:
    """Open one unit from a plan's /status."""
    name = unit_name[:UNIT_NAME_LIMIT]
    return Button(CAPTIONS["unit"].format(name=name), data_of(DrillDown(plan_id, unit_id)))


def draft_buttons(draft_id: int) -> tuple[Button, Button]:
    """Import a plan draft, or cancel it."""
    return (
        Button(CAPTIONS["import"], data_of(DraftAnswer(draft_id, do_import=True))),
        Button(CAPTIONS["cancel"], data_of(DraftAnswer(draft_id, do_import=False))),
    )

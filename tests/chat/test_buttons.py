"""Button data: every kind the bot shows comes back as what it asked for, and nothing else does."""

from __future__ import annotations

import pytest

from chat.buttons import (
    ClaimAnswer,
    DraftAnswer,
    DrillDown,
    SkipNote,
    StatusPick,
    claim_buttons,
    data_of,
    draft_buttons,
    parse,
    plan_button,
    skip_note_button,
    status_buttons,
    unit_button,
)
from storage.enums import ReportStatus

SHOWN = [
    *status_buttons("A7K", with_labels=True),
    skip_note_button(),
    *claim_buttons(123456789012),
    plan_button(7, "KH-GDDT-2023"),
    unit_button(7, 4321, "Trường Trung học cơ sở Cẩm Vũ " * 4),
    *draft_buttons(123456789012),
]


def test_every_button_the_bot_shows_parses_back_to_its_action() -> None:
    assert [parse(button.data) for button in SHOWN] == [
        StatusPick("A7K", ReportStatus.DONE),
        StatusPick("A7K", ReportStatus.IN_PROGRESS),
        StatusPick("A7K", ReportStatus.BLOCKED),
        SkipNote(),
        ClaimAnswer(123456789012, confirm=True),
        ClaimAnswer(123456789012, confirm=False),
        DrillDown(7),
        DrillDown(7, 4321),
        DraftAnswer(123456789012, do_import=True),
        DraftAnswer(123456789012, do_import=False),
    ]
    assert all(len(button.data.encode()) <= 64 for button in SHOWN)  # Telegram's limit


def test_status_buttons_read_the_status_table() -> None:
    labelled = [b.text for b in status_buttons("A7K", with_labels=True)]
    assert labelled == ["✅ Đã hoàn thành", "🔄 Đang thực hiện", "⚠️ Gặp khó khăn"]
    assert [b.text for b in status_buttons("A7K", with_labels=False)] == [
        "✅ A7K",
        "🔄 A7K",
        "⚠️ A7K",
    ]


@pytest.mark.parametrize(
    "data",
    [
        "",
        "s:AB:1",  # a code is 3 to 8 characters
        "s:A7K:4",  # three statuses only
        "s:a7k:1",
        "s:A7K:1\n",
        "n:skip ",
        "c:ok:",
        "c:maybe:5",
        "c:ok:1234567890123",  # 13 digits: not an id the bot gave
        "st:p:5:7",  # a plan drill-down names no unit
        "st:u:5",  # a unit drill-down names its plan and unit
        "x" * 64,
    ],
)
def test_data_the_bot_never_made_is_nothing(data: str) -> None:
    assert parse(data) is None


def test_formatting_and_parsing_agree() -> None:
    for action in (StatusPick("ZZ99", ReportStatus.BLOCKED), DrillDown(1, 2), SkipNote()):
        assert parse(data_of(action)) == action

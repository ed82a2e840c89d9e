"""The guide's deadline page: generated from the grammar's own examples, current, complete."""

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import plans.deadline as grammar
from plans.deadline import parse_deadline
from plans.deadline_guide import GUIDE_ISSUED, render_guide
from plans.deadline_text import deadline_forms, normalise

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "han-thoi-gian.md"
HEADER = "Cách viết trong kế hoạch"
Handler = Callable[[dict[str, str | None], Any], Any]


def rows(page: str) -> dict[str, str]:
    """The guide's table rows: written form → the dates cell."""
    found = {}
    for line in page.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split(" | ")]
        if line.startswith("| ") and len(cells) == 2 and cells[0] not in ("---", HEADER):
            found[cells[0]] = cells[1]
    return found


def test_committed_page_is_current() -> None:
    """docs/han-thoi-gian.md is what the engine renders today."""
    assert COMMITTED.read_text(encoding="utf-8") == render_guide(), (
        "docs/han-thoi-gian.md is out of date: run make docs"
    )


def test_every_form_has_a_worked_example() -> None:
    """Each form of plans/data/deadline_forms.yaml is a row of the page, and only those."""
    table = rows(render_guide())
    assert set(table) == set(deadline_forms())


@pytest.mark.parametrize(
    ("form", "cell"),
    [
        ("trước ngày 20/9/2025", "19/09/2025"),
        ("trước 17h00 ngày 20/9/2025", "20/09/2025"),
        ("trước tháng 12/2025", "30/11/2025"),
        ("quý I và III/2026", "31/03/2026, 30/09/2026"),
        ("trước Tết Nguyên đán 2026", "13/02/2026"),
        ("trong 10 ngày làm việc kể từ ngày ban hành", "05/02/2025"),
        (
            "hằng quý",
            "31/03/2025, 30/06/2025, 30/09/2025, 31/12/2025, … (12 hạn, hạn cuối 31/12/2027)",
        ),
        ("thường xuyên", "không có ngày — Thường xuyên"),
        ("theo yêu cầu", "không có ngày — Theo yêu cầu"),
        ("không thời hạn", "không có ngày — Chưa xác định"),
    ],
)
def test_rows_give_the_dates_an_operator_would_count(form: str, cell: str) -> None:
    """Rows checked by hand against a calendar, for a plan issued on 15/01/2025."""
    assert GUIDE_ISSUED == date(2025, 1, 15)
    assert rows(render_guide())[form] == cell


def test_another_issue_date_moves_the_dates() -> None:
    """The page is computed, not copied: a later plan's yearless forms fall a year later."""
    table = rows(render_guide(date(2025, 10, 1)))
    assert table["trước 30/9"] == "29/09/2026"


def test_every_anchor_of_the_grammar_has_an_example(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every anchor form plans/deadline.py reads (a date, month, quarter, year, weekday, school
    milestone, Tết, …) is exercised by at least one example, so the page shows them all."""
    used: set[int] = set()

    def recording(index: int, handler: Handler) -> Handler:
        """The anchor handler, noting that it was reached."""

        def handle(groups: dict[str, str | None], ctx: Any) -> Any:
            used.add(index)
            return handler(groups, ctx)

        return handle

    wrapped = tuple(
        (pattern, recording(index, handler))
        for index, (pattern, handler) in enumerate(grammar._ANCHORS)
    )
    monkeypatch.setattr(grammar, "_ANCHORS", wrapped)
    for form in deadline_forms():
        parse_deadline(form, issued=date(2025, 1, 15))
    missing = [grammar._ANCHORS[i][0].pattern for i in range(len(wrapped)) if i not in used]
    assert not missing, f"add an example of these anchors to deadline_forms.yaml: {missing}"


def test_every_kind_recurrence_and_bound_has_an_example() -> None:
    """Status forms, relative forms, each recurrence unit and each kind of bound appear too."""
    normal = [normalise(form) for form in deadline_forms()]
    kinds = {parse_deadline(form, issued=date(2025, 1, 15)).kind for form in deadline_forms()}
    assert kinds == {"dated", "ongoing", "on_request", "undated"}
    units = {m["unit"] for text in normal for m in grammar._RECURRENCE.finditer(text)}
    assert units >= set(grammar._UNIT_STEPS)
    for pattern in (grammar._WINDOW, grammar._SINCE, grammar._UNTIL, grammar._RELATIVE):
        assert any(pattern.search(text) for text in normal), pattern.pattern

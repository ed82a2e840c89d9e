"""Work its coordinator closed (handlers/closing.py) leaves the percentages from the closing day
on, like a dissolved unit's, and every format footnotes it with the reason; reports dated
before are unchanged."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import docx
import openpyxl
from sqlmodel import Session, select

from handlers.closing import close_occurrence
from reports.chat_text import build_digest_text, build_status_text
from reports.digest import week_summary
from reports.figures import build_report, build_status
from reports.files import write_report
from storage.db import stored_id
from storage.models import Assignment, Occurrence, Task, Unit
from tests.reports.test_figures_agree import (
    AT,
    EXPECTED,
    NOW,
    _chat,
    _docx,
    _html,
    _markdown,
    _xlsx,
    dataset,
)
from tests.utils.clock import local_time
from tests.utils.factories import make_contact

__all__ = ["dataset"]  # the fixture, shared with tests/reports/test_figures_agree.py

CLOSED_AT = local_time("2026-11-21 16:00")
REASON = "Trường không còn cấp học <THCS> & đã báo cáo riêng"
# TH_C's task 1, overdue and never reported, leaves every count it was in.
EXPECTED_AFTER = replace(
    EXPECTED,
    counts={**EXPECTED.counts, "Chưa hoàn thành, quá hạn": 0},
    total=11,
    completion="2/8 lượt có thời hạn (25%)",
    unreported=2,
)
LINE = "Trường Tiểu học TH_C — nhiệm vụ 1, hạn 20/11/2026 — {reason} (21/11/2026)"


def close_overdue(session: Session) -> None:
    """The coordinator closes TH_C's overdue task 1 on 21/11."""
    occurrence = session.exec(
        select(Occurrence)
        .join(Assignment, Assignment.id == Occurrence.assignment_id)
        .join(Task, Task.id == Assignment.task_id)
        .join(Unit, Unit.id == Assignment.unit_id)
        .where(Unit.code == "TH_C", Task.key == "1")
    ).one()
    office = session.exec(select(Unit).where(Unit.code == "PGDDT")).one()
    coordinator = make_contact(session, office, role="coordinator", chat_id="9")
    closed = close_occurrence(
        session, stored_id(occurrence), stored_id(coordinator), REASON, now=CLOSED_AT
    )
    assert closed
    session.commit()


def test_every_format_leaves_closed_work_out_and_footnotes_it(
    session: Session, dataset: None, tmp_path: Path
) -> None:
    close_overdue(session)
    report = build_report(session, plan_code="KH-F", at=AT, now=NOW)
    files = {kind: write_report(report, kind, tmp_path / f"r.{kind}") for kind in ("md", "html")}
    markdown, html = (files[kind].read_text("utf-8") for kind in ("md", "html"))
    document = write_report(report, "docx", tmp_path / "r.docx")
    workbook = write_report(report, "xlsx", tmp_path / "r.xlsx")
    found = {
        "/status": _chat(
            build_status_text(build_status(session, at=AT, plan_code="KH-F", now=NOW))
        ),
        "digest": _chat(
            build_digest_text(week_summary(session, plan_code="KH-F", now=NOW), attached=True)
        ),
        "md": _markdown(markdown),
        "html": _html(html),
        "docx": _docx(document),
        "xlsx": _xlsx(workbook),
    }
    assert found == dict.fromkeys(found, EXPECTED_AFTER)
    intro = "Không tính vào tỷ lệ 1 lượt nhiệm vụ đã đóng theo ý kiến điều phối"
    assert f"_{intro}:_" in markdown
    assert "- " + LINE.format(reason="Trường không còn cấp học &lt;THCS> & đã báo cáo riêng") in (
        markdown
    )
    escaped = "Trường không còn cấp học &lt;THCS&gt; &amp; đã báo cáo riêng"
    assert f"<li>{LINE.format(reason=escaped)}</li>" in html and f"{intro}:" in html
    note = f"{intro}: {LINE.format(reason=REASON)}."
    assert note in [p.text for p in docx.Document(str(document)).paragraphs]
    cells = [c for row in openpyxl.load_workbook(workbook)["Tổng hợp"].iter_rows() for c in row]
    assert note in [c.value for c in cells]


def test_a_report_dated_before_the_closing_is_unchanged(session: Session, dataset: None) -> None:
    before = date(2026, 11, 20)
    was = build_report(session, plan_code="KH-F", at=before)
    close_overdue(session)
    now = build_report(session, plan_code="KH-F", at=before)
    assert (now.tally, now.rows, now.closed) == (was.tally, was.rows, [])
    on_the_day = build_report(session, plan_code="KH-F", at=date(2026, 11, 21))
    assert [(c.unit.code, c.task.key) for c in on_the_day.closed] == [("TH_C", "1")]
    assert on_the_day.tally.total == was.tally.total - 1

"""One dataset rendered in every format — /status and the digest in chat, Markdown, HTML, DOCX,
XLSX — says the same figures: counts per category, total, completion rate with its denominator,
"chưa báo cáo", "gặp khó khăn", "sắp đến hạn", and the moment the figures stand at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import docx
import openpyxl
import pytest
from sqlmodel import Session

from plans.render import pct
from plans.status import Category
from reports.chat_text import build_digest_text, build_status_text
from reports.digest import week_summary
from reports.figures import build_report, build_status
from reports.files import write_report
from reports.model import PlanReport, ReportRow
from storage.models import Occurrence
from tests.utils.clock import local_time
from tests.utils.factories import assign, make_plan, make_report, make_task, make_unit

AT = date(2026, 11, 23)  # a Monday: the digest goes out at 07:30
NOW = local_time("2026-11-23 07:30")
LABELS = [category.label for category in Category]


@dataclass(frozen=True)
class Figures:
    """What one output says."""

    counts: dict[str, int]  # per category label
    total: int
    completion: str  # "2/9 lượt có thời hạn (22,2%)"
    unreported: int
    blocked: int
    due_soon: int
    as_of: str  # "07:30 ngày 23/11/2026"


EXPECTED = Figures(
    counts={
        "Hoàn thành đúng hạn": 1,
        "Hoàn thành quá hạn": 1,
        "Đang thực hiện trong hạn": 5,
        "Chưa đến hạn": 1,
        "Chưa hoàn thành, quá hạn": 1,
        "Không thời hạn": 3,
    },
    total=12,
    completion="2/9 lượt có thời hạn (22,2%)",
    unreported=3,
    blocked=2,
    due_soon=3,
    as_of="07:30 ngày 23/11/2026",
)


@pytest.fixture
def dataset(session: Session) -> None:
    """Three schools, four tasks: every category, a returned claim, old and new difficulties,
    and a difficulty since resolved."""
    make_unit(session, "UBND", name="UBND huyện Cẩm Giàng")
    make_unit(session, "PGDDT", name="Phòng Giáo dục và Đào tạo", parent="UBND")
    a, b, c = (
        make_unit(session, code, name=f"Trường Tiểu học {code}", parent="PGDDT")
        for code in ("TH_A", "TH_B", "TH_C")
    )
    plan = make_plan(session, "KH-F", number="9/KH-UBND", coordinator="PGDDT")

    def occurrences(key: str, due: date | None) -> list:
        task = make_task(session, plan, key, due_kind="dated" if due else "ongoing")
        periods = ["once"] if due else None
        return [assign(session, task, unit, [due], periods=periods)[0] for unit in (a, b, c)]

    t1a, t1b, _ = occurrences("1", date(2026, 11, 20))
    make_report(session, t1a, "done", local_time("2026-11-19 10:00"))  # on time
    make_report(session, t1b, "done", local_time("2026-11-21 10:00"))  # late; C: overdue
    t2a, t2b, t2c = occurrences("2", date(2026, 11, 30))
    make_report(session, t2a, "in_progress", local_time("2026-11-18 10:00"), percent=40)
    make_report(session, t2c, "blocked", local_time("2026-11-20 10:00"), note="thiếu kinh phí")
    t3a, t3b, t3c = occurrences("3", date(2026, 11, 25))  # due within 3 days
    make_report(
        session,
        t3a,
        "done",
        local_time("2026-11-19 10:00"),
        returned_at=local_time("2026-11-21 15:00"),
        return_reason="Thiếu biên bản",
    )
    make_report(session, t3b, "blocked", local_time("2026-11-10 10:00"), note="vướng mặt bằng")
    make_report(session, t3c, "blocked", local_time("2026-11-18 10:00"), note="đã gỡ")
    make_report(session, t3c, "in_progress", local_time("2026-11-20 10:00"))
    t4a, t4b, _ = occurrences("4", None)
    make_report(session, t4a, "in_progress", local_time("2026-11-02 10:00"))
    make_report(session, t4b, "done", local_time("2026-11-03 10:00"))
    session.commit()


def _report(session: Session) -> PlanReport:
    """The plan's report as the digest sees it: Monday 07:30."""
    return build_report(session, plan_code="KH-F", at=AT, now=NOW)


def _found(text: str, pattern: str) -> str:
    """The first group of `pattern` (lines anchored with ^ and $) in `text`; fails if absent."""
    found = re.search(pattern, text, re.MULTILINE)
    assert found is not None, pattern
    return found.group(1)


def _count(text: str, pattern: str) -> int:
    """A count as printed (1.500), found by `pattern`."""
    return int(_found(text, pattern).replace(".", ""))


def _counts(text: str, pattern: str) -> dict[str, int]:
    """Each category's count: `pattern` with the category's label for {label}."""
    return {label: _count(text, pattern.format(label=re.escape(label))) for label in LABELS}


def _chat(text: str) -> Figures:
    """The figures of a chat text (/status or the digest)."""
    return Figures(
        _counts(text, r" {label}: <b>([\d.]+)</b>"),
        _count(text, r"^Tính đến .+?: ([\d.]+) lượt nhiệm vụ"),
        _found(text, r"^Tính đến .*hoàn thành <b>(.+?)</b>"),
        _count(text, r"Chưa báo cáo: <b>([\d.]+)</b>"),
        _count(text, r"Gặp khó khăn: <b>([\d.]+)</b>"),
        _count(text, r"Sắp đến hạn: <b>([\d.]+)</b>"),
        _found(text, r"^Tính đến (.+?): "),
    )


def _markdown(text: str) -> Figures:
    """The figures of the Markdown report."""
    return Figures(
        _counts(text, r"^\| {label} \| ([\d.]+) \|"),
        _count(text, r"^\| \*\*Tổng cộng\*\* \| \*\*([\d.]+)\*\* \|"),
        _found(text, r"^- Tỷ lệ hoàn thành: \*\*(.+)\*\*$"),
        _count(text, r"^- Chưa báo cáo: ([\d.]+)$"),
        _count(text, r"^- Gặp khó khăn: ([\d.]+)$"),
        _count(text, r"^- Sắp đến hạn \(trong 3 ngày\): ([\d.]+)$"),
        _found(text, r"^- Số liệu tính đến (.+?): "),
    )


def _html(text: str) -> Figures:
    """The figures of the HTML report."""
    return Figures(
        _counts(text, r'<td class="c">{label}</td><td class="n">([\d.]+)<'),
        _count(text, r'<th>Tổng cộng</th><th class="n">([\d.]+)</th>'),
        _found(text, r"Tỷ lệ hoàn thành: <b>(.+?)</b>"),
        _count(text, r"; chưa báo cáo: ([\d.]+);"),
        _count(text, r"; gặp khó khăn: ([\d.]+)\."),
        _count(text, r"Sắp đến hạn \(trong 3 ngày\): ([\d.]+);"),
        _found(text, r"<li>Số liệu tính đến (.+?): "),
    )


def _docx(path: Path) -> Figures:
    """The figures of the DOCX report's section I."""
    text = "\n".join(p.text for p in docx.Document(str(path)).paragraphs)
    return Figures(
        _counts(text, r"^- {label}: ([\d.]+) lượt"),
        _count(text, r"tổng số ([\d.]+) lượt nhiệm vụ"),
        _found(text, r"Tỷ lệ hoàn thành: (.+? lượt có thời hạn \(.+?\))"),
        _count(text, r"Có ([\d.]+) lượt nhiệm vụ chưa được đơn vị báo cáo"),
        _count(text, r"([\d.]+) lượt đơn vị báo cáo gặp khó khăn"),
        _count(text, r"([\d.]+) lượt sắp đến hạn"),
        _found(text, r"báo cáo kết quả thực hiện tính đến (.+?) như sau"),
    )


def _xlsx(path: Path) -> Figures:
    """The figures of the XLSX summary sheet; its other sheets must add up to them."""
    book = openpyxl.load_workbook(path)
    summary = {row[0]: row[1:] for row in book["Tổng hợp"].iter_rows(values_only=True) if row[0]}
    done = summary["Hoàn thành (đúng hạn và quá hạn)"][0]
    dated = summary["Có thời hạn (không tính lượt không thời hạn)"][0]
    rate = summary["Tỷ lệ hoàn thành (hoàn thành / có thời hạn)"][1]
    moment: datetime = summary["Số liệu tính đến"][0]
    figures = Figures(
        {label: summary[label][0] for label in LABELS},
        summary["Tổng cộng"][0],
        f"{done}/{dated} lượt có thời hạn ({pct(round(100 * rate, 1))})",
        summary["Chưa báo cáo"][0],
        summary["Gặp khó khăn"][0],
        summary["Sắp đến hạn (trong 3 ngày)"][0],
        f"{moment:%H:%M} ngày {moment:%d/%m/%Y}",
    )
    units = list(book["Theo đơn vị"].iter_rows(min_row=2, values_only=True))
    columns = [c.value for c in book["Theo đơn vị"][1]]
    for label in LABELS:
        assert sum(row[columns.index(label)] for row in units) == figures.counts[label]
    for column, value in (("Chưa báo cáo", figures.unreported), ("Hoàn thành", done)):
        assert sum(row[columns.index(column)] for row in units) == value
    rows = book["KH-F"]
    categories = [row[6] for row in rows.iter_rows(min_row=2, values_only=True)]
    assert {label: categories.count(label) for label in LABELS} == figures.counts
    return figures


def test_every_format_says_the_same_figures(
    session: Session, dataset: None, tmp_path: Path
) -> None:
    report = _report(session)
    found = {
        "/status": _chat(
            build_status_text(build_status(session, at=AT, plan_code="KH-F", now=NOW))
        ),
        "digest": _chat(
            build_digest_text(week_summary(session, plan_code="KH-F", now=NOW), attached=True)
        ),
        "md": _markdown(write_report(report, "md", tmp_path / "r.md").read_text("utf-8")),
        "html": _html(write_report(report, "html", tmp_path / "r.html").read_text("utf-8")),
        "docx": _docx(write_report(report, "docx", tmp_path / "r.docx")),
        "xlsx": _xlsx(write_report(report, "xlsx", tmp_path / "r.xlsx")),
    }
    assert found == dict.fromkeys(found, EXPECTED)


def _rows(report: PlanReport, key: str) -> list[ReportRow]:
    """The rows of a task, schools A, B, C in order."""
    return [row for row in report.rows if row.task.key == key]


def test_not_yet_due_is_told_apart_from_work_reported_in_progress(
    session: Session, dataset: None
) -> None:
    in_progress, not_yet_due, blocked = _rows(_report(session), "2")
    assert (in_progress.category, in_progress.unreported) == (Category.IN_PROGRESS, False)
    assert (not_yet_due.category, not_yet_due.unreported) == (Category.NOT_YET_DUE, True)
    assert (blocked.category, blocked.blocked) == (Category.IN_PROGRESS, True)


def test_a_returned_claim_counts_once_as_reopened_work_without_its_date(
    session: Session, dataset: None, tmp_path: Path
) -> None:
    report = _report(session)
    returned = _rows(report, "3")[0]
    assert returned.category is Category.IN_PROGRESS  # in time, work reopened by the return
    assert returned.returned and returned.return_reason == "Thiếu biên bản"
    assert not returned.unreported and returned.reported_on is None and not returned.done_on
    assert sum(report.tally.counts.values()) == len(report.rows) == report.tally.total
    sheet = openpyxl.load_workbook(write_report(report, "xlsx", tmp_path / "r.xlsx"))["KH-F"]
    (line,) = [
        row for row in sheet.iter_rows(min_row=2, values_only=True) if row[1:4:2] == ("TH_A", "3")
    ]
    assert line[6:8] == ("Đang thực hiện trong hạn", "Đang thực hiện")
    assert line[10] is None  # no "Ngày báo cáo": the refused claim's day is not a report's
    assert "bị trả lại" in line[12] and "Thiếu biên bản" in line[12]


def test_the_blocked_count_covers_every_difficulty_listed(session: Session, dataset: None) -> None:
    report = _report(session)
    listed = [(d.unit.code, d.task.key) for d in report.difficulties]
    assert listed == [("TH_C", "2")]  # new this week; TH_C's task 3 was unblocked since
    blocked = {(r.unit.code, r.task.key) for r in report.rows if r.blocked}
    assert blocked == {("TH_C", "2"), ("TH_B", "3")}  # TH_B's dates from before the week
    assert set(listed) <= blocked and report.tally.blocked == len(blocked)
    summary = week_summary(session, plan_code="KH-F", now=NOW)
    shown = [(d.unit.code, d.task.key) for d in summary.difficulties.items]
    assert shown == listed and summary.difficulties.total <= summary.tally.blocked


def test_the_figures_say_the_moment_they_stand_at(session: Session, dataset: None) -> None:
    (occurrence,) = [r for r in _report(session).rows if (r.unit.code, r.task.key) == ("TH_B", "2")]
    later = session.get(Occurrence, occurrence.occurrence_id)
    assert later is not None
    make_report(session, later, "done", local_time("2026-11-23 09:00"))  # after 07:30
    session.commit()
    morning = build_report(session, plan_code="KH-F", at=AT, now=NOW)
    whole_day = build_report(session, plan_code="KH-F", at=AT)
    assert _rows(morning, "2")[1].category is Category.NOT_YET_DUE  # done at 09:00: not yet
    assert _rows(whole_day, "2")[1].category is Category.DONE_ON_TIME
    digest = build_digest_text(week_summary(session, plan_code="KH-F", now=NOW), attached=True)
    assert "Tính đến 07:30 ngày 23/11/2026: 12 lượt nhiệm vụ" in digest
    evening = local_time("2026-11-23 23:59")
    text = build_status_text(build_status(session, at=AT, plan_code="KH-F", now=evening))
    assert "Tính đến 23:59 ngày 23/11/2026" in text
    past = build_status_text(build_status(session, at=date(2026, 11, 22), plan_code="KH-F"))
    assert "Tính đến hết ngày 22/11/2026" in past

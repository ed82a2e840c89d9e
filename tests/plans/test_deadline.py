"""Deadline expressions: the worked examples, variants nobody listed, errors and fuzzing."""

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plans.deadline import parse_deadline
from plans.deadline_text import deadline_forms
from plans.errors import DeadlineError

# Copies of shared/examples/deadlines.tsv and deadlines-2.tsv, so the tests run on a clean clone.
EXAMPLES = [Path(__file__).parent / "data" / name for name in ("deadlines.tsv", "deadlines-2.tsv")]


def outcome(text: str, issued: str, until: str) -> str:
    """What a TSV row's last column says: the due dates, the kind, or ERROR."""
    try:
        deadline = parse_deadline(text, issued=date.fromisoformat(issued))
    except DeadlineError:
        return "ERROR"
    if deadline.kind != "dated":
        return deadline.kind
    return " ".join(day.isoformat() for day in deadline.dates(date.fromisoformat(until)))


def example_rows() -> list[tuple[str, str, str, str]]:
    """The rows of the worked-examples files."""
    lines = [line for path in EXAMPLES for line in path.read_text(encoding="utf-8").splitlines()]
    rows = [line.split("\t") for line in lines if line.strip() and not line.startswith("#")]
    return [(text, issued, until, expected) for text, issued, until, expected in rows]


@pytest.mark.parametrize(("text", "issued", "until", "expected"), example_rows())
def test_worked_example(text: str, issued: str, until: str, expected: str) -> None:
    """Every row of shared/examples/deadlines.tsv and deadlines-2.tsv."""
    assert outcome(text, issued, until) == expected


VARIANTS = [
    # Dates: other days, separators, words, qualifiers, times.
    ("hạn 20/9/2023", "2023-01-01", "2024-12-31", "2023-09-20"),
    ("trước 17h00 ngày 20/9/2023", "2023-01-01", "2024-12-31", "2023-09-20"),
    ("Trước 8 giờ 30 phút, ngày 3/10/2025", "2025-01-01", "2026-12-31", "2025-10-03"),
    ("ngày 5 tháng 3 năm 2026", "2025-01-01", "2026-12-31", "2026-03-05"),
    ("20-9-2023", "2023-01-01", "2024-12-31", "2023-09-20"),
    ("20.9.2023", "2023-01-01", "2024-12-31", "2023-09-20"),
    ("20–9–2023", "2023-01-01", "2024-12-31", "2023-09-20"),
    ("chậm nhất là ngày 05/01/2026", "2025-09-01", "2026-12-31", "2026-01-05"),
    ("trước ngày 10/1/2026", "2025-09-01", "2026-12-31", "2026-01-09"),
    ("TRƯỚC   NGÀY 1/3/2024", "2024-01-01", "2024-12-31", "2024-02-29"),
    ("Hoàn thành trước 30/9", "2023-10-01", "2024-12-31", "2024-09-29"),
    ("Thời hạn: 15/11.", "2025-01-01", "2026-12-31", "2025-11-15"),
    # Months, month parts, ranges.
    ("chậm nhất tháng 12/2024", "2024-01-01", "2025-12-31", "2024-12-31"),
    ("12/2024", "2024-01-01", "2025-12-31", "2024-12-31"),
    ("Tháng 12 năm 2024", "2024-01-01", "2025-12-31", "2024-12-31"),
    ("trước tháng 3/2025", "2024-01-01", "2025-12-31", "2025-02-28"),
    ("giữa tháng 3/2026", "2025-01-01", "2026-12-31", "2026-03-20"),
    ("cuối tháng 2/2028", "2027-01-01", "2028-12-31", "2028-02-29"),
    ("từ tháng 3 đến tháng 5/2025", "2025-01-01", "2025-12-31", "2025-05-31"),
    ("tháng 9 – 10/2025", "2025-01-01", "2026-12-31", "2025-10-31"),
    ("tháng 11/2025 - tháng 2/2026", "2025-01-01", "2026-12-31", "2026-02-28"),
    ("trong tháng 7", "2025-08-15", "2026-12-31", "2026-07-31"),
    # Quarters, parts of a year, years.
    ("Quý 1/2025", "2024-11-29", "2026-12-31", "2025-03-31"),
    ("quý 2 - 3/2025", "2024-11-29", "2026-12-31", "2025-09-30"),
    ("QUÝ  II / 2025", "2024-11-29", "2026-12-31", "2025-06-30"),
    ("Quý III—IV/2024", "2024-01-01", "2025-12-31", "2024-12-31"),
    ("Quý 3 năm 2025", "2024-01-01", "2025-12-31", "2025-09-30"),
    ("Thời gian: Quý II/2025.", "2025-01-01", "2026-12-31", "2025-06-30"),
    ("trước quý III/2025", "2025-01-01", "2026-12-31", "2025-06-30"),
    ("6 tháng cuối năm 2026", "2025-01-01", "2026-12-31", "2026-12-31"),
    ("nửa đầu năm 2025", "2025-01-01", "2026-12-31", "2025-06-30"),
    ("sáu tháng đầu năm 2026", "2025-01-01", "2026-12-31", "2026-06-30"),
    ("trong năm 2025", "2024-01-01", "2025-12-31", "2025-12-31"),
    ("cuối năm 2025", "2024-01-01", "2025-12-31", "2025-12-31"),
    ("trước năm 2026", "2024-01-01", "2025-12-31", "2025-12-31"),
    # Windows and open-ended years.
    ("2021-2025", "2023-09-05", "2030-12-31", "2023-12-31 2024-12-31 2025-12-31"),
    ("Giai đoạn 2026 – 2030", "2025-01-01", "2027-12-31", "2026-12-31 2027-12-31"),
    ("từ năm 2021 đến năm 2025", "2024-03-01", "2030-12-31", "2024-12-31 2025-12-31"),
    ("đến năm 2027", "2025-06-01", "2030-12-31", "2025-12-31 2026-12-31 2027-12-31"),
    ("từ nay đến năm 2026", "2025-06-01", "2030-12-31", "2025-12-31 2026-12-31"),
    ("từ năm 2024", "2025-01-01", "2026-12-31", "2025-12-31 2026-12-31"),
    ("Năm 2025 và các năm tiếp theo", "2024-06-01", "2026-12-31", "2025-12-31 2026-12-31"),
    # Recurring forms.
    ("mỗi năm", "2025-01-01", "2026-12-31", "2025-12-31 2026-12-31"),
    ("HÀNG QUÝ", "2025-05-01", "2025-12-31", "2025-06-30 2025-09-30 2025-12-31"),
    ("định kỳ 3 tháng", "2025-05-01", "2025-12-31", "2025-06-30 2025-09-30 2025-12-31"),
    ("6 tháng một lần", "2025-01-01", "2025-12-31", "2025-06-30 2025-12-31"),
    ("định kỳ hằng tháng", "2025-11-05", "2026-01-31", "2025-11-30 2025-12-31 2026-01-31"),
    ("cuối mỗi tháng", "2025-11-01", "2026-01-31", "2025-11-30 2025-12-31 2026-01-31"),
    ("ngày 3 hằng tháng", "2025-10-01", "2025-12-31", "2025-10-03 2025-11-03 2025-12-03"),
    ("trước ngày 5 hàng tháng", "2025-10-10", "2025-12-31", "2025-11-04 2025-12-04"),
    (
        "ngày 31 hằng tháng",
        "2025-01-01",
        "2025-04-30",
        "2025-01-31 2025-02-28 2025-03-31 2025-04-30",
    ),
    ("thứ Hai hằng tuần", "2025-12-01", "2025-12-20", "2025-12-01 2025-12-08 2025-12-15"),
    ("thứ 6 hằng tuần", "2025-12-01", "2025-12-14", "2025-12-05 2025-12-12"),
    ("hằng tuần", "2025-12-01", "2025-12-14", "2025-12-05 2025-12-12"),
    ("hằng tuần vào thứ năm", "2025-12-01", "2025-12-14", "2025-12-04 2025-12-11"),
    ("tháng 6 hàng năm", "2025-07-01", "2027-12-31", "2026-06-30 2027-06-30"),
    ("trước tháng 1 hằng năm", "2025-01-01", "2026-12-31", "2025-12-31 2026-12-31"),
    ("ngày 15 tháng 12 hằng năm", "2025-01-01", "2026-12-31", "2025-12-15 2026-12-15"),
    ("29/2 hằng năm", "2023-01-01", "2024-12-31", "2023-02-28 2024-02-29"),
    ("Quý 2 hằng năm", "2025-01-01", "2026-12-31", "2025-06-30 2026-06-30"),
    ("hằng quý từ năm 2026", "2025-01-01", "2026-06-30", "2026-03-31 2026-06-30"),
    ("tháng 11 hằng năm giai đoạn 2025-2026", "2024-01-01", "2030-12-31", "2025-11-30 2026-11-30"),
    # Unions.
    (
        "Trước khai giảng và cuối năm học",
        "2025-01-01",
        "2026-12-31",
        "2025-05-31 2025-09-04 2026-05-31 2026-09-04",
    ),
    ("Quý IV/2025 và hằng năm", "2025-01-01", "2027-12-31", "2025-12-31 2026-12-31 2027-12-31"),
    ("Tháng 6/2026 và hằng năm", "2025-01-01", "2027-12-31", "2026-06-30 2026-12-31 2027-12-31"),
    ("Quý I, Quý III/2025", "2024-11-01", "2026-12-31", "2025-03-31 2025-09-30"),
    ("quý I và III/2026", "2024-11-01", "2026-12-31", "2026-03-31 2026-09-30"),
    ("tháng 3, 6 và 9/2025", "2024-11-01", "2026-12-31", "2025-03-31 2025-06-30 2025-09-30"),
    ("định kỳ 6 tháng; hằng năm", "2025-01-01", "2025-12-31", "2025-06-30 2025-12-31"),
    ("Thường xuyên; hằng quý", "2025-07-01", "2025-12-31", "2025-09-30 2025-12-31"),
    # School year.
    ("khai giảng", "2025-09-06", "2026-12-31", "2026-09-05"),
    ("trước khai giảng năm học 2026-2027", "2025-01-01", "2027-12-31", "2026-09-04"),
    ("trước ngày khai giảng năm học mới", "2025-01-01", "2026-12-31", "2025-09-04"),
    ("đầu năm học", "2025-08-01", "2026-12-31", "2025-09-30 2026-09-30"),
    ("sơ kết học kỳ I", "2025-09-01", "2026-12-31", "2026-01-17"),
    ("cuối HK I năm học 2026-2027", "2025-09-01", "2027-12-31", "2027-01-17"),
    ("kết thúc học kỳ II", "2025-09-01", "2026-12-31", "2026-05-31"),
    ("tổng kết năm học", "2025-09-01", "2026-12-31", "2026-05-31"),
    ("năm học 2025-26", "2025-01-01", "2026-12-31", "2026-05-31"),
    ("dịp hè", "2025-09-01", "2026-12-31", "2026-08-31"),
    ("trong hè năm 2026", "2025-01-01", "2026-12-31", "2026-08-31"),
    ("đầu năm học hằng năm", "2025-01-01", "2026-12-31", "2025-09-30 2026-09-30"),
    # Tết.
    ("trước Tết Nguyên đán 2026", "2025-09-01", "2026-12-31", "2026-02-13"),
    ("trước Tết Nguyên đán Ất Tỵ", "2024-11-01", "2025-12-31", "2025-01-24"),
    ("trước Tết Nguyên đán", "2025-03-01", "2026-12-31", "2026-02-13"),
    (
        "trước Tết Nguyên đán hằng năm",
        "2023-01-01",
        "2025-12-31",
        "2023-01-19 2024-02-07 2025-01-24",
    ),
    # Counted from the plan or from a written date.
    ("trong thời hạn 30 ngày kể từ ngày ký", "2025-01-01", "2025-12-31", "2025-01-31"),
    ("trong vòng 07 ngày làm việc", "2025-01-20", "2025-12-31", "2025-02-05"),
    ("trong 10 ngày làm việc kể từ ngày ký ban hành", "2025-01-20", "2025-12-31", "2025-02-10"),
    ("trong vòng 2 tuần kể từ ngày nhận được kế hoạch", "2025-01-31", "2025-12-31", "2025-02-14"),
    ("trong 3 tháng kể từ ngày ban hành", "2025-11-30", "2026-12-31", "2026-02-28"),
    ("trong 15 ngày kể từ ngày 20/12/2025", "2025-01-01", "2026-12-31", "2026-01-04"),
    (
        "trong 30 ngày kể từ ngày kết thúc năm học 2025-2026",
        "2025-01-01",
        "2026-12-31",
        "2026-06-30",
    ),
    # Kinds without dates.
    ("hằng ngày", "2025-01-01", "2025-12-31", "ongoing"),
    ("Thường xuyên, liên tục", "2025-01-01", "2025-12-31", "ongoing"),
    ("đột xuất", "2025-01-01", "2025-12-31", "on_request"),
    ("Khi có yêu cầu của UBND huyện", "2025-01-01", "2025-12-31", "on_request"),
    ("khi có yêu cầu và thường xuyên", "2025-01-01", "2025-12-31", "ongoing"),
    ("theo kế hoạch của UBND tỉnh", "2025-01-01", "2025-12-31", "undated"),
    ("Theo kế hoạch của UBND tỉnh và Sở GD&ĐT", "2025-01-01", "2025-12-31", "undated"),
    ("theo lộ trình của Bộ GD&ĐT", "2025-01-01", "2025-12-31", "undated"),
    ("trong 15 ngày kể từ khi có kết quả thẩm định", "2025-01-01", "2025-12-31", "undated"),
]

# Second edition: forms a Vietnamese office writes beyond deadlines-2.tsv.
VARIANTS_2 = [
    # "trước" and "hằng năm" reach every part of "X và Y"; a trailing year reaches them too.
    (
        "TRƯỚC NGÀY 10/7  VÀ 10/1 HÀNG NĂM",
        "2026-01-01",
        "2027-12-31",
        "2026-01-09 2026-07-09 2027-01-09 2027-07-09",
    ),
    ("trước ngày 15/6, 15/12 hằng năm", "2026-01-01", "2026-12-31", "2026-06-14 2026-12-14"),
    ("Hằng năm, trước ngày 30/6 và 31/12", "2026-01-01", "2026-12-31", "2026-06-29 2026-12-30"),
    ("chậm nhất ngày 15/6 và 15/12 hằng năm", "2026-01-01", "2026-12-31", "2026-06-15 2026-12-15"),
    ("trước tháng 6 và tháng 12 hằng năm", "2026-01-01", "2026-12-31", "2026-05-31 2026-11-30"),
    ("tháng 3, 6, 9 hằng năm", "2026-01-01", "2026-12-31", "2026-03-31 2026-06-30 2026-09-30"),
    (
        "quý I và III hằng năm",
        "2026-01-01",
        "2027-12-31",
        "2026-03-31 2026-09-30 2027-03-31 2027-09-30",
    ),
    (
        "ngày 10 và 25 hằng tháng",
        "2026-01-01",
        "2026-02-28",
        "2026-01-10 2026-01-25 2026-02-10 2026-02-25",
    ),
    (
        "thứ Hai và thứ Năm hằng tuần",
        "2026-12-01",
        "2026-12-13",
        "2026-12-03 2026-12-07 2026-12-10",
    ),
    ("hằng tháng, trước ngày 5", "2026-01-01", "2026-03-31", "2026-01-04 2026-02-04 2026-03-04"),
    ("trước ngày 30/6 và 31/12/2026", "2025-01-01", "2027-12-31", "2026-06-29 2026-12-30"),
    (
        "trước Tết Nguyên đán và 30/6 hằng năm",
        "2025-01-01",
        "2026-12-31",
        "2025-01-24 2025-06-30 2026-02-13 2026-06-30",
    ),
    # "trước" reaches only a part of its own shape (a day, a stretch of months).
    ("Trước 30/9 và Quý IV/2025", "2025-01-01", "2026-12-31", "2025-09-29 2025-12-31"),
    (
        "trước ngày 15 tháng 6 và 15 tháng 12 hằng năm",
        "2026-01-01",
        "2026-12-31",
        "2026-06-14 2026-12-14",
    ),
    ("Thường xuyên, hằng quý", "2026-01-01", "2026-06-30", "2026-03-31 2026-06-30"),
    ("Định kỳ hằng năm, chậm nhất ngày 15/12", "2025-01-01", "2026-12-31", "2025-12-15 2026-12-15"),
    # A day of the first, second or last month of each quarter.
    (
        "trước ngày 10 tháng đầu quý",
        "2026-01-01",
        "2026-12-31",
        "2026-01-09 2026-04-09 2026-07-09 2026-10-09",
    ),
    (
        "ngày 10 của tháng đầu tiên mỗi quý",
        "2026-02-01",
        "2026-12-31",
        "2026-04-10 2026-07-10 2026-10-10",
    ),
    ("ngày 15 tháng thứ hai của quý", "2026-01-01", "2026-06-30", "2026-02-15 2026-05-15"),
    (
        "chậm nhất ngày 25 tháng cuối quý",
        "2026-01-01",
        "2026-12-31",
        "2026-03-25 2026-06-25 2026-09-25 2026-12-25",
    ),
    ("cuối quý", "2026-05-01", "2026-12-31", "2026-06-30 2026-09-30 2026-12-31"),
    ("cuối tháng", "2026-01-15", "2026-03-31", "2026-01-31 2026-02-28 2026-03-31"),
    # Recurring forms bounded by a year, a month or a window.
    (
        "hằng quý năm 2027",
        "2026-12-20",
        "2028-06-30",
        "2027-03-31 2027-06-30 2027-09-30 2027-12-31",
    ),
    ("ngày 5 hằng tháng đến hết năm 2026", "2026-10-20", "2027-06-30", "2026-11-05 2026-12-05"),
    (
        "hằng tháng đến hết tháng 3/2027",
        "2026-12-01",
        "2027-12-31",
        "2026-12-31 2027-01-31 2027-02-28 2027-03-31",
    ),
    (
        "trước ngày 5 hằng tháng từ tháng 3/2027 đến hết tháng 5/2027",
        "2026-10-20",
        "2028-06-30",
        "2027-03-04 2027-04-04 2027-05-04",
    ),
    (
        "thứ Hai hằng tuần trong tháng 12/2026",
        "2026-11-01",
        "2027-12-31",
        "2026-12-07 2026-12-14 2026-12-21 2026-12-28",
    ),
    # Counted in (working) days after each end of a month, quarter or semester.
    (
        "trong 05 ngày làm việc sau khi kết thúc quý",
        "2026-01-01",
        "2026-12-31",
        "2026-04-07 2026-07-07 2026-10-07",
    ),
    ("05 ngày làm việc đầu tháng", "2026-09-05", "2026-12-31", "2026-10-07 2026-11-06 2026-12-07"),
    ("10 ngày sau khi kết thúc học kỳ I", "2025-09-01", "2027-12-31", "2026-01-27 2027-01-27"),
    (
        "trong 5 ngày làm việc sau khi kết thúc học kỳ",
        "2025-09-01",
        "2026-12-31",
        "2026-01-23 2026-06-05",
    ),
    (
        "chậm nhất 3 ngày làm việc sau khi kết thúc quý I/2026",
        "2026-01-01",
        "2026-12-31",
        "2026-04-03",
    ),
    (
        "trong 15 ngày kể từ ngày kết thúc năm học",
        "2025-01-01",
        "2026-12-31",
        "2025-06-15 2026-06-15",
    ),
    # Weekly.
    ("thứ 2 hàng tuần", "2026-12-01", "2026-12-20", "2026-12-07 2026-12-14"),
    ("chiều thứ Sáu hằng tuần", "2026-12-01", "2026-12-13", "2026-12-04 2026-12-11"),
    ("trước 16h thứ Sáu hằng tuần", "2026-12-01", "2026-12-13", "2026-12-04 2026-12-11"),
    ("trước thứ Sáu hằng tuần", "2026-12-01", "2026-12-13", "2026-12-03 2026-12-10"),
    # School year.
    ("khi kết thúc học kỳ I", "2025-09-05", "2026-12-31", "2026-01-17"),
    ("sau khi kết thúc học kỳ II", "2025-09-05", "2027-12-31", "2026-05-31 2027-05-31"),
    ("sau khi kết thúc năm học 2025-2026", "2025-09-05", "2027-12-31", "2026-05-31"),
    ("trước khai giảng mỗi năm học", "2025-01-01", "2026-12-31", "2025-09-04 2026-09-04"),
    ("sau khi có hướng dẫn của Sở", "2025-09-05", "2027-12-31", "undated"),
    # Report periods.
    ("6 tháng và cả năm", "2026-01-01", "2026-12-31", "2026-06-30 2026-12-31"),
    ("Báo cáo sơ kết 6 tháng và tổng kết năm", "2026-01-01", "2026-12-31", "2026-06-30 2026-12-31"),
    (
        "3 tháng, 6 tháng, 9 tháng và cả năm",
        "2026-01-01",
        "2026-12-31",
        "2026-03-31 2026-06-30 2026-09-30 2026-12-31",
    ),
    (
        "6 tháng và cả năm hằng năm",
        "2026-01-01",
        "2027-12-31",
        "2026-06-30 2026-12-31 2027-06-30 2027-12-31",
    ),
    ("9 tháng và cả năm 2026", "2025-06-01", "2027-12-31", "2026-09-30 2026-12-31"),
    # Weeks of a month: the week's last day.
    ("tuần đầu tháng", "2026-01-01", "2026-03-31", "2026-01-07 2026-02-07 2026-03-07"),
    ("trong tuần đầu tiên của tháng 6/2026", "2026-01-01", "2026-12-31", "2026-06-07"),
    ("tuần cuối tháng", "2026-01-01", "2026-03-31", "2026-01-31 2026-02-28 2026-03-31"),
    # Asides and trailing remarks.
    (
        "chậm nhất ngày 25/12/2026 (qua Văn phòng UBND xã), gửi bản mềm qua email",
        "2026-03-01",
        "2026-12-31",
        "2026-12-25",
    ),
    ("trước ngày 20/9/2026 - báo cáo UBND huyện", "2026-03-01", "2026-12-31", "2026-09-19"),
    ("trước ngày 20/9/2026 gửi về Phòng GD&ĐT", "2026-03-01", "2026-12-31", "2026-09-19"),
    ("Quý IV/2026. Gửi kết quả về Văn phòng", "2026-03-01", "2026-12-31", "2026-12-31"),
    ("Hằng tháng (trước ngày 25)", "2026-01-01", "2026-03-31", "2026-01-24 2026-02-24 2026-03-24"),
    # Plain forms in other spellings.
    ("chậm nhất trong tháng 12 hằng năm", "2026-01-01", "2027-12-31", "2026-12-31 2027-12-31"),
    ("trong quý II năm 2026", "2026-01-01", "2027-12-31", "2026-06-30"),
    ("6 tháng đầu năm", "2026-01-01", "2027-12-31", "2026-06-30"),
    ("Quý  iv", "2026-01-01", "2027-12-31", "2026-12-31"),
]


@pytest.mark.parametrize(("text", "issued", "until", "expected"), VARIANTS + VARIANTS_2)
def test_variant(text: str, issued: str, until: str, expected: str) -> None:
    """Forms that are not in the worked examples."""
    assert outcome(text, issued, until) == expected


@pytest.mark.parametrize(
    "text",
    [
        "32/13/2026",
        "31/2/2026",
        "ngày 0/5/2025",
        "tháng 13/2025",
        "quý V/2025",
        "30/2 hằng năm",
        "năm học 2025-2027",
        "giai đoạn 2025-2021",
        "định kỳ 5 tháng",
        "hằng năm hằng tháng",
        "trước hằng năm",
        "Tết Ất Tỵ 2026",
        "năm 0001",
        "xyz không rõ",
        "hoàn thành",
        "",
        "   ;  ",
        "Tháng 12/2024 và xyz",
        "cuối học kỳ năm học 2025-2026",
        "hằng tháng trong năm 2027 và xyz",
        "6 tháng",
        "trong 10 ngày kể từ xyz",
    ],
)
def test_unreadable_text_is_refused_with_a_quote(text: str) -> None:
    """Garbage and impossible dates raise DeadlineError quoting the original text."""
    with pytest.raises(DeadlineError) as caught:
        parse_deadline(text, issued=date(2025, 1, 1))
    assert caught.value.text == text
    assert f'"{text}"' in str(caught.value)


def test_unreadable_text_suggests_the_closest_forms() -> None:
    """The error of a misspelt deadline names three accepted forms, the closest first."""
    with pytest.raises(DeadlineError) as caught:
        parse_deadline("truoc ngay 25 hang thang", issued=date(2025, 1, 1))
    message = str(caught.value)
    assert "có thể viết như: “trước ngày 25 hằng tháng”" in message
    assert message.count("“") == 3


@pytest.mark.parametrize("form", deadline_forms())
def test_every_suggested_form_reads(form: str) -> None:
    """A suggestion is never itself refused (DeadlineError would fail the test)."""
    parse_deadline(form, issued=date(2025, 1, 1))


def test_unknown_tet_year_names_the_holiday_table() -> None:
    """A Tết missing from holidays.yaml says so."""
    with pytest.raises(DeadlineError, match="holidays.yaml"):
        parse_deadline("trước Tết Nguyên đán 2031", issued=date(2025, 1, 1))


def test_one_time_date_is_listed_even_before_issued() -> None:
    """A one-time form prints its date even when it lies before `issued`."""
    deadline = parse_deadline("trước ngày 20/9/2023", issued=date(2024, 1, 1))
    assert deadline.dates(date(2024, 12, 31)) == [date(2023, 9, 19)]
    assert not deadline.recurring


def test_recurring_dates_default_to_the_end_of_next_year() -> None:
    """Without `until`, recurring dates run to 31/12 of the year after `issued`."""
    deadline = parse_deadline("Quý IV hằng năm", issued=date(2025, 3, 1))
    assert deadline.recurring
    assert deadline.dates() == [date(2025, 12, 31), date(2026, 12, 31)]


def test_dates_are_computed_for_any_horizon() -> None:
    """The rules, not a fixed list, produce the dates."""
    deadline = parse_deadline("hằng năm", issued=date(2025, 1, 1))
    assert len(deadline.dates(date(2034, 12, 31))) == 10


def test_deadline_keeps_the_original_text_and_issue_date() -> None:
    """The parsed deadline quotes what the plan said."""
    deadline = parse_deadline("  Thời gian: Quý II/2025. ", issued=date(2025, 1, 1))
    assert (deadline.kind, deadline.text, deadline.issued) == (
        "dated",
        "  Thời gian: Quý II/2025. ",
        date(2025, 1, 1),
    )


def test_non_dated_kinds_have_no_dates() -> None:
    """Ongoing, on-request and undated deadlines list nothing."""
    for text in ("thường xuyên", "theo yêu cầu", "sau khi có hướng dẫn"):
        deadline = parse_deadline(text, issued=date(2025, 1, 1))
        assert deadline.dates(date(2030, 12, 31)) == []
        assert not deadline.recurring


def test_dated_part_wins_over_ongoing_part() -> None:
    """A union of a dated and an ongoing part is dated."""
    deadline = parse_deadline("Thường xuyên và trước 30/9/2025", issued=date(2025, 1, 1))
    assert deadline.kind == "dated"
    assert deadline.dates() == [date(2025, 9, 29)]


WORDS = (
    "trước|ngày|tháng|quý|năm|hằng|hàng|mỗi|và|;|,|-|/|12/2024|20/9/2023|32/13|29/2|0|7|13|99|2026"
    "|9999|i|iv|khai giảng|năm học|học kỳ|hè|tết nguyên đán|ất tỵ|kể từ|trong|10 ngày làm việc"
    "|giai đoạn|đến|từ|thứ|sáu|cuối|đầu|giữa|theo|yêu cầu|thường xuyên|tuần|17h00|lần|một|đầu năm"
    "|tiếp theo|các"
).split("|")


def parse_or_refuse(text: str) -> None:
    """Parse and list dates; only DeadlineError may escape."""
    try:
        deadline = parse_deadline(text, issued=date(2025, 1, 1))
    except DeadlineError:
        return
    deadline.dates(date(2027, 12, 31))


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_random_text_raises_nothing_but_deadline_error(text: str) -> None:
    """Arbitrary text either reads or raises DeadlineError."""
    parse_or_refuse(text)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(WORDS), max_size=8).map(" ".join))
def test_grammar_word_soup_raises_nothing_but_deadline_error(text: str) -> None:
    """Shuffled grammar words reach deeper rules; still only DeadlineError may escape."""
    parse_or_refuse(text)

"""Indicators: plan file specs, targets, Vietnamese values, totals, subtotals and headlines."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plans.errors import InputFileError
from plans.indicator_specs import parse_indicator_specs
from plans.indicator_totals import combine, headline, meets, meets_unit, subtotals
from plans.indicator_values import format_value, parse_value, parse_value_line
from plans.indicators import (
    Combine,
    IndicatorError,
    IndicatorKind,
    IndicatorSpec,
    Op,
    Scope,
    Value,
    ValueRefused,
    parse_target,
    read_number,
    write_number,
)
from plans.source import read_yaml

K = IndicatorKind
ROOMS = IndicatorSpec(
    "phong",
    "Phòng học kiên cố",
    K.RATIO,
    Combine.RATE,
    "phòng",
    target=parse_target("100%"),
    target_unit=parse_target("100%", scope=Scope.UNIT),
)
BUDGET = IndicatorSpec("ns", "Ngân sách chi cho giáo dục", K.NUMBER, Combine.SUM, "triệu đồng")
SHARE = IndicatorSpec("tl", "Tỷ lệ chi", K.PERCENT, Combine.AVERAGE, "%", parse_target("≥ 20%"))
DONE = IndicatorSpec(
    "ht", "Đã quán triệt", K.YESNO, Combine.COUNT_YES, target_unit=parse_target("có")
)
NOTE = IndicatorSpec("gc", "Ghi chú", K.TEXT, Combine.NONE)
LESSONS = IndicatorSpec(
    "stem", "Bài học STEM", K.NUMBER, Combine.MIN, "bài", target_unit=parse_target("ít nhất 02")
)


def ratio(part: int, whole: int) -> Value:
    """A ratio value."""
    return Value(K.RATIO, number=Decimal(part), whole=Decimal(whole))


def number(value: str, kind: IndicatorKind = K.NUMBER) -> Value:
    """A number or percent value."""
    return Value(kind, number=Decimal(value))


# --- targets -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "op", "value", "percent"),
    [
        ("100%", Op.GE, "100", True),
        ("≥ 20%", Op.GE, "20", True),
        (">= 2", Op.GE, "2", False),
        ("tối thiểu 20%", Op.GE, "20", True),
        ("toi thieu 20 %", Op.GE, "20", True),
        ("ít nhất 2", Op.GE, "2", False),
        ("ít nhất 02 bài", Op.GE, "2", False),
        ("không quá 5", Op.LE, "5", False),
        ("tối đa 5", Op.LE, "5", False),
        ("đạt 100%", Op.GE, "100", True),
        ("= 0", Op.EQ, "0", False),
        ("< 1,5", Op.LT, "1.5", False),
        ("trên 1.000", Op.GT, "1000", False),
        (3, Op.GE, "3", False),
    ],
)
def test_targets_are_read_as_plans_write_them(
    text: str | int, op: Op, value: str, percent: bool
) -> None:
    target = parse_target(text, unit="bài")
    assert (target.op, target.value, target.percent) == (op, Decimal(value), percent)


@pytest.mark.parametrize("text", ["", "nhiều", "≥", "ít nhất 2 lần mỗi tuần", "150%", "≥ -2"])
def test_unreadable_targets_are_refused(text: str) -> None:
    with pytest.raises(IndicatorError) as caught:
        parse_target(text, unit="bài")
    assert caught.value.message


# --- specs in a plan file ---------------------------------------------------------------------

PLAN = """\
tasks:
  - id: "1"
    indicators:
      - code: phong
        name: Phòng học kiên cố
        unit: phòng
        kind: ratio
        target: 100%
      - code: ns
        name: Ngân sách chi cho giáo dục
        unit: triệu đồng
        kind: number
      - code: tl
        name: Tỷ lệ chi
        kind: percent
        target: tối thiểu 20%
      - code: ht
        name: Đã quán triệt
        kind: yesno
        target_unit: có
      - code: gc
        name: Ghi chú
        kind: text
"""


def specs_of(tmp_path: Path, text: str) -> tuple[IndicatorSpec, ...]:
    """Validate the first task's indicators as the plan loader does, with file lines."""
    path = tmp_path / "plan.yaml"
    path.write_text(text, encoding="utf-8")
    doc = read_yaml(path)
    ptr = ("tasks", 0, "indicators")
    raw = doc.data["tasks"][0]["indicators"]
    return parse_indicator_specs(raw, lambda p, m: doc.problem((*ptr, *p), m))


def test_specs_are_read_with_defaults_per_kind(tmp_path: Path) -> None:
    specs = specs_of(tmp_path, PLAN)
    assert [(s.code, s.kind, s.combine) for s in specs] == [
        ("phong", K.RATIO, Combine.RATE),
        ("ns", K.NUMBER, Combine.SUM),
        ("tl", K.PERCENT, Combine.AVERAGE),
        ("ht", K.YESNO, Combine.COUNT_YES),
        ("gc", K.TEXT, Combine.NONE),
    ]
    assert specs[2].unit == "%" and specs[2].target and specs[2].target.value == 20
    assert specs[3].target_unit and specs[3].target_unit.scope == Scope.UNIT


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "fragment"),
    [
        ("code: ns", "code: ngân_sách", 9, "tasks.indicators.code", "không dấu"),
        ("code: ns", "code: PHONG", 9, "tasks.indicators.code", "trùng"),
        ("kind: number", "kind: money", 12, "tasks.indicators.kind", "number, percent"),
        ("        kind: number\n", "", 9, "tasks.indicators.kind", "thiếu trường bắt buộc 'kind'"),
        (
            "name: Tỷ lệ chi",
            "name: Tỷ lệ chi\n        unit: điểm",
            15,
            "tasks.indicators.unit",
            "là %",
        ),
        (
            "kind: number",
            "kind: number\n        combine: count_yes",
            13,
            "tasks.indicators.combine",
            "sum, average, min",
        ),
        ("target: 100%", "target: 45", 8, "tasks.indicators.target", "tỷ lệ %"),
        ("target: tối thiểu 20%", "target: 120%", 16, "tasks.indicators.target", "quá 100%"),
        ("target_unit: có", "target_unit: 100%", 20, "tasks.indicators.target_unit", "«có»"),
        ("target: 100%", "target: nhiều", 8, "tasks.indicators.target", "không đọc được"),
        ("kind: text", "kind: text\n        target: 2", 24, "tasks.indicators.target", "văn bản"),
        ("name: Ghi chú", "name: ''", 22, "tasks.indicators.name", "thiếu"),
        ("unit: phòng", "unit: phòng\n        goal: 3", 7, "tasks.indicators.goal", "không biết"),
    ],
)
def test_spec_errors_name_file_line_and_field(
    tmp_path: Path, old: str, new: str, line: int, field: str, fragment: str
) -> None:
    with pytest.raises(InputFileError) as caught:
        specs_of(tmp_path, PLAN.replace(old, new, 1))
    [problem] = caught.value.problems
    assert (problem.file.endswith("plan.yaml"), problem.line, problem.field) == (True, line, field)
    assert fragment in problem.message


def test_every_bad_indicator_is_reported_at_once(tmp_path: Path) -> None:
    text = PLAN.replace("kind: number", "kind: money").replace("target: 100%", "target: 45")
    with pytest.raises(InputFileError) as caught:
        specs_of(tmp_path, text)
    assert [p.line for p in caught.value.problems] == [8, 12]


def test_indicators_must_be_a_list_of_mappings(tmp_path: Path) -> None:
    with pytest.raises(InputFileError) as caught:
        specs_of(tmp_path, "tasks:\n  - id: '1'\n    indicators: phong\n")
    [problem] = caught.value.problems
    assert (problem.line, problem.field) == (3, "tasks.indicators")
    with pytest.raises(InputFileError) as caught:
        specs_of(tmp_path, "tasks:\n  - id: '1'\n    indicators:\n      - phong\n")
    assert "ánh xạ" in caught.value.problems[0].message
    assert specs_of(tmp_path, "tasks:\n  - id: '1'\n    indicators:\n") == ()


# --- values --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "text", "expected"),
    [
        (BUDGET, "1.234,5", number("1234.5")),
        (BUDGET, "1.234.567", number("1234567")),
        (BUDGET, "1.234", number("1234")),  # a dot groups thousands
        (BUDGET, "1234.5", number("1234.5")),  # a dot that cannot group thousands
        (BUDGET, "0.25", number("0.25")),
        (BUDGET, "12,5", number("12.5")),
        (BUDGET, "45 triệu đồng", number("45")),
        (BUDGET, "45 trieu dong", number("45")),
        (BUDGET, "0", number("0")),
        (LESSONS, "02 bài", number("2")),
        (SHARE, "80%", number("80", K.PERCENT)),
        (SHARE, "80 %", number("80", K.PERCENT)),
        (SHARE, "80,5", number("80.5", K.PERCENT)),
        (SHARE, "100%", number("100", K.PERCENT)),
        (IndicatorSpec("d", "Điểm", K.NUMBER, Combine.AVERAGE, "%"), "180 %", number("180")),
        (ROOMS, "45/50", ratio(45, 50)),
        (ROOMS, "45 / 50", ratio(45, 50)),
        (ROOMS, "45/50 phòng", ratio(45, 50)),
        (ROOMS, "45/50 (90%)", ratio(45, 50)),
        (ROOMS, "2/3 (67%)", ratio(2, 3)),
        (ROOMS, "1.200/1.500", ratio(1200, 1500)),
        (DONE, "có", Value(K.YESNO, number=Decimal(1))),
        (DONE, "Co", Value(K.YESNO, number=Decimal(1))),
        (DONE, "rồi", Value(K.YESNO, number=Decimal(1))),
        (DONE, "đạt", Value(K.YESNO, number=Decimal(1))),
        (DONE, "x", Value(K.YESNO, number=Decimal(1))),
        (DONE, "không", Value(K.YESNO, number=Decimal(0))),
        (DONE, "khong", Value(K.YESNO, number=Decimal(0))),
        (DONE, "chưa", Value(K.YESNO, number=Decimal(0))),
        (DONE, "không đạt", Value(K.YESNO, number=Decimal(0))),
        (NOTE, "  Đã sửa  xong 3 phòng ", Value(K.TEXT, text="Đã sửa xong 3 phòng")),
    ],
)
def test_values_are_read_as_vietnamese_writes_them(
    spec: IndicatorSpec, text: str, expected: Value
) -> None:
    assert parse_value(spec, text) == expected


@pytest.mark.parametrize(
    ("spec", "text", "fragment"),
    [
        (SHARE, "120%", "không được quá 100%"),
        (ROOMS, "55/50", "55 lớn hơn tổng 50"),
        (ROOMS, "0/0", "tổng phải lớn hơn 0"),
        (ROOMS, "45", "45/50"),
        (ROOMS, "45/50 (80%)", "là 90%, không phải 80%"),
        (BUDGET, "-3", "không được âm"),
        (ROOMS, "-1/5", "không được âm"),
        (BUDGET, "khoảng năm chục", "không phải là số"),
        (BUDGET, "80%", "không ghi %"),
        (BUDGET, "1,234.5", "kiểu Việt Nam"),
        (BUDGET, "1.23.4", "kiểu Việt Nam"),
        (BUDGET, "1" * 25, "không phải là số"),
        (DONE, "có lẽ", "có/không"),
        (BUDGET, "   ", "chưa ghi"),
        (NOTE, "", "chưa ghi"),
        (NOTE, "x" * 501, "dài quá"),
    ],
)
def test_bad_values_are_refused_with_a_clear_message(
    spec: IndicatorSpec, text: str, fragment: str
) -> None:
    with pytest.raises(ValueRefused) as caught:
        parse_value(spec, text)
    assert fragment in caught.value.message


SPECS = (ROOMS, DONE, BUDGET)


def test_a_coded_line_gives_several_values() -> None:
    assert parse_value_line(SPECS, "phong=45/50 ht=co") == {
        "phong": ratio(45, 50),
        "ht": Value(K.YESNO, number=Decimal(1)),
    }
    assert parse_value_line(SPECS, "PHONG = 45 / 50; ns=1.234,5 triệu đồng")["ns"] == number(
        "1234.5"
    )


def test_a_positional_line_gives_every_value_in_order() -> None:
    values = parse_value_line(SPECS, "45/50; có; 1.234,5")
    assert values == {
        "phong": ratio(45, 50),
        "ht": Value(K.YESNO, number=Decimal(1)),
        "ns": number("1234.5"),
    }
    assert parse_value_line((BUDGET,), "1.234,5") == {"ns": number("1234.5")}


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("phong=55/50 ht=maybe", ["Phòng học kiên cố: 55 lớn hơn", "Đã quán triệt: «maybe»"]),
        ("phong=45/50 ht=co ns=-1", ["Ngân sách chi cho giáo dục: số không được âm"]),
        ("45/50; có", ["cần 3 giá trị", "nhận được 2"]),
        ("phong=45/50 xy=1", ["không có chỉ tiêu mã «xy»", "phong, ht, ns"]),
        ("phong=45/50 phong=46/50", ["ghi hai lần"]),
        ("xin chào phong=45/50", ["«xin chào» không thuộc chỉ tiêu nào"]),
    ],
)
def test_a_bad_line_records_nothing(text: str, fragments: list[str]) -> None:
    with pytest.raises(ValueRefused) as caught:
        parse_value_line(SPECS, text)
    for fragment in fragments:
        assert fragment in caught.value.message


@pytest.mark.parametrize(
    ("spec", "value", "shown"),
    [
        (BUDGET, number("1234.5"), "1.234,5 triệu đồng"),
        (BUDGET, number("1234567.25"), "1.234.567,25 triệu đồng"),
        (BUDGET, number("0.5"), "0,5 triệu đồng"),
        (BUDGET, number("1000.00"), "1.000 triệu đồng"),
        (SHARE, number("80", K.PERCENT), "80%"),
        (ROOMS, ratio(45, 50), "45/50 (90%)"),
        (ROOMS, ratio(412, 450), "412/450 (91,6%)"),
        (DONE, Value(K.YESNO, number=Decimal(1)), "có"),
        (DONE, Value(K.YESNO, number=Decimal(0)), "không"),
        (NOTE, Value(K.TEXT, text="Đã sửa"), "Đã sửa"),
    ],
)
def test_values_are_told_back_in_vietnamese_notation(
    spec: IndicatorSpec, value: Value, shown: str
) -> None:
    assert format_value(spec, value) == shown


FIGURES = st.decimals(min_value=0, max_value=10**15, places=4, allow_nan=False)


@given(FIGURES)
def test_numbers_survive_being_told_back(figure: Decimal) -> None:
    value = Value(K.NUMBER, number=figure)
    assert parse_value(BUDGET, format_value(BUDGET, value)) == value
    assert read_number(write_number(figure)) == figure


@given(st.decimals(min_value=0, max_value=100, places=3, allow_nan=False))
def test_percents_survive_being_told_back(figure: Decimal) -> None:
    value = Value(K.PERCENT, number=figure)
    assert parse_value(SHARE, format_value(SHARE, value)) == value


@given(st.integers(1, 10**9).flatmap(lambda w: st.tuples(st.integers(0, w), st.just(w))))
def test_ratios_survive_being_told_back(pair: tuple[int, int]) -> None:
    value = ratio(*pair)
    assert parse_value(ROOMS, format_value(ROOMS, value)) == value


# --- totals --------------------------------------------------------------------------------


def test_weighted_rate_ignores_units_that_have_not_reported() -> None:
    total = combine(ROOMS, [ratio(45, 50), None, ratio(367, 400), None])
    assert total.value == ratio(412, 450)
    assert (total.reported, total.missing, total.met) == (2, 2, False)
    assert total.meeting == 0
    assert combine(ROOMS, [ratio(50, 50), ratio(10, 10)]).met is True


def test_sum_average_min_and_count_yes() -> None:
    assert combine(BUDGET, [number("1.5"), number("2"), None]).value == number("3.5")
    average = combine(SHARE, [number("20", K.PERCENT), number("25", K.PERCENT)])
    assert average.value == number("22.5", K.PERCENT) and average.met is True
    lessons = combine(LESSONS, [number("3"), number("1"), number("2")])
    assert lessons.value == number("1") and lessons.meeting == 2
    yes, no = Value(K.YESNO, number=Decimal(1)), Value(K.YESNO, number=Decimal(0))
    done = combine(DONE, [yes, yes, no, None])
    assert done.value == ratio(2, 3) and done.meeting == 2 and done.missing == 1


def test_average_of_ratios_is_a_percent() -> None:
    spec = IndicatorSpec("p", "Tỷ lệ", K.RATIO, Combine.AVERAGE, target=parse_target("≥ 80%"))
    total = combine(spec, [ratio(1, 2), ratio(10, 10)])
    assert total.value == number("75", K.PERCENT) and total.met is False


def test_nothing_reported_gives_no_total() -> None:
    total = combine(ROOMS, [None, None])
    assert (total.value, total.reported, total.missing, total.met) == (None, 0, 2, None)
    assert combine(NOTE, [Value(K.TEXT, text="a")]).value is None


@pytest.mark.parametrize(
    ("target", "value", "expected"),
    [
        ("100%", ratio(50, 50), True),
        ("100%", ratio(49, 50), False),
        ("≥ 20%", number("20", K.PERCENT), True),
        ("> 20%", number("20", K.PERCENT), False),
        ("không quá 5", number("5"), True),
        ("không quá 5", number("5.01"), False),
        ("< 5", number("4.9"), True),
        ("= 2", number("2"), True),
        ("có", Value(K.YESNO, number=Decimal(1)), True),
        ("có", Value(K.YESNO, number=Decimal(0)), False),
        ("≥ 80%", ratio(4, 5), True),
        ("≥ 3", ratio(3, 5), True),
    ],
)
def test_meets_compares_a_value_with_a_target(target: str, value: Value, expected: bool) -> None:
    assert meets(parse_target(target), value) is expected


def test_per_unit_target() -> None:
    assert meets_unit(ROOMS, ratio(50, 50)) is True
    assert meets_unit(ROOMS, ratio(45, 50)) is False
    assert meets_unit(ROOMS, None) is False
    assert meets_unit(BUDGET, number("5")) is None


def test_headline() -> None:
    total = combine(ROOMS, [ratio(45, 50), ratio(367, 400)])
    assert headline(ROOMS, total) == "Phòng học kiên cố: 412/450 (91,6%) — mục tiêu 100%"
    missing = combine(BUDGET, [number("1234.56"), None])
    assert headline(BUDGET, missing) == (
        "Ngân sách chi cho giáo dục: 1.234,6 triệu đồng (1 đơn vị chưa báo cáo)"
    )
    assert headline(SHARE, combine(SHARE, [None])) == (
        "Tỷ lệ chi: chưa có số liệu — mục tiêu ≥ 20% (1 đơn vị chưa báo cáo)"
    )


# --- subtotals -----------------------------------------------------------------------------

TREE = {
    "HUYEN": None,
    "XA_A": "HUYEN",
    "XA_B": "HUYEN",
    "TH_A1": "XA_A",
    "TH_A2": "XA_A",
    "TH_B1": "XA_B",
}


def test_subtotals_per_group_where_the_tree_has_levels() -> None:
    values = {"TH_A1": ratio(45, 50), "TH_A2": None, "TH_B1": ratio(30, 40)}
    totals = subtotals(ROOMS, values, TREE)
    assert list(totals) == ["XA_A", "XA_B"]  # HUYEN holds everything: it is the grand total
    assert totals["XA_A"].value == ratio(45, 50) and totals["XA_A"].missing == 1
    assert totals["XA_B"].value == ratio(30, 40)


def test_a_group_that_reports_itself_counts_in_its_subtotal() -> None:
    values = {"XA_A": number("1"), "TH_A1": number("2"), "TH_B1": number("4")}
    totals = subtotals(BUDGET, values, TREE)
    assert totals["XA_A"].value == number("3")
    assert "XA_B" in totals and "HUYEN" not in totals


def test_a_flat_list_has_no_subtotals_and_a_loop_ends() -> None:
    assert subtotals(BUDGET, {"TH_A1": number("1"), "TH_A2": number("2")}, TREE) == {}
    looped = {"A": "B", "B": "A", "C": None}
    totals = subtotals(BUDGET, {"A": number("1"), "C": number("2")}, looped)
    assert totals["B"].value == number("1")

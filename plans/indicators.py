"""Indicators of a plan task: kinds, targets, values, Vietnamese numbers and words.

A task may ask each unit for figures ("phòng học kiên cố 45/50", "ngân sách 1.234,5 triệu
đồng", "đã quán triệt: có"). This module defines what an indicator is, with the Vietnamese text
of all indicator modules; `plans/indicator_specs.py` validates a plan file's `indicators:` list,
`plans/indicator_values.py` reads and writes the values a contact sends,
`plans/indicator_totals.py` combines them across units. All are pure logic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from plans.characters import without_marks
from plans.errors import DondocError

# Every Vietnamese word the indicators say, in one place (`{}` fields are filled by callers).
TEXTS: dict[str, str] = {
    "empty": "chưa ghi giá trị",
    "not_number": "«{text}» không phải là số (ví dụ: 45 hoặc 1.234,5)",
    "foreign_number": "«{text}»: viết số theo kiểu Việt Nam, ví dụ 1.234,5",
    "negative": "số không được âm: {text}",
    "percent_over": "tỷ lệ phần trăm không được quá 100%: {text}",
    "percent_sign": "chỉ tiêu này ghi số, không ghi %: {text}",
    "not_ratio": "«{text}» không phải dạng số trên tổng (ví dụ: 45/50)",
    "part_over": "{part} lớn hơn tổng {whole}: {text}",
    "zero_whole": "tổng phải lớn hơn 0: {text}",
    "ratio_check": "{text}: {part}/{whole} là {percent}%, không phải {written}%",
    "not_yes_no": "«{text}» không phải có/không (ghi: có, không, rồi, chưa, đạt, không đạt)",
    "text_long": "nội dung dài quá {limit} ký tự",
    "line_count": "cần {expected} giá trị cách nhau bởi dấu ;, nhận được {found}",
    "line_unknown_code": "không có chỉ tiêu mã «{code}» (các mã: {codes})",
    "line_repeated_code": "chỉ tiêu «{code}» ghi hai lần",
    "line_stray": "«{text}» không thuộc chỉ tiêu nào (ghi: mã=giá trị)",
    "item": "{name}: {message}",
    "yes": "có",
    "no": "không",
    "not_list": "'indicators' phải là danh sách các chỉ tiêu",
    "item_not_mapping": "mỗi chỉ tiêu phải là một ánh xạ",
    "unknown_key": "trường không biết: {key}",
    "bad_code": "mã chỉ tiêu phải là chữ cái và số không dấu, tối đa {limit} ký tự: {code!r}",
    "repeated_code": "mã chỉ tiêu trùng: {code}",
    "missing": "thiếu trường bắt buộc '{key}'",
    "percent_unit": "chỉ tiêu dạng percent có đơn vị là %, không phải '{unit}'",
    "bad_choice": "'{key}' phải là một trong: {choices}",
    "bad_combine": "chỉ tiêu dạng {kind} không cộng gộp theo '{combine}' (được: {choices})",
    "bad_target": "không đọc được mục tiêu «{text}» (ví dụ: 100%, ≥ 20%, tối thiểu 2, không quá 5)",
    "target_trailing": "mục tiêu chỉ ghi số và đơn vị '{unit}': «{text}»",
    "target_percent_over": "mục tiêu phần trăm không được quá 100%: «{text}»",
    "target_none": "chỉ tiêu dạng văn bản không có mục tiêu",
    "target_no_percent": "chỉ tiêu dạng số không có mục tiêu %: «{text}»",
    "target_need_percent": "mục tiêu của chỉ tiêu này phải là tỷ lệ %: «{text}»",
    "target_need_yes": "mục tiêu của chỉ tiêu có/không phải là «có»: «{text}»",
    "target_count_yes": "tổng đếm số đơn vị trả lời «có»: mục tiêu là số đơn vị hoặc %: «{text}»",
    "target_yes_number": "mục tiêu «có» chỉ dùng cho chỉ tiêu có/không: «{text}»",
    "headline_none": "chưa có số liệu",
    "headline_target": " — mục tiêu {target}",
    "headline_missing": " ({count} đơn vị chưa báo cáo)",
}

CODE_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
# Digits a figure may have: far above any count or budget, and below the 28 significant digits
# Decimal keeps, so every figure read is stored exactly.
MAX_DIGITS = 20


class IndicatorError(DondocError):
    """An indicator value or target that cannot be read; the message says why, in Vietnamese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValueRefused(IndicatorError):
    """A value a contact sent that was refused; nothing is recorded."""


class IndicatorKind(StrEnum):
    """What a unit reports for an indicator."""

    NUMBER = "number"
    PERCENT = "percent"
    RATIO = "ratio"  # a count out of a total, "45/50"
    YESNO = "yesno"
    TEXT = "text"


class Combine(StrEnum):
    """How the units' values make the total."""

    SUM = "sum"
    AVERAGE = "average"
    RATE = "rate"  # weighted rate: Σ part / Σ total
    MIN = "min"
    COUNT_YES = "count_yes"
    NONE = "none"


class Op(StrEnum):
    """The comparison a target asks for."""

    GE = "≥"
    LE = "≤"
    EQ = "="
    GT = ">"
    LT = "<"


class Scope(StrEnum):
    """Whether a target applies to the total or to every unit."""

    TOTAL = "total"
    UNIT = "unit"


@dataclass(frozen=True)
class Target:
    """A target such as "≥ 20%": compared with the total or with each unit's value."""

    op: Op
    value: Decimal
    percent: bool
    scope: Scope = Scope.TOTAL
    yes: bool = False  # the target "có" of a yes/no indicator (op =, value 1)
    text: str = ""  # as the plan writes it, for headlines


@dataclass(frozen=True)
class IndicatorSpec:
    """One validated indicator of a task."""

    code: str
    name: str
    kind: IndicatorKind
    combine: Combine
    unit: str = ""
    target: Target | None = None
    target_unit: Target | None = None


@dataclass(frozen=True)
class Value:
    """One unit's value: a number, a percent (0–100), a part of a whole, yes (1)/no (0), or text."""

    kind: IndicatorKind
    number: Decimal | None = None
    whole: Decimal | None = None
    text: str | None = None

    @property
    def percent(self) -> Decimal | None:
        """The share a ratio stands for, in percent."""
        if self.number is None or not self.whole:
            return None
        return self.number * 100 / self.whole


def say(key: str, /, **fields: Any) -> str:
    """A Vietnamese text of the table above."""
    return TEXTS[key].format(**fields)


def fold(text: str) -> str:
    """Lower case without diacritics (đ → d) and single spaces, for matching words."""
    return " ".join(without_marks(text).lower().split())


# Dots group thousands, a comma marks decimals ("1.234.567,5"); a lone dot that cannot be a
# thousands group ("1234.5", "0.25", "12.50") can only be a decimal point.
_VI_GROUPED = re.compile(r"[1-9]\d{0,2}(?:\.\d{3})+(?:,\d+)?")
_VI_PLAIN = re.compile(r"\d+(?:,\d+)?")
_DOT_DECIMAL = re.compile(r"\d+\.\d+")
NUMBER_PATTERN = r"[-+−]?\s*\d[\d.,]*"


def read_number(text: str) -> Decimal:
    """A number written the Vietnamese way; a sign is kept; IndicatorError if unreadable."""
    body = text.strip().replace("−", "-")
    sign = -1 if body.startswith("-") else 1
    body = body.lstrip("+-").strip()
    if sum(c.isdigit() for c in body) > MAX_DIGITS:
        raise IndicatorError(say("not_number", text=text.strip()))
    if _VI_GROUPED.fullmatch(body):
        number = Decimal(body.replace(".", "").replace(",", "."))
    elif _VI_PLAIN.fullmatch(body):
        number = Decimal(body.replace(",", "."))
    elif _DOT_DECIMAL.fullmatch(body):
        number = Decimal(body)
    elif re.fullmatch(r"\d[\d.,]*", body):
        raise IndicatorError(say("foreign_number", text=text.strip()))
    else:
        raise IndicatorError(say("not_number", text=text.strip()))
    return number * sign


def write_number(number: Decimal, places: int | None = None) -> str:
    """A number in Vietnamese notation ("1.234,5"), rounded half up to `places` if given."""
    if places is not None:
        number = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    plain = format(number.normalize() if number else Decimal(0), "f")
    sign, plain = ("-", plain[1:]) if plain.startswith("-") else ("", plain)
    whole, _, fraction = plain.partition(".")
    groups: list[str] = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return sign + ".".join(groups) + ("," + fraction if fraction else "")


# Target words, folded, longest first so "không quá" wins over a bare "không".
_TARGET_WORDS: tuple[tuple[str, Op], ...] = (
    ("khong vuot qua", Op.LE),
    ("khong thap hon", Op.GE),
    ("khong it hon", Op.GE),
    ("khong duoi", Op.GE),
    ("khong qua", Op.LE),
    ("toi thieu", Op.GE),
    ("it nhat", Op.GE),
    ("toi da", Op.LE),
    ("nhieu nhat", Op.LE),
    ("tren", Op.GT),
    ("duoi", Op.LT),
    ("bang", Op.EQ),
    ("dat", Op.GE),
    ("tu", Op.GE),
)
_TARGET_SIGNS: tuple[tuple[str, Op], ...] = (
    (">=", Op.GE),
    ("<=", Op.LE),
    ("≥", Op.GE),
    ("≤", Op.LE),
    ("=", Op.EQ),
    (">", Op.GT),
    ("<", Op.LT),
)
_TARGET_RE = re.compile(rf"(?P<number>(?:{NUMBER_PATTERN})?)\s*(?P<percent>%?)\s*(?P<rest>.*)")
YES_TARGETS = frozenset({"co", "dat", "hoan thanh"})


def parse_target(raw: Any, *, scope: Scope = Scope.TOTAL, unit: str = "") -> Target:
    """A target as plans write it: "100%", "≥ 20%", "tối thiểu 2", "không quá 5", "có"."""
    if isinstance(raw, int | float | Decimal) and not isinstance(raw, bool):
        raw = str(raw)
    if not isinstance(raw, str) or not raw.strip():
        raise IndicatorError(say("bad_target", text=raw))
    text = " ".join(raw.split())
    folded = fold(text)
    if folded in YES_TARGETS:
        return Target(Op.EQ, Decimal(1), False, scope, yes=True, text=text)
    op, rest = _target_op(folded)
    match = _TARGET_RE.fullmatch(rest)
    if not match or not match["number"]:
        raise IndicatorError(say("bad_target", text=text))
    if match["rest"] and match["rest"] != fold(unit):
        raise IndicatorError(say("target_trailing", unit=unit, text=text))
    number = read_number(match["number"])
    if number < 0:
        raise IndicatorError(say("negative", text=text))
    percent = bool(match["percent"]) or unit == "%"
    if percent and number > 100:
        raise IndicatorError(say("target_percent_over", text=text))
    return Target(op, number, percent, scope, text=text)


def _target_op(folded: str) -> tuple[Op, str]:
    """The comparison a target starts with (≥ when none) and the rest of the text."""
    for sign, op in _TARGET_SIGNS:
        if folded.startswith(sign):
            return op, folded[len(sign) :].strip()
    for word, op in _TARGET_WORDS:
        if folded.startswith(word + " "):
            return op, folded[len(word) :].strip()
    return Op.GE, folded

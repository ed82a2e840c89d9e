"""Deadline expressions: Vietnamese due phrases read into due-date rules.

Reading goes in four steps. plans/deadline_text.py rewrites the text into one spelling (an aside
in parentheses is tried kept, then dropped). The text is cut into parts at ";" and, where every
piece reads, at " và " or ", ". Each part is a status form (ongoing, on request, undated), a
relative form ("trong 15 ngày kể từ ...", "3 ngày làm việc sau khi kết thúc tháng"), or a schedule:
optional recurrence ("hằng năm"), bounds ("từ năm 2024", "giai đoạn 2021-2025", "trong năm 2027"),
mode words ("trước", "chậm nhất", ...) and one anchor (a date, month, quarter, year, school
milestone, weekday or Tết). The parts of one "A và B" lend each other what only one of them wrote
("trước ngày 10/7 và 10/1 hằng năm": both strict, both yearly). Each schedule then becomes rules
(plans/deadline_rules.py) that list dates lazily, so `Deadline.dates` works for any horizon. A text
that does not read is tried once more without a trailing remark ("..., gửi về Văn phòng").

What repeats without "hằng": an anchor that leaves out its month, quarter or week ("ngày 10 tháng
đầu quý", "cuối tháng", "thứ Hai") repeats at that period, and a school-year milestone written
without its year ("trước khai giảng") every school year; a day or month without its year
("trước 30/9", "cuối năm") is the first one on or after `issued`.
"""

from __future__ import annotations

import functools
import re
from calendar import monthrange
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Literal, cast

from plans.calendar import Calendar, default_calendar
from plans.deadline_rules import CountUnit, Listed, Monthly, Once, Rule, Shifted, Weekly, shift
from plans.deadline_text import LONE_RECURRENCE, hint, spellings
from plans.errors import DeadlineError

DeadlineKind = Literal["dated", "ongoing", "on_request", "undated"]

_DAY = timedelta(days=1)
# Years a plan can plausibly name; keeps date arithmetic far from datetime's limits.
_YEARS = range(1900, 2201)


@dataclass(frozen=True)
class Deadline:
    """A parsed `due` expression: its kind and the rules that produce its due dates."""

    kind: DeadlineKind
    text: str  # original text
    issued: date
    recurring: bool  # True when the form repeats (yearly/quarterly/monthly/weekly/window)
    rules: tuple[Rule, ...] = field(default=(), repr=False)

    def dates(self, until: date | None = None) -> list[date]:
        """Due dates, sorted, unique. Recurring/window forms: those from issued to until inclusive
        (default until = 31/12 of the year after issued). One-time forms: their date(s) even if
        before issued. Non-dated kinds: []."""
        high = until or date(self.issued.year + 1, 12, 31)
        return sorted({day for rule in self.rules for day in rule.dates(self.issued, high)})


# Anchors: the point or stretch of time a schedule refers to.


@dataclass(frozen=True)
class _Span:
    """A stretch of the year as (month, day) ends, day None for month end."""

    first: tuple[int, int | None]
    last: tuple[int, int | None]
    year: int | None = None  # the year of `last`, when written
    lead: int = 0  # how many years `first` lies before `last`


@dataclass(frozen=True)
class _InMonth:
    """A day (None: month end) of every month (step 1) or of one month of every quarter (step 3,
    `phase` 1-3 the month within the quarter)."""

    day: int | None
    step: int
    phase: int = 1


@dataclass(frozen=True)
class _Weekday:
    """A day of the week, Monday 0."""

    weekday: int


@dataclass(frozen=True)
class _Milestones:
    """School-year milestones (month, day) from school_year.yaml, of every school year."""

    points: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class _Tet:
    """The Tết Nguyên đán break of a year, written by number or by its can-chi name."""

    year: int | None
    can_chi: tuple[str, str] | None


_Anchor = _Span | _InMonth | _Weekday | _Milestones | _Tet | None
_Step = int | Literal["week", "day"]  # months between recurring dates, or weekly/daily


@dataclass(frozen=True)
class _Context:
    """What reading needs besides the text."""

    issued: date
    calendar: Calendar


def _year(value: str) -> int:
    """A written year, refused when no plan could mean it."""
    year = int(value)
    if year not in _YEARS:
        raise DeadlineError(value)
    return year


def _month(value: str) -> int:
    """A written month number 1-12."""
    month = int(value)
    if not 1 <= month <= 12:
        raise DeadlineError(value)
    return month


def _day(value: str, month: int | None = None) -> int:
    """A written day of the month, checked against the month when known (29/2 allowed)."""
    day = int(value)
    if not 1 <= day <= (monthrange(2000, month)[1] if month else 31):
        raise DeadlineError(value)
    return day


def _school(g: dict[str, str | None], ctx: _Context) -> _Anchor:
    """Khai giảng, đầu/cuối năm học, học kỳ, hè: milestones from school_year.yaml, of every
    school year unless a year is written (or "năm học mới": the next one)."""
    what = g["what"] or ""
    key = "khai giảng" if what.startswith("khai") else "hè" if what.endswith("hè") else what
    names = _SCHOOL_ANCHORS.get((g["pre"] or "", key))
    if names is None:
        raise DeadlineError(what)
    points = tuple(ctx.calendar.school_anchor(name) for name in names)
    year = _year(g["y"]) if g["y"] else None
    if g["y1"] and g["y2"]:
        first, second = _year(g["y1"]), _year(g["y2"])
        if second != first + 1:
            raise DeadlineError(f"{first}-{second}")
        # A school year starts in September: earlier milestones fall in its second year.
        year = first if points[0][0] >= 9 else second
    if year is None and not g["new"]:
        return _Milestones(points)
    if len(points) > 1:
        raise DeadlineError(what)  # "học kỳ năm học 2025-2026": say which semester
    return _Span(points[0], points[0], year)


_ENDS = ("", "kết thúc", "cuối", "hết")
_SCHOOL_ANCHORS: dict[tuple[str, str], tuple[str, ...]] = {
    ("", "khai giảng"): ("khai_giang",),
    ("đầu", "năm học"): ("dau_nam_hoc",),
    ("sơ kết", "năm học"): ("ket_thuc_hoc_ky_1",),
    **{(pre, "học kỳ 1"): ("ket_thuc_hoc_ky_1",) for pre in (*_ENDS, "sơ kết", "tổng kết")},
    **{
        (pre, what): ("cuoi_nam_hoc",)
        for pre in (*_ENDS, "tổng kết")
        for what in ("năm học", "học kỳ 2")
    },
    **{
        (pre, "học kỳ"): ("ket_thuc_hoc_ky_1", "cuoi_nam_hoc")
        for pre in (*_ENDS, "sơ kết", "tổng kết")
    },
    **{(pre, "hè"): ("dip_he",) for pre in ("", "cuối", "hết")},
}

_CAN = ("giáp", "ất", "bính", "đinh", "mậu", "kỷ", "canh", "tân", "nhâm", "quý")
_CHI = ("tý", "sửu", "dần", "mão", "thìn", "tỵ", "ngọ", "mùi", "thân", "dậu", "tuất", "hợi")
_CAN_CHI_SPELLINGS = {"kỉ": "kỷ", "tí": "tý", "mẹo": "mão", "tị": "tỵ"}


def _can_chi(year: int) -> tuple[str, str]:
    """The can-chi name of a lunar year, e.g. 2025 → (ất, tỵ)."""
    return _CAN[(year - 4) % 10], _CHI[(year - 4) % 12]


def _tet(g: dict[str, str | None], ctx: _Context) -> _Anchor:
    """Tết Nguyên đán of a year; a can-chi name must agree with the year written beside it."""
    year = _year(g["y"]) if g["y"] else None
    can_chi = None
    if g["can"] and g["chi"]:
        can_chi = (
            _CAN_CHI_SPELLINGS.get(g["can"], g["can"]),
            _CAN_CHI_SPELLINGS.get(g["chi"], g["chi"]),
        )
        if year is not None and _can_chi(year) != can_chi:
            raise DeadlineError(f"{g['can']} {g['chi']} {year}")
    return _Tet(year, can_chi)


_WEEKDAYS = {"hai": 0, "ba": 1, "tư": 2, "năm": 3, "sáu": 4, "bảy": 5, "chủ nhật": 6, "cn": 6}


def _weekday(g: dict[str, str | None], ctx: _Context) -> _Anchor:
    """Thứ Hai … Chủ nhật, also written thứ 2 … thứ 7."""
    name = g["wd"] or g["sun"] or ""
    return _Weekday(int(name) - 2 if name.isdigit() else _WEEKDAYS[name])


def _day_month(g: dict[str, str | None], ctx: _Context) -> _Anchor:
    """A day/month, with or without a year."""
    month = _month(g["m"] or "")
    day = _day(g["d"] or "", month)
    return _Span((month, day), (month, day), _year(g["y"]) if g["y"] else None)


def _day_only(g: dict[str, str | None], ctx: _Context) -> _Anchor:
    """A day of every month ("ngày 5", "ngày 5 của tháng sau")."""
    return _InMonth(_day(g["d"] or ""), 1)


# The last word of "tháng đầu/đầu tiên/thứ hai/giữa/cuối cùng/..." → the month within the quarter.
_PHASES = {
    **dict.fromkeys(("đầu", "tiên", "nhất", "1"), 1),
    **dict.fromkeys(("hai", "2", "giữa"), 2),
    **dict.fromkeys(("ba", "3", "cuối", "cùng"), 3),
}


def _in_quarter(g: dict[str, str | None], ctx: _Context) -> _Anchor:
    """A day (or the end) of the first, second or last month of every quarter."""
    day = _day(g["d"]) if g["d"] else None
    return _InMonth(day, 3, _PHASES[(g["nth"] or "").split()[-1]])


def _quarter_end(g: dict[str, str | None], ctx: _Context) -> _Anchor:
    """The end of every quarter ("cuối quý")."""
    return _InMonth(None, 3, 3)


_POSITIONS = {"đầu": 10, "giữa": 20, "cuối": None}


def _month_position(g: dict[str, str | None], ctx: _Context) -> _Anchor:
    """Đầu / giữa / cuối tháng: the 10th, 20th or last day (of every month when none is named)."""
    day = _POSITIONS[g["pos"] or ""]
    if not g["m"]:
        return _InMonth(day, 1)
    month = _month(g["m"])
    return _Span((month, day), (month, day), _year(g["y"]) if g["y"] else None)


def _range(first: int, last: int, first_year: str | None, year: str | None) -> _Span:
    """Months `first`..`last` (first day to month end), the years written either end or both."""
    start = _year(first_year) if first_year else None
    end = _year(year) if year else None
    if end is None and start is not None:
        end = start + (first > last)
    lead = end - start if end is not None and start is not None else int(first > last)
    if lead < 0 or (lead == 0 and first > last):
        raise DeadlineError(f"{first}-{last}")
    return _Span((first, 1), (last, None), end, lead)


def _months(g: dict[str, str | None], ctx: _Context) -> _Anchor:
    """Months ("tháng 12/2024", "12/2024", "tháng 9-10/2025") to the end of the last one."""
    last = _month(g["m"] or "")
    first = _month(m0) if (m0 := g.get("m0")) else last
    return _range(first, last, g.get("y0"), g["y"])


def _quarters(g: dict[str, str | None], ctx: _Context) -> _Anchor:
    """Quarters ("quý 1/2025", "quý 3-4/2024") to the end of the last one."""
    last = int(g["q"] or "")
    if g["pos"]:
        return _Span((last * 3, None), (last * 3, None), _year(g["y"]) if g["y"] else None)
    first = int(g["q0"]) if g["q0"] else last
    return _range(first * 3 - 2, last * 3, g["y0"], g["y"])


def _part_of_year(g: dict[str, str | None], ctx: _Context) -> _Anchor:
    """The first or last months of a year: "6 tháng đầu năm" ends 30/6, "6 tháng cuối năm" 31/12."""
    months = _month(g["n"] or "")
    if g["side"] == "đầu":
        return _range(1, months, None, g["y"])
    return _range(13 - months, 12, None, g["y"])


_RELATIVE_YEARS = {"nay": 0, "sau": 1, "tới": 1}


def _whole_year(g: dict[str, str | None], ctx: _Context) -> _Anchor:
    """A whole year ("năm 2025", "2025", "cả năm", "năm nay"), or its last day ("cuối năm")."""
    written = g.get("y") or ""
    year: int | None = None
    if written in _RELATIVE_YEARS:
        year = ctx.issued.year + _RELATIVE_YEARS[written]
    elif written:
        year = _year(written)
    if (g.get("pos") or "").strip() == "cuối":
        return _Span((12, 31), (12, 31), year)
    return _Span((1, 1), (12, None), year)


_SCHOOL_YEAR = r"(?: (?:năm học )?(?P<y1>[0-9]{4})-(?P<y2>[0-9]{4})| năm (?P<y>[0-9]{4}))?"
_YEAR = r"(?P<y>[0-9]{4})"
_NEXT = r"(?: (?:sau|tiếp theo|kế tiếp|liền kề|liền sau))?"

# Tried in order; each must match the whole anchor text left after recurrence, bounds and mode.
_ANCHORS: tuple[
    tuple[re.Pattern[str], Callable[[dict[str, str | None], _Context], _Anchor]], ...
] = tuple(
    (re.compile(pattern), handler)
    for pattern, handler in (
        (
            r"(?:(?:ngày|lễ) )?(?:(?P<pre>kết thúc|cuối|sơ kết|tổng kết|hết|đầu) )?"
            r"(?P<what>khai giảng|học kỳ(?: [12])?|năm học|(?:kỳ )?(?:nghỉ )?hè)"
            r"(?: năm học)?(?P<new> mới)?" + _SCHOOL_YEAR,
            _school,
        ),
        (
            r"(?:(?:dịp|kỳ nghỉ) )?tết(?: nguyên đán| âm lịch| cổ truyền)?"
            rf"(?: (?P<can>{'|'.join(_CAN)}|kỉ) (?P<chi>{'|'.join(_CHI)}|tí|mẹo|tị))?"
            r"(?: năm)?(?: (?P<y>[0-9]{4}))?",
            _tet,
        ),
        (r"(?:ngày )?(?:thứ (?P<wd>hai|ba|tư|năm|sáu|bảy|[2-7])|(?P<sun>chủ nhật|cn))", _weekday),
        (r"(?:ngày )?(?P<d>[0-9]{1,2})/(?P<m>[0-9]{1,2})(?:/(?P<y>[0-9]{4}))?", _day_month),
        (
            r"(?:ngày (?P<d>[0-9]{1,2}) )?(?:của )?tháng (?P<nth>đầu(?: tiên)?|thứ nhất|thứ [1-3]"
            r"|thứ hai|thứ ba|giữa|cuối(?: cùng)?) (?:của )?(?:mỗi |các )?quý" + _NEXT,
            _in_quarter,
        ),
        (r"ngày (?P<d>[0-9]{1,2})(?: (?:của )?(?:mỗi |các )?tháng" + _NEXT + ")?", _day_only),
        (r"cuối quý", _quarter_end),
        (
            r"(?:ngày )?(?P<pos>đầu|giữa|cuối) tháng(?: (?P<m>[0-9]{1,2})(?:/" + _YEAR + r")?)?",
            _month_position,
        ),
        (
            r"tháng (?:(?P<m0>[0-9]{1,2})(?:/(?P<y0>[0-9]{4}))?-)?(?P<m>[0-9]{1,2})(?:/"
            + _YEAR
            + r")?",
            _months,
        ),
        (r"(?P<m>[0-9]{1,2})/" + _YEAR, _months),
        (
            r"(?P<pos>cuối )?quý (?:(?P<q0>[1-4])(?:/(?P<y0>[0-9]{4}))?-)?(?P<q>[1-4])(?:/"
            + _YEAR
            + r")?",
            _quarters,
        ),
        (r"(?P<n>[0-9]{1,2}) tháng (?P<side>đầu|cuối) năm(?: " + _YEAR + r")?", _part_of_year),
        (r"(?P<pos>cuối |cả |toàn )?năm (?P<y>[0-9]{4}|nay|sau|tới)", _whole_year),
        (_YEAR, _whole_year),
        (r"(?P<pos>cuối|cả|toàn) năm", _whole_year),
    )
)


def _find_anchor(text: str, ctx: _Context) -> tuple[bool, _Anchor]:
    """(True, anchor) for the first anchor form matching all of `text`, else (False, None)."""
    if not text:
        return True, None
    for pattern, handler in _ANCHORS:
        match = pattern.fullmatch(text)
        if match:
            return True, handler(match.groupdict(), ctx)
    return False, None


def _span_days(anchor: _Anchor) -> tuple[date, date]:
    """First and last day of a span with its year ("năm 2027", "quý 3/2026")."""
    if not isinstance(anchor, _Span) or anchor.year is None:
        raise DeadlineError("")
    (first_month, first_day), (last_month, last_day) = anchor.first, anchor.last
    first = date(anchor.year - anchor.lead, first_month, first_day or 1)
    return first, date(anchor.year, last_month, last_day or monthrange(anchor.year, last_month)[1])


def _recurs(anchor: _Anchor) -> bool:
    """Whether an anchor repeats by itself: it leaves out its month, quarter or week, or names a
    school-year milestone without the year."""
    return isinstance(anchor, _InMonth | _Weekday | _Milestones)


def _has_year(anchor: _Anchor) -> bool:
    """Whether the anchor names its year."""
    return isinstance(anchor, _Span | _Tet) and anchor.year is not None


# Schedules: recurrence, bounds and mode words around an anchor.

_RECURRENCE = re.compile(
    r"(?:\bđịnh kỳ )?(?:\b(?:hằng|mỗi) (?P<unit>năm|quý|tháng|tuần|ngày)\b(?! học)"
    r"|(?:\b(?:hằng|mỗi) )?\b(?P<n>[0-9]{1,2}) tháng(?: (?:một|1) lần|/(?:1 )?lần)"
    r"|\b(?:hằng|mỗi|định kỳ) (?P<every>[0-9]{1,2}) tháng\b)"
)
_UNIT_STEPS: dict[str, _Step] = {"năm": 12, "quý": 3, "tháng": 1, "tuần": "week", "ngày": "day"}

_WINDOW = re.compile(r"\bgiai đoạn (?:năm )?(?P<y1>[0-9]{4})-(?P<y2>[0-9]{4})")
_UNTIL = re.compile(
    r"(?:\btừ nay )?\b(?:đến|tới)(?: hết| cuối)? (?P<anchor>(?:năm )?[0-9]{4}"
    r"|(?:tháng [0-9]{1,2}|quý [1-4])/[0-9]{4})(?![0-9/])"
)
_SINCE = re.compile(
    r"(?:\bbắt đầu )?\btừ (?P<anchor>(?:năm |tháng [0-9]{1,2}/|quý [1-4]/|ngày [0-9]{1,2}/"
    r"[0-9]{1,2}/)?[0-9]{4})(?: trở đi| trở về sau)?"
)
# "trong năm 2027" after an anchor that repeats more often than the span it names.
_WITHIN = re.compile(r"(?:trong|của|suốt|cho|thuộc) ")
_MODE_WORD = re.compile(
    r"(trước|chậm nhất(?: là)?|muộn nhất(?: là)?|hạn chót|hạn|không quá|không muộn hơn|đến hết"
    r"|đến|tới|hết|vào|trong|dịp|định kỳ):?(?: |$)"
)
# A part starting with one of these names its own point ("cuối năm học"), so a neighbour's
# "trước" does not reach it.
_POSITION_WORDS = ("đầu ", "giữa ", "cuối ", "kết thúc ", "tổng kết ", "sơ kết ", "hết ")


@dataclass(frozen=True)
class _Bounds:
    """The days a recurring schedule is limited to, and whether they alone imply "every year"."""

    first: date | None = None
    last: date | None = None
    recurring: bool = False

    @property
    def given(self) -> bool:
        """Whether the text set any bound."""
        return self.first is not None or self.last is not None

    def within(self, first: date, last: date) -> _Bounds:
        """These bounds narrowed to first..last."""
        return replace(
            self, first=max(first, self.first or first), last=min(last, self.last or last)
        )


@dataclass(frozen=True)
class _Schedule:
    """A schedule as read, before it becomes rules: the parts of one union may lend each other
    their recurrence, "trước" or year."""

    anchor: _Anchor
    step: _Step | None = None
    bounds: _Bounds = _Bounds()
    before: bool = False
    explicit: bool = False  # its own mode or position word: a neighbour's "trước" stays out


def _tidy(text: str) -> str:
    """Text with the spaces and commas left by a removed phrase cleaned up."""
    return " ".join(text.split()).strip(" ,:")


def _cut(text: str, match: re.Match[str]) -> str:
    """The text without the match."""
    return _tidy(text[: match.start()] + " " + text[match.end() :])


def _take_recurrence(text: str) -> tuple[_Step | None, str]:
    """The recurrence ("hằng quý", "6 tháng một lần", ...) and the text without it."""
    found = list(_RECURRENCE.finditer(text))
    if not found:
        return None, text
    if len(found) > 1:
        raise DeadlineError(text)
    match = found[0]
    step: _Step
    if match["unit"]:
        step = _UNIT_STEPS[match["unit"]]
    else:
        step = int(match["n"] or match["every"])
        if step == 0 or 12 % step:
            raise DeadlineError(match[0])
    return step, _cut(text, match)


def _take_bounds(text: str, step: _Step | None, ctx: _Context) -> tuple[_Bounds, str]:
    """The window ("giai đoạn 2021-2025") or since/until days, and the text without them."""
    window = _WINDOW.search(text)
    if window:
        first, last = _year(window["y1"]), _year(window["y2"])
        if last < first:
            raise DeadlineError(window[0])
        return _Bounds(date(first, 1, 1), date(last, 12, 31), recurring=True), _cut(text, window)
    bounds = _Bounds()
    since = _SINCE.search(text)
    if since:
        start = _span_days(_find_anchor(since["anchor"], ctx)[1])[0]
        # "từ năm 2024" alone means every year from 2024; "từ tháng 3/2026" needs a recurrence.
        recurring = not since["anchor"].startswith(("tháng", "quý", "ngày"))
        bounds = _Bounds(first=start, recurring=recurring)
        text = _cut(text, since)
    until = _UNTIL.search(text)
    # "đến năm 2030" alone means every year to 2030; "đến tháng 6/2027" alone is a deadline.
    yearly = until is not None and not until["anchor"].startswith(("tháng", "quý"))
    if until and (yearly or step is not None or _cut(text, until)):
        end = _span_days(_find_anchor(until["anchor"], ctx)[1])[1]
        bounds = replace(bounds, last=end, recurring=bounds.recurring or yearly)
        text = _cut(text, until)
    return bounds, text


def _take_mode(text: str) -> tuple[bool, bool, str]:
    """Whether the leading mode words include "trước", whether there are any, and the rest."""
    before = moded = False
    while match := _MODE_WORD.match(text):
        before = before or match[1] == "trước"
        moded = True
        text = text[match.end() :]
    return before, moded, text


def _natural_step(anchor: _Anchor) -> _Step:
    """How often an anchor repeats when the text implies it does: weekdays weekly, days of a
    month monthly (of a quarter quarterly), everything else yearly."""
    if isinstance(anchor, _Weekday):
        return "week"
    if isinstance(anchor, _InMonth):
        return anchor.step
    return 12


def _finer(step: _Step | None, span: _Anchor) -> bool:
    """Whether a recurrence repeats within a span that names its year ("hằng tháng" in a year)."""
    if step is None or not isinstance(span, _Span) or span.year is None:
        return False
    months = span.lead * 12 + span.last[0] - span.first[0] + 1
    return (0 if isinstance(step, str) else step) < months


def _anchor_within(
    text: str, step: _Step | None, ctx: _Context
) -> tuple[_Anchor, tuple[date, date] | None]:
    """The anchor of `text`, and the span that bounds it when a finer recurrence names one:
    "ngày 10 trong năm 2027" (monthly) is the 10th of each month of 2027."""
    found, anchor = _find_anchor(text, ctx)
    if found:
        return (None, _span_days(anchor)) if _finer(step, anchor) else (anchor, None)
    for space in re.finditer(" ", text):
        within = _WITHIN.match(text, space.end())
        tail_found, span = _find_anchor(text[within.end() if within else space.end() :], ctx)
        if not tail_found or not _has_year(span):
            continue
        head_found, anchor = _find_anchor(text[: space.start()], ctx)
        if head_found and _finer(
            step or (_natural_step(anchor) if _recurs(anchor) else None), span
        ):
            return anchor, _span_days(span)
    raise DeadlineError(text)


def _read_schedule(text: str, ctx: _Context) -> _Schedule:
    """Recurrence, bounds and mode words around one anchor, as written."""
    step, text = _take_recurrence(text)
    bounds, text = _take_bounds(text, step, ctx)
    before, moded, text = _take_mode(text)
    anchor, within = _anchor_within(text, step, ctx)
    if within is not None:
        bounds = bounds.within(*within)
    return _Schedule(anchor, step, bounds, before, moded or text.startswith(_POSITION_WORDS))


def _tet_due(year: int, before: bool, ctx: _Context) -> date:
    """Before Tết: the last working day before the break; otherwise the break's last day."""
    start, end = ctx.calendar.tet_break(year)
    return ctx.calendar.previous_working_day(start - _DAY) if before else end


def _recurring(
    anchor: _Anchor, before: bool, step: _Step, bounds: _Bounds, ctx: _Context
) -> tuple[Rule, ...]:
    """The rules repeating an anchor every `step` months (or weekly), inside the bounds."""
    offset = -1 if before else 0
    first, last = bounds.first, bounds.last
    if isinstance(anchor, _Span) and anchor.year is not None:
        # "tháng 11/2025 hằng năm": every year, starting with the year written.
        first = max(first or date.min, date(anchor.year - anchor.lead, 1, 1))
    if anchor is None and not before and step == "week":
        return (Weekly(4, first, last),)  # "hằng tuần" alone: every Friday ("thứ Sáu hằng tuần")
    if anchor is None and not before and isinstance(step, int):
        return (Monthly(tuple(range(step, 13, step)), None, 0, first, last),)
    if isinstance(anchor, _Span) and step == 12:
        month, day = anchor.first if before else anchor.last
        return (Monthly((month,), day, offset, first, last),)
    if isinstance(anchor, _Milestones) and step == 12:
        return tuple(Monthly((month,), day, offset, first, last) for month, day in anchor.points)
    if isinstance(anchor, _InMonth) and isinstance(step, int) and step % anchor.step == 0:
        months = tuple(range(step - anchor.step + anchor.phase, 13, step))
        return (Monthly(months, anchor.day, offset, first, last),)
    if isinstance(anchor, _Weekday) and step == "week":
        return (Weekly((anchor.weekday + offset) % 7, first, last),)
    if isinstance(anchor, _Tet) and step == 12:
        years = sorted(ctx.calendar.tet_breaks)
        days = tuple(
            _tet_due(year, before, ctx)
            for year in years
            if anchor.can_chi in (None, _can_chi(year)) and year >= (anchor.year or 0)
        )
        return (Listed(days, first, last),)
    raise DeadlineError(str(step))


def _one_time(anchor: _Anchor, before: bool, ctx: _Context) -> date:
    """The due date of a non-recurring anchor; without a year, the first on or after `issued`."""
    if isinstance(anchor, _Span) and anchor.year is not None:
        year = anchor.year - anchor.lead if before else anchor.year
        month, day = anchor.first if before else anchor.last
        due = date(year, month, day or monthrange(year, month)[1])
        return due - _DAY if before else due
    if isinstance(anchor, _Tet) and anchor.year is not None:
        return _tet_due(anchor.year, before, ctx)
    rules = _recurring(anchor, before, _natural_step(anchor), _Bounds(), ctx)
    horizon = date(ctx.issued.year + 2, 12, 31)
    soonest = min((day for rule in rules for day in rule.dates(ctx.issued, horizon)), default=None)
    if soonest is None:  # only a Tết break can be missing: the others come from the year itself
        raise DeadlineError("", "lịch nghỉ Tết sau ngày ban hành chưa có trong holidays.yaml")
    return soonest


def _schedule_rules(schedule: _Schedule, ctx: _Context) -> tuple[Rule, ...]:
    """The rules of a schedule: recurring when it says so or its anchor repeats by itself."""
    step = schedule.step
    if step is None and (schedule.bounds.recurring or _recurs(schedule.anchor)):
        step = _natural_step(schedule.anchor)
    if step is None:
        if schedule.anchor is None or schedule.bounds.given:
            raise DeadlineError("")
        return (Once(_one_time(schedule.anchor, schedule.before, ctx)),)
    return _recurring(schedule.anchor, schedule.before, step, schedule.bounds, ctx)


# Parts: status forms, relative forms and schedules.


@dataclass(frozen=True)
class _Part:
    """One part of a deadline text; `bare` marks a lone recurrence such as "hằng năm"."""

    kind: DeadlineKind
    rules: tuple[Rule, ...] = ()
    bare: bool = False


_Piece = _Part | _Schedule  # a part as read, schedules not yet turned into rules

_STATUS_FORMS: tuple[tuple[DeadlineKind, re.Pattern[str]], ...] = (
    ("ongoing", re.compile(r"(?:thường xuyên|liên tục)(?:,? (?:và )?(?:thường xuyên|liên tục))?")),
    (
        "on_request",
        re.compile(
            r"(?:(?:theo|khi có|khi|nếu có) (?:yêu cầu|đề nghị|chỉ đạo)|đột xuất"
            r"|khi (?:phát sinh|cần thiết|cần))\b.*"
        ),
    ),
    (
        "undated",
        re.compile(
            r"(?:(?:theo|căn cứ|tùy theo|tùy thuộc|phụ thuộc(?: vào)?) (?:kế hoạch|lộ trình"
            r"|tiến độ|hướng dẫn|quy định|thông báo|lịch|văn bản|quyết định|thời gian"
            r"|chương trình)|(?:ngay )?sau khi|khi có (?:văn bản|hướng dẫn|quyết định|kế hoạch"
            r"|chủ trương|kinh phí|thông báo)"
            # the operator's word for a task the document gives no deadline
            r"|không (?:có )?thời hạn|chưa (?:có |xác định )?thời hạn)\b.*"
        ),
    ),
)
# "khi/sau khi kết thúc học kỳ I": the milestone itself; "sau khi có hướng dẫn" stays undated.
_WHEN = re.compile(r"(?:ngay )?(?:sau )?khi ")

_RELATIVE = re.compile(
    r"(?:(?P<lead>trong|tối đa|không quá|chậm nhất|sau)"
    r"(?: (?:vòng|thời hạn|thời gian|khoảng|là))? )?"
    r"(?P<n>[0-9]{1,3}) (?P<unit>ngày làm việc|ngày|tuần|tháng|năm)"
    r"(?: (?:kể từ|tính từ|từ|sau)(?P<event>(?: khi)?(?: ngày)?) (?P<ref>.+))?"
)
# What "kể từ ngày ..." may name to mean the plan itself (its signing, issue, receipt).
_PLAN_ITSELF = re.compile(
    r"(?:(?:ban hành|ký|kí|nhận|được|có hiệu lực|phát hành|kế hoạch|văn bản|công văn"
    r"|quyết định|thông báo|này)(?: |$))+"
)
_PREFIX = re.compile(
    r"(?:(?:thời gian|thời hạn|tiến độ|hạn chót|hạn)(?: (?:thực hiện|hoàn thành))?: ?"
    r"|(?:hoàn thành|thực hiện|xong|báo cáo|gửi|nộp)(?: |$))+"
)


def _relative(match: re.Match[str], ctx: _Context) -> _Part:
    """N (working) days, weeks, months or years from the plan's issue date, a written date or
    each occurrence of a recurring one ("3 ngày làm việc sau khi kết thúc tháng")."""
    ref = match["ref"]
    if not ref and not match["lead"]:
        raise DeadlineError(match[0])  # a bare "6 tháng" could as well mean a six-month report
    count, unit = int(match["n"]), cast(CountUnit, match["unit"])
    if not ref or _PLAN_ITSELF.fullmatch(ref):
        return _Part("dated", (Once(shift(ctx.issued, count, unit, ctx.calendar)),))
    try:
        bases = _schedule_rules(_read_schedule(ref, ctx), ctx)
    except DeadlineError:
        if not match["event"]:
            raise
        return _Part("undated")  # "kể từ khi/ngày ...": counted from an event outside the plan
    rules = tuple(
        Once(shift(base.day, count, unit, ctx.calendar))
        if isinstance(base, Once)
        else Shifted(base, count, unit, ctx.calendar)
        for base in bases
    )
    return _Part("dated", rules)


def _schedule_part(schedule: _Schedule, ctx: _Context) -> _Part:
    """The part a schedule stands for ("hằng ngày" is ongoing)."""
    if schedule.step == "day":
        if schedule.anchor is not None or schedule.before or schedule.bounds.given:
            raise DeadlineError("")
        return _Part("ongoing")
    bare = schedule.anchor is None and not schedule.bounds.given
    return _Part("dated", _schedule_rules(schedule, ctx), bare=bare)


def _parse_piece(text: str, ctx: _Context) -> _Piece:
    """One part: a status form, a relative form or a schedule."""
    prefix = _PREFIX.match(text)
    text = _tidy(text[prefix.end() if prefix else 0 :].strip(" ."))
    if not text:
        raise DeadlineError(text)
    when = _WHEN.match(text)
    if when:
        piece = _try_piece(text[when.end() :], ctx)
        if piece is not None:
            return piece
    for kind, pattern in _STATUS_FORMS:
        if pattern.fullmatch(text):
            return _Part(kind)
    relative = _RELATIVE.fullmatch(text)
    if relative:
        return _relative(relative, ctx)
    return _read_schedule(text, ctx)


def _try_piece(text: str, ctx: _Context) -> _Piece | None:
    """A part that reads on its own, or None."""
    try:
        piece = _parse_piece(text, ctx)
        if isinstance(piece, _Schedule):
            _schedule_part(piece, ctx)
        return piece
    except (DeadlineError, ValueError):
        return None


_JOINER = re.compile(r", | và ")
# "hằng tháng, trước ngày 5": a recurrence set off by a comma belongs to the rest.
_COMMA_RECURRENCE = re.compile(
    rf"(?P<lead>{LONE_RECURRENCE}), (?P<rest>.+)|(?P<head>.+), (?P<trail>{LONE_RECURRENCE})"
)


def _parse_union(text: str, ctx: _Context) -> list[_Part]:
    """Parts joined by " và " or ", ", cut only where every piece reads (so "theo kế hoạch của
    A và B" stays whole); the whole text is the last resort."""
    lone = _COMMA_RECURRENCE.fullmatch(text)
    if lone:
        try:
            joined = f"{lone['rest'] or lone['head']} {lone['lead'] or lone['trail']}"
            return _parse_union(joined, ctx)
        except (DeadlineError, ValueError):
            pass  # "thường xuyên, hằng quý" is two parts
    cuts = list(_JOINER.finditer(text))

    @functools.cache
    def pieces_from(start: int) -> tuple[_Piece, ...] | None:
        """The pieces of text[start:], or None when it cannot be read."""
        for cut in cuts:
            if cut.start() > start:
                head = _try_piece(text[start : cut.start()], ctx)
                tail = pieces_from(cut.end()) if head else None
                if head and tail:
                    return (head, *tail)
        whole = _try_piece(text[start:], ctx)
        return (whole,) if whole else None

    # Nothing reads: read the whole text once more to raise its own error.
    pieces = pieces_from(0) or (_parse_piece(text, ctx),)
    lent = _lend_year(_lend_before(_lend_recurrence(pieces, ctx)))
    return [piece if isinstance(piece, _Part) else _schedule_part(piece, ctx) for piece in lent]


def _lend_recurrence(pieces: Sequence[_Piece], ctx: _Context) -> list[_Piece]:
    """Give a part without a recurrence or a year the recurrence (and bounds) of the nearest part
    that has one, the next first, when it fits its anchor: "ngày 10/7 và 10/1 hằng năm"."""
    lent: list[_Piece] = []
    for index, piece in enumerate(pieces):
        if (
            isinstance(piece, _Schedule)
            and piece.step is None
            and not piece.bounds.given
            and piece.anchor is not None
            and not _has_year(piece.anchor)
        ):
            others = (*pieces[index + 1 :], *reversed(pieces[:index]))
            donor = next(
                (p for p in others if isinstance(p, _Schedule) and p.step and p.anchor), None
            )
            if donor is not None:
                taken = replace(piece, step=donor.step, bounds=donor.bounds)
                piece = taken if _try_schedule(taken, ctx) else piece
        lent.append(piece)
    return lent


def _try_schedule(schedule: _Schedule, ctx: _Context) -> bool:
    """Whether a schedule becomes rules."""
    try:
        _schedule_part(schedule, ctx)
    except (DeadlineError, ValueError):
        return False
    return True


def _lend_before(pieces: Sequence[_Piece]) -> list[_Piece]:
    """Carry "trước" to the following parts of the same shape that write neither a mode nor a
    position word: "trước ngày 10/7 và 10/1", but "trước khai giảng và cuối năm học" keeps 31/5."""
    lent: list[_Piece] = []
    shape: str | None = None  # of the part whose "trước" is carried
    for piece in pieces:
        if not isinstance(piece, _Schedule):
            shape = None
        elif piece.explicit:
            shape = _shape(piece.anchor) if piece.before else None
        elif shape is not None and shape == _shape(piece.anchor):
            piece = replace(piece, before=True)
        lent.append(piece)
    return lent


def _shape(anchor: _Anchor) -> str:
    """What kind of point an anchor is, so that "trước" reaches only its like: a day, a stretch
    of months, a day of every month, a weekday, a school milestone, Tết."""
    if isinstance(anchor, _Span):
        return "day" if anchor.first == anchor.last and anchor.first[1] else "months"
    return type(anchor).__name__


def _lend_year(pieces: Sequence[_Piece]) -> list[_Piece]:
    """Give a one-time date or month without a year the next one's year: "30/6 và 31/12/2026"."""
    lent = list(pieces)
    year: int | None = None
    for index in reversed(range(len(lent))):
        piece = lent[index]
        if not (
            isinstance(piece, _Schedule) and piece.step is None and isinstance(piece.anchor, _Span)
        ):
            year = None
            continue
        if piece.anchor.year is None and year is not None:
            lent[index] = replace(piece, anchor=replace(piece.anchor, year=year))
        year = year if piece.anchor.year is None else piece.anchor.year
    return lent


_KIND_ORDER: tuple[DeadlineKind, ...] = ("dated", "ongoing", "undated", "on_request")


def _combine(text: str, issued: date, parts: list[_Part]) -> Deadline:
    """The deadline of a union of parts."""
    rules: list[Rule] = []
    latest_once: date | None = None
    for part in parts:
        for rule in part.rules:
            if part.bare and latest_once is not None and isinstance(rule, Monthly | Weekly):
                # "Tháng 12/2024 và hằng năm": the lone recurrence starts at the dated part.
                rule = replace(rule, first=latest_once)
            rules.append(rule)
        once = [rule.day for rule in part.rules if isinstance(rule, Once)]
        if once:
            latest_once = max([*once, latest_once or date.min])
    # A dated part makes the whole deadline dated ("thường xuyên; hằng quý" has due dates); then
    # a periodic check-in beats waiting for a date, which beats waiting for a request.
    kind = next(kind for kind in _KIND_ORDER if any(part.kind == kind for part in parts))
    recurring = any(not isinstance(rule, Once) for rule in rules)
    return Deadline(kind, text, issued, recurring, tuple(rules))


# The whole text: segments, trailing remarks, and the hint an unreadable one gets.

# Where a trailing remark may start ("..., gửi về Văn phòng"), and what a remark never holds.
_REMARK = re.compile(
    r"[,.:;] |-(?=[^\W\d]) ?| (?=(?:để|gửi|nộp|về|qua|cho|tại|bằng|kèm|trình|lên)\b)"
)
_TIMELY = re.compile(
    r"[0-9]|\b(?:hằng|mỗi|định kỳ|trước|chậm nhất|hạn|ngày|tuần|tháng|quý|năm|thứ|khai giảng"
    r"|học kỳ|hè|tết|thường xuyên|liên tục|yêu cầu|phát sinh)\b"
)


def _read(text: str, ctx: _Context) -> list[_Part]:
    """The parts of every ";"-separated segment."""
    segments = [segment.strip() for segment in text.split(";")]
    if not all(segments):
        raise DeadlineError(text)
    return [part for segment in segments for part in _parse_union(segment, ctx)]


def _read_without_remark(text: str, ctx: _Context) -> list[_Part] | None:
    """The parts of the text before a trailing remark that names no time, if they read."""
    for start in _REMARK.finditer(text):
        head = text[: start.start()].strip()
        if head and not _TIMELY.search(text, start.end()):
            try:
                return _read(head, ctx)
            except (DeadlineError, ValueError):
                continue
    return None


def _read_text(normal: str, ctx: _Context) -> list[_Part]:
    """The parts of a normalised text, or of its head when the rest is a remark."""
    try:
        return _read(normal, ctx)
    except DeadlineError:
        parts = _read_without_remark(normal, ctx)
        if parts is None:
            raise
        return parts


def parse_deadline(text: str, *, issued: date, calendar: Calendar | None = None) -> Deadline:
    """Raise DeadlineError quoting the text when it cannot be read (including impossible dates
    like 32/13/2026); the error suggests the closest accepted forms."""
    ctx = _Context(issued, calendar or default_calendar())
    failure: DeadlineError | ValueError = DeadlineError(text)
    for normal in spellings(text):
        try:
            return _combine(text, issued, _read_text(normal, ctx))
        except (DeadlineError, ValueError) as exc:  # datetime refuses 31/2/2026
            failure = exc
    reason = failure.reason if isinstance(failure, DeadlineError) else None
    raise DeadlineError(text, reason or hint(normal)) from failure

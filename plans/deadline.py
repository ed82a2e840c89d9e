"""Deadline expressions (SPEC §4): Vietnamese due phrases read into due-date rules.

Reading goes in three steps. `_normalise` rewrites the text into one spelling (lower case, "hằng",
"-" dashes, arabic quarters, "d/m/yyyy" dates, "tháng a-b" ranges, "giai đoạn y1-y2" windows).
The text is then cut into parts at ";" and, where every piece reads, at " và " or ", ". Each part
is a status form (ongoing, on request, undated), a relative form ("trong 15 ngày kể từ ..."), or a
schedule: optional recurrence ("hằng năm"), bounds ("từ năm 2024", "giai đoạn 2021-2025",
"đến năm 2030"), mode words ("trước", "chậm nhất", ...) and one anchor (a date, month, quarter,
year, school milestone, weekday or Tết). A schedule becomes rules that list dates lazily, so
`Deadline.dates` works for any horizon.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from calendar import monthrange
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import MAXYEAR, date, timedelta
from typing import Literal

from plans.calendar import Calendar, default_calendar
from plans.errors import DeadlineError

DeadlineKind = Literal["dated", "ongoing", "on_request", "undated"]

_DAY = timedelta(days=1)
# Years a plan can plausibly name; keeps date arithmetic far from datetime's limits.
_YEARS = range(1900, 2201)


# Rules: what a parsed deadline keeps, so that its dates can be listed for any horizon.


@dataclass(frozen=True)
class _Once:
    """One due date, listed whatever the horizon."""

    day: date

    def dates(self, low: date, high: date) -> Iterator[date]:
        """Yield the date itself."""
        yield self.day


@dataclass(frozen=True)
class _Monthly:
    """A day of some months every year (`day` None: month end), moved by `offset` days."""

    months: tuple[int, ...]
    day: int | None
    offset: int = 0
    first: date | None = None
    last: date | None = None

    def dates(self, low: date, high: date) -> Iterator[date]:
        """Yield the due dates from low to high inclusive that fall inside the rule's bounds."""
        low, high = _clip(low, high, self.first, self.last)
        # One year past `high`: an offset of -1 moves 1 January into the year before.
        for year in range(low.year, min(high.year + 1, MAXYEAR) + 1):
            for month in self.months:
                month_end = monthrange(year, month)[1]
                due = date(year, month, min(self.day or month_end, month_end))
                due += timedelta(days=self.offset)
                if low <= due <= high:
                    yield due


@dataclass(frozen=True)
class _Weekly:
    """One weekday (Monday 0) every week."""

    weekday: int
    first: date | None = None
    last: date | None = None

    def dates(self, low: date, high: date) -> Iterator[date]:
        """Yield the weekdays from low to high inclusive that fall inside the rule's bounds."""
        low, high = _clip(low, high, self.first, self.last)
        due = low + timedelta(days=(self.weekday - low.weekday()) % 7)
        while due <= high:
            yield due
            due += timedelta(days=7)


@dataclass(frozen=True)
class _Listed:
    """Recurring dates taken from calendar data, such as the last working day before each Tết."""

    days: tuple[date, ...]
    first: date | None = None
    last: date | None = None

    def dates(self, low: date, high: date) -> Iterator[date]:
        """Yield the listed dates from low to high inclusive that fall inside the rule's bounds."""
        low, high = _clip(low, high, self.first, self.last)
        return (day for day in self.days if low <= day <= high)


_Rule = _Once | _Monthly | _Weekly | _Listed


def _clip(low: date, high: date, first: date | None, last: date | None) -> tuple[date, date]:
    """The horizon narrowed to a rule's own bounds."""
    return max(low, first or low), min(high, last or high)


@dataclass(frozen=True)
class Deadline:
    """A parsed `due` expression: its kind and the rules that produce its due dates."""

    kind: DeadlineKind
    text: str  # original text
    issued: date
    recurring: bool  # True when the form repeats (yearly/quarterly/monthly/weekly/window)
    rules: tuple[_Rule, ...] = field(default=(), repr=False)

    def dates(self, until: date | None = None) -> list[date]:
        """Due dates, sorted, unique. Recurring/window forms: those from issued to until inclusive
        (default until = 31/12 of the year after issued). One-time forms: their date(s) even if
        before issued. Non-dated kinds: []."""
        high = until or date(self.issued.year + 1, 12, 31)
        return sorted({day for rule in self.rules for day in rule.dates(self.issued, high)})


# Normalisation: one spelling for the many ways plans write the same thing.

_ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4"}
_NUMBER_WORDS = {"ba": "3", "sáu": "6", "chín": "9"}
_TIME = r"[0-9]{1,2}(?: ?(?:h|giờ)(?: ?[0-9]{1,2}(?: ?phút)?)?|:[0-9]{2})\b"


def _roman(match: re.Match[str]) -> str:
    """'quý iii-iv' → 'quý 3-4', 'quý i, ii' → 'quý 1, 2'."""
    return re.sub(r"\b(?:iv|i{1,3})\b", lambda numeral: _ROMAN[numeral[0]], match[0])


def _listed(match: re.Match[str]) -> str:
    """'quý 1, 2/2025' → 'quý 1/2025, quý 2/2025', so each reads as its own part."""
    unit, year = match[1], match[3]
    return ", ".join(f"{unit} {number}{year}" for number in re.split(r", | và ", match[2]))


def _each(match: re.Match[str]) -> str:
    """'cuối mỗi quý' → 'cuối quý hằng quý'; 'đầu mỗi năm học' → 'đầu năm học hằng năm'."""
    unit = match[2]
    return f"{match[1]} {unit} hằng {unit.split()[0]}"


_REWRITES: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"[\u2010-\u2015\u2212]", "-"),
        (r"\bhàng\b", "hằng"),
        (r"\bq[uú][ýí]\b", "quý"),
        (r"\bkì\b", "kỳ"),
        (r"\bbẩy\b", "bảy"),
        # "trước 17h00 ngày 20/9" still allows the whole of the 20th; other times are dropped.
        (rf"\btrước (?:lúc )?{_TIME},? ?(?=ngày |[0-9])", "chậm nhất "),
        (rf"(?:\b(?:vào lúc|lúc|trước|vào) )?{_TIME},?", ""),
        (r"\s*([,;:])\s*", r"\1 "),
        (r"\s*([-/])\s*", r"\1"),
        (r"\bhk ?(ii|i|[12])\b", r"học kỳ \1"),
        (r"\b(?:quý|học kỳ) (?:iv|i{1,3})\b(?:(?:-|, | và )(?:iv|i{1,3})\b)*", _roman),
        (r"(?<![0-9])([0-9]{1,2})([.-])([0-9]{1,2})\2([0-9]{4})(?![0-9])", r"\1/\3/\4"),
        (r"\bngày ([0-9]{1,2}) tháng ([0-9]{1,2}),? năm ([0-9]{4})\b", r"ngày \1/\2/\3"),
        (r"\bngày ([0-9]{1,2}) tháng ([0-9]{1,2})\b", r"ngày \1/\2"),
        (r"\b([0-9]{1,2}/[0-9]{1,2}),? năm ([0-9]{4})\b", r"\1/\2"),
        (r"\b(tháng|quý) ([0-9]{1,2}(?:-[0-9]{1,2})?),? năm ([0-9]{4})\b", r"\1 \2/\3"),
        (r"\b(tháng|quý) ((?:[0-9]{1,2}(?:, | và ))+[0-9]{1,2})(/[0-9]{4})\b", _listed),
        (r"\bnửa (đầu|cuối) năm\b", r"6 tháng \1 năm"),
        (r"\bnửa năm\b", "6 tháng"),
        (r"\b(ba|sáu|chín) tháng\b", lambda m: f"{_NUMBER_WORDS[m[1]]} tháng"),
        # Month and quarter ranges: "từ tháng 3 đến tháng 5/2025" → "tháng 3-5/2025".
        (
            r"(?:\btừ )?\b(tháng|quý) ([0-9]{1,2}(?:/[0-9]{4})?)(?: (?:đến|tới)(?: hết)? |-)"
            r"(?:\1 )?(?=[0-9])",
            r"\1 \2-",
        ),
        (r"\bnăm học ([0-9]{2})([0-9]{2})-([0-9]{2})(?![0-9])", r"năm học \1\2-\1\3"),
        # Year windows: "từ năm 2021 đến năm 2025", "2021-2025" → "giai đoạn 2021-2025".
        (r"(?:\btừ )?(?:\bnăm )?\b([0-9]{4}) (?:đến|tới)(?: hết)? (?:năm )?([0-9]{4})\b", r"\1-\2"),
        (
            r"(?:\b(?:(?:trong )?(?:giai đoạn|thời kỳ) (?:năm )?|(?:các )?năm ))?(?<!học )"
            r"\b([0-9]{4})-([0-9]{4})\b(?![/-])",
            r"giai đoạn \1-\2",
        ),
        (
            r"\b(?:từ )?năm ([0-9]{4})(?:,| và) (?:các|những) năm"
            r" (?:tiếp theo|tiếp sau|sau đó|sau)\b",
            r"hằng năm từ năm \1",
        ),
        (r"\b(đầu|giữa|cuối|kết thúc|tổng kết) (?:mỗi|hằng) (tháng|quý|năm học|năm)\b", _each),
    )
)


def _normalise(text: str) -> str:
    """Lower-case NFC text in the one spelling the grammar below is written for."""
    text = " ".join(unicodedata.normalize("NFC", text).lower().split())
    for pattern, replacement in _REWRITES:
        text = pattern.sub(replacement, text)
    return " ".join(text.split()).strip(" .,;:")


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
    """A day of every month (step 1) or of every quarter's last month (step 3)."""

    day: int | None
    step: int


@dataclass(frozen=True)
class _Weekday:
    """A day of the week, Monday 0."""

    weekday: int


@dataclass(frozen=True)
class _Tet:
    """The Tết Nguyên đán break of a year, written by number or by its can-chi name."""

    year: int | None
    can_chi: tuple[str, str] | None


_Anchor = _Span | _InMonth | _Weekday | _Tet | None
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
    """Khai giảng, đầu/cuối năm học, học kỳ, hè: a milestone from school_year.yaml."""
    what = g["what"] or ""
    key = "khai giảng" if what.startswith("khai") else "hè" if what.endswith("hè") else what
    name = _SCHOOL_ANCHORS.get((g["pre"] or "", key))
    if name is None:
        raise DeadlineError(what)
    month, day = ctx.calendar.school_anchor(name)
    year = _year(g["y"]) if g["y"] else None
    if g["y1"] and g["y2"]:
        first, second = _year(g["y1"]), _year(g["y2"])
        if second != first + 1:
            raise DeadlineError(f"{first}-{second}")
        # A school year starts in September: earlier milestones fall in its second year.
        year = first if month >= 9 else second
    return _Span((month, day), (month, day), year)


_SCHOOL_ANCHORS = {
    ("", "khai giảng"): "khai_giang",
    ("đầu", "năm học"): "dau_nam_hoc",
    **{(pre, "học kỳ 1"): "ket_thuc_hoc_ky_1" for pre in ("", "kết thúc", "cuối", "sơ kết", "hết")},
    ("sơ kết", "năm học"): "ket_thuc_hoc_ky_1",
    **{
        (pre, what): "cuoi_nam_hoc"
        for pre in ("", "kết thúc", "cuối", "tổng kết", "hết")
        for what in ("năm học", "học kỳ 2")
    },
    **{(pre, "hè"): "dip_he" for pre in ("", "cuối", "hết")},
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
    """A day of every month ("ngày 5"), or of every quarter's last month."""
    return _InMonth(_day(g["d"] or ""), 3 if g.get("quarter") else 1)


def _quarter_end(g: dict[str, str | None], ctx: _Context) -> _Anchor:
    """The end of each quarter ("cuối quý", "tháng cuối quý")."""
    return _InMonth(None, 3)


_POSITIONS = {"đầu": 10, "giữa": 20, "cuối": None}


def _month_position(g: dict[str, str | None], ctx: _Context) -> _Anchor:
    """Đầu / giữa / cuối tháng: the 10th, 20th or last day."""
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
    first = _month(g["m0"]) if g.get("m0") else last
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
    """A whole year ("năm 2025", "2025", "năm nay"), or its last day ("cuối năm 2025")."""
    written = g.get("y") or ""
    year: int | None = None
    if written in _RELATIVE_YEARS:
        year = ctx.issued.year + _RELATIVE_YEARS[written]
    elif written:
        year = _year(written)
    if g.get("pos"):
        return _Span((12, 31), (12, 31), year)
    return _Span((1, 1), (12, None), year)


_SCHOOL_YEAR = r"(?: (?:năm học )?(?P<y1>[0-9]{4})-(?P<y2>[0-9]{4})| năm (?P<y>[0-9]{4}))?"
_YEAR = r"(?P<y>[0-9]{4})"

# Tried in order; each must match the whole anchor text left after recurrence, bounds and mode.
_ANCHORS: tuple[
    tuple[re.Pattern[str], Callable[[dict[str, str | None], _Context], _Anchor]], ...
] = tuple(
    (re.compile(pattern), handler)
    for pattern, handler in (
        (
            r"(?:(?:ngày|lễ) )?(?:(?P<pre>kết thúc|cuối|sơ kết|tổng kết|hết|đầu) )?"
            r"(?P<what>khai giảng(?: năm học(?: mới)?)?|học kỳ [12]|năm học|(?:kỳ )?(?:nghỉ )?hè)"
            + _SCHOOL_YEAR,
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
        (r"ngày (?P<d>[0-9]{1,2})(?P<quarter> (?:của )?tháng cuối quý)?", _day_only),
        (r"(?:tháng )?cuối quý", _quarter_end),
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
        (r"(?P<pos>cuối )?năm (?P<y>[0-9]{4}|nay|sau|tới)", _whole_year),
        (_YEAR, _whole_year),
        (r"(?P<pos>cuối) năm", _whole_year),
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


# Schedules: recurrence, bounds and mode words around an anchor.

_RECURRENCE = re.compile(
    r"(?:\bđịnh kỳ )?(?:\b(?:hằng|mỗi) (?P<unit>năm|quý|tháng|tuần|ngày)\b(?! học)"
    r"|(?:\b(?:hằng|mỗi) )?\b(?P<n>[0-9]{1,2}) tháng(?: (?:một|1) lần|/(?:1 )?lần)"
    r"|\b(?:hằng|mỗi|định kỳ) (?P<every>[0-9]{1,2}) tháng\b)"
)
_UNIT_STEPS: dict[str, _Step] = {"năm": 12, "quý": 3, "tháng": 1, "tuần": "week", "ngày": "day"}

_WINDOW = re.compile(r"\bgiai đoạn (?:năm )?(?P<y1>[0-9]{4})-(?P<y2>[0-9]{4})")
_UNTIL = re.compile(r"(?:\btừ nay )?\b(?:đến|tới) (?:năm )?(?P<y>[0-9]{4})(?![0-9/])")
_SINCE = re.compile(
    r"(?:\bbắt đầu )?\btừ (?P<anchor>(?:năm |tháng [0-9]{1,2}/|quý [1-4]/|ngày [0-9]{1,2}/"
    r"[0-9]{1,2}/)?[0-9]{4})(?: trở đi| trở về sau)?"
)
_MODE_WORD = re.compile(
    r"(trước|chậm nhất(?: là)?|muộn nhất(?: là)?|hạn chót|hạn|không quá|không muộn hơn|đến hết"
    r"|đến|tới|hết|vào|trong|dịp|định kỳ):?(?: |$)"
)


@dataclass(frozen=True)
class _Bounds:
    """The years a recurring schedule is limited to, and whether they alone imply "every year"."""

    first: date | None = None
    last: date | None = None
    recurring: bool = False

    @property
    def given(self) -> bool:
        """Whether the text set any bound."""
        return self.first is not None or self.last is not None


def _tidy(text: str) -> str:
    """Text with the spaces and commas left by a removed phrase cleaned up."""
    return " ".join(text.split()).strip(" ,:")


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
    return step, _tidy(text[: match.start()] + " " + text[match.end() :])


def _take_bounds(text: str, ctx: _Context) -> tuple[_Bounds, str]:
    """The window ("giai đoạn 2021-2025") or since/until years, and the text without them."""
    window = _WINDOW.search(text)
    if window:
        first, last = _year(window["y1"]), _year(window["y2"])
        if last < first:
            raise DeadlineError(window[0])
        bounds = _Bounds(date(first, 1, 1), date(last, 12, 31), recurring=True)
        return bounds, _tidy(text[: window.start()] + " " + text[window.end() :])
    bounds = _Bounds()
    since = _SINCE.search(text)
    if since:
        anchor = _find_anchor(since["anchor"], ctx)[1]
        if not isinstance(anchor, _Span) or anchor.year is None:
            raise DeadlineError(since[0])
        start = date(anchor.year - anchor.lead, anchor.first[0], anchor.first[1] or 1)
        # "từ năm 2024" alone means every year from 2024; "từ tháng 3/2026" needs a recurrence.
        recurring = not since["anchor"].startswith(("tháng", "quý", "ngày"))
        bounds = _Bounds(first=start, recurring=recurring)
        text = _tidy(text[: since.start()] + " " + text[since.end() :])
    until = _UNTIL.search(text)
    if until:
        bounds = replace(bounds, last=date(_year(until["y"]), 12, 31), recurring=True)
        text = _tidy(text[: until.start()] + " " + text[until.end() :])
    return bounds, text


def _take_mode(text: str) -> tuple[bool, str]:
    """Whether the leading mode words include "trước", and the text after them."""
    before = False
    while match := _MODE_WORD.match(text):
        before = before or match[1] == "trước"
        text = text[match.end() :]
    return before, text


def _natural_step(anchor: _Anchor) -> _Step:
    """How often an anchor repeats when the text implies it does: weekdays weekly, days of a
    month monthly (quarter ends quarterly), everything else yearly."""
    if isinstance(anchor, _Weekday):
        return "week"
    if isinstance(anchor, _InMonth):
        return anchor.step
    return 12


def _tet_due(year: int, before: bool, ctx: _Context) -> date:
    """Before Tết: the last working day before the break; otherwise the break's last day."""
    start, end = ctx.calendar.tet_break(year)
    return ctx.calendar.previous_working_day(start - _DAY) if before else end


def _recurring(anchor: _Anchor, before: bool, step: _Step, bounds: _Bounds, ctx: _Context) -> _Rule:
    """The rule repeating an anchor every `step` months (or weekly), inside the bounds."""
    offset = -1 if before else 0
    first, last = bounds.first, bounds.last
    if isinstance(anchor, _Span) and anchor.year is not None:
        # "tháng 11/2025 hằng năm": every year, starting with the year written.
        first = max(first or date.min, date(anchor.year - anchor.lead, 1, 1))
    if anchor is None and not before and step == "week":
        return _Weekly(4, first, last)  # "hằng tuần" alone: every Friday (SPEC §4)
    if anchor is None and not before and isinstance(step, int):
        return _Monthly(tuple(range(step, 13, step)), None, 0, first, last)
    if isinstance(anchor, _Span) and step == 12:
        month, day = anchor.first if before else anchor.last
        return _Monthly((month,), day, offset, first, last)
    if isinstance(anchor, _InMonth) and isinstance(step, int) and step % anchor.step == 0:
        return _Monthly(tuple(range(step, 13, step)), anchor.day, offset, first, last)
    if isinstance(anchor, _Weekday) and step == "week":
        return _Weekly((anchor.weekday + offset) % 7, first, last)
    if isinstance(anchor, _Tet) and step == 12:
        years = sorted(ctx.calendar.tet_breaks)
        days = tuple(
            _tet_due(year, before, ctx)
            for year in years
            if anchor.can_chi in (None, _can_chi(year)) and year >= (anchor.year or 0)
        )
        return _Listed(days, first, last)
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
    rule = _recurring(anchor, before, _natural_step(anchor), _Bounds(), ctx)
    due = min(rule.dates(ctx.issued, date(ctx.issued.year + 2, 12, 31)), default=None)
    if due is None:  # only a Tết break can be missing: the others come from the year itself
        raise DeadlineError("", "lịch nghỉ Tết sau ngày ban hành chưa có trong holidays.yaml")
    return due


# Parts: status forms, relative forms and schedules.


@dataclass(frozen=True)
class _Part:
    """One part of a deadline text; `bare` marks a lone recurrence such as "hằng năm"."""

    kind: DeadlineKind
    rules: tuple[_Rule, ...] = ()
    bare: bool = False


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
            r"|chủ trương|kinh phí|thông báo))\b.*"
        ),
    ),
)

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
    r"|(?:hoàn thành|thực hiện|xong|báo cáo)(?: |$))+"
)


def _add_months(day: date, months: int) -> date:
    """The same day `months` later, or that month's last day when it is shorter."""
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    return date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


def _relative(match: re.Match[str], ctx: _Context) -> _Part:
    """N (working) days, weeks, months or years from the plan's issue date or a written date."""
    base = ctx.issued
    ref = match["ref"]
    if not ref and not match["lead"]:
        raise DeadlineError(match[0])  # a bare "6 tháng" could as well mean a six-month report
    if ref and not _PLAN_ITSELF.fullmatch(ref):
        before, text = _take_mode(ref)
        found, anchor = _find_anchor(text, ctx)
        if not found or anchor is None:
            if not match["event"]:
                raise DeadlineError(ref)
            return _Part("undated")  # "kể từ khi/ngày ...": counted from an event outside the plan
        base = _one_time(anchor, before, ctx)
    count, unit = int(match["n"]), match["unit"]
    if unit == "ngày làm việc":
        due = ctx.calendar.add_working_days(base, count)
    elif unit in ("ngày", "tuần"):
        due = base + timedelta(days=count * (7 if unit == "tuần" else 1))
    else:
        due = _add_months(base, count * (12 if unit == "năm" else 1))
    return _Part("dated", (_Once(due),))


def _schedule(text: str, ctx: _Context) -> _Part:
    """A recurrence, bounds and mode words around one anchor."""
    step, text = _take_recurrence(text)
    bounds, text = _take_bounds(text, ctx)
    before, text = _take_mode(text)
    found, anchor = _find_anchor(text, ctx)
    if not found:
        raise DeadlineError(text)
    if step == "day":
        if anchor is not None or before or bounds.given:
            raise DeadlineError(text)
        return _Part("ongoing")  # "hằng ngày"
    if step is None and bounds.recurring:
        step = _natural_step(anchor)
    if step is None:
        if anchor is None or bounds.given:
            raise DeadlineError(text)
        return _Part("dated", (_Once(_one_time(anchor, before, ctx)),))
    rule = _recurring(anchor, before, step, bounds, ctx)
    return _Part("dated", (rule,), bare=anchor is None and not bounds.given)


def _parse_part(text: str, ctx: _Context) -> _Part:
    """One part: a status form, a relative form or a schedule."""
    prefix = _PREFIX.match(text)
    text = _tidy(text[prefix.end() if prefix else 0 :].strip(" ."))
    if not text:
        raise DeadlineError(text)
    for kind, pattern in _STATUS_FORMS:
        if pattern.fullmatch(text):
            return _Part(kind)
    relative = _RELATIVE.fullmatch(text)
    if relative:
        return _relative(relative, ctx)
    return _schedule(text, ctx)


_JOINER = re.compile(r", | và ")


def _parse_union(text: str, ctx: _Context) -> list[_Part]:
    """Parts joined by " và " or ", ", cut only where every piece reads (so "theo kế hoạch của
    A và B" stays whole); the whole text is the last resort."""
    cuts = list(_JOINER.finditer(text))

    @functools.cache
    def parts_from(start: int) -> tuple[_Part, ...] | None:
        """The parts of text[start:], or None when it cannot be read."""
        for cut in cuts:
            if cut.start() > start:
                head = _try_part(text[start : cut.start()], ctx)
                tail = parts_from(cut.end()) if head else None
                if head and tail:
                    return (head, *tail)
        whole = _try_part(text[start:], ctx)
        return (whole,) if whole else None

    parts = parts_from(0)
    # Nothing reads: read the whole text once more to raise its own error.
    return list(parts) if parts else [_parse_part(text, ctx)]


def _try_part(text: str, ctx: _Context) -> _Part | None:
    """A part, or None when it cannot be read."""
    try:
        return _parse_part(text, ctx)
    except (DeadlineError, ValueError):
        return None


_KIND_ORDER: tuple[DeadlineKind, ...] = ("dated", "ongoing", "undated", "on_request")


def _combine(text: str, issued: date, parts: list[_Part]) -> Deadline:
    """The deadline of a union of parts."""
    rules: list[_Rule] = []
    latest_once: date | None = None
    for part in parts:
        for rule in part.rules:
            if part.bare and latest_once is not None and isinstance(rule, _Monthly | _Weekly):
                # "Tháng 12/2024 và hằng năm": the lone recurrence starts at the dated part.
                rule = replace(rule, first=latest_once)
            rules.append(rule)
        once = [rule.day for rule in part.rules if isinstance(rule, _Once)]
        if once:
            latest_once = max([*once, latest_once or date.min])
    # A dated part makes the whole deadline dated ("thường xuyên; hằng quý" has due dates); then
    # a periodic check-in beats waiting for a date, which beats waiting for a request.
    kind = next(kind for kind in _KIND_ORDER if any(part.kind == kind for part in parts))
    recurring = any(not isinstance(rule, _Once) for rule in rules)
    return Deadline(kind, text, issued, recurring, tuple(rules))


def parse_deadline(text: str, *, issued: date, calendar: Calendar | None = None) -> Deadline:
    """Raise DeadlineError quoting the text when it cannot be read (including impossible dates
    like 32/13/2026)."""
    ctx = _Context(issued, calendar or default_calendar())
    try:
        segments = [segment.strip() for segment in _normalise(text).split(";")]
        if not all(segments):
            raise DeadlineError(text)
        parts = [part for segment in segments for part in _parse_union(segment, ctx)]
    except DeadlineError as exc:
        raise DeadlineError(text, exc.reason) from exc
    except ValueError as exc:  # datetime refuses impossible dates such as 31/2/2026
        raise DeadlineError(text) from exc
    return _combine(text, issued, parts)

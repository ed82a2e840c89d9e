"""Deadline text before the grammar: one spelling for the many ways plans write the same thing,
the readings of an aside in parentheses, and the accepted forms an unreadable text is pointed to.

`plans/deadline.py` reads what `normalise` returns: lower case, "hằng", "-" dashes, arabic quarters,
"d/m/yyyy" dates, "tháng a-b" ranges, "giai đoạn y1-y2" windows, listed months and days split into
parts ("tháng 6 và 12" → "tháng 6, tháng 12"), report periods spelt out ("6 tháng và cả năm").
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable

from rapidfuzz import fuzz, process

from plans.calendar import DATA_DIR
from plans.source import read_yaml

_ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4"}
_NUMBER_WORDS = {"ba": "3", "sáu": "6", "chín": "9"}
_TIME = r"[0-9]{1,2}(?: ?(?:h|giờ)(?: ?[0-9]{1,2}(?: ?phút)?)?|:[0-9]{2})\b"
LONE_RECURRENCE = r"(?:định kỳ )?(?:hằng|mỗi) (?:năm|quý|tháng|tuần)"


def _roman(match: re.Match[str]) -> str:
    """'quý iii-iv' → 'quý 3-4', 'quý i, ii' → 'quý 1, 2'."""
    return re.sub(r"\b(?:iv|i{1,3})\b", lambda numeral: _ROMAN[numeral[0]], match[0])


def _listed(match: re.Match[str]) -> str:
    """'quý 1, 2/2025' → 'quý 1/2025, quý 2/2025', 'ngày 10 và 25' → 'ngày 10, ngày 25', so each
    reads as its own part."""
    unit, year = match[1], match[3] or ""
    if unit == "ngày" and year:
        return match[0]
    return ", ".join(f"{unit} {number}{year}" for number in re.split(r", | và ", match[2]))


def _each(match: re.Match[str]) -> str:
    """'cuối mỗi quý' → 'cuối quý hằng quý'; 'đầu mỗi năm học' → 'đầu năm học hằng năm'."""
    unit = match[2]
    return f"{match[1]} {unit} hằng {unit.split()[0]}"


# The last word of "tuần đầu/đầu tiên/thứ nhất/thứ 2/thứ ba/..." → the week's last day.
_WEEK_OF_MONTH = {
    **dict.fromkeys(("đầu", "tiên", "nhất", "1"), 7),
    **dict.fromkeys(("hai", "2"), 14),
    **dict.fromkeys(("ba", "3"), 21),
    **dict.fromkeys(("tư", "4"), 28),
}


def _week_of_month(match: re.Match[str]) -> str:
    """'tuần đầu tháng' → 'ngày 7 tháng' (the week's last day), 'tuần cuối tháng' → 'cuối tháng'."""
    if match[1].startswith("cuối"):
        return "cuối "
    return f"ngày {_WEEK_OF_MONTH[match[1].split()[-1]]} "


_PAIR_ITEM = r"(?:(?:sơ kết|báo cáo) )?[369] tháng(?: đầu năm)?"


def _report_pair(match: re.Match[str]) -> str:
    """'6 tháng và cả năm' → '6 tháng đầu năm, cả năm': the periods of the usual reports."""
    year = match["year"] or ""
    months = re.findall(r"([369]) tháng", match[0])
    return ", ".join([*(f"{count} tháng đầu năm{year}" for count in months), f"cả năm{year}"])


_REWRITES: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"[\u2010-\u2015\u2212]", "-"),
        (r"\bhàng\b", "hằng"),
        (r"\bq[uú][ýí]\b", "quý"),
        (r"\bkì\b", "kỳ"),
        (r"\bbẩy\b", "bảy"),
        # "trước 17h00 ngày 20/9" still allows the whole of the 20th; other times are dropped.
        (rf"\btrước (?:lúc )?{_TIME},? ?(?=ngày |thứ |chủ nhật|[0-9])", "chậm nhất "),
        (rf"(?:\b(?:vào lúc|lúc|trước|vào) )?{_TIME},?", ""),
        (r"\b(?:buổi )?(?:sáng|chiều|trưa|tối) (?=thứ |chủ nhật|ngày )", ""),
        (r"\s*([,;:])\s*", r"\1 "),
        (r"\s*([-/])\s*", r"\1"),
        (r"\bhk ?(ii|i|[12])\b", r"học kỳ \1"),
        (r"\b(?:quý|học kỳ) (?:iv|i{1,3})\b(?:(?:-|, | và )(?:iv|i{1,3})\b)*", _roman),
        (r"(?<![0-9])([0-9]{1,2})([.-])([0-9]{1,2})\2([0-9]{4})(?![0-9])", r"\1/\3/\4"),
        (
            r"\btuần (đầu(?: tiên)?|thứ nhất|thứ [1-4]|thứ hai|thứ ba|thứ tư|cuối(?: cùng)?)"
            r" (?:của )?(?=(?:mỗi |hằng )?tháng\b)",
            _week_of_month,
        ),
        (r"\bngày ([0-9]{1,2}) tháng ([0-9]{1,2}),? năm ([0-9]{4})\b", r"ngày \1/\2/\3"),
        (r"\bngày ([0-9]{1,2}) tháng ([0-9]{1,2})\b", r"ngày \1/\2"),
        # "... và 15 tháng 12": a day and month written after "ngày" has been left out.
        (
            r"(?:^|(?<=và )|(?<=, )|(?<=trước )|(?<=nhất ))([0-9]{1,2}) tháng ([0-9]{1,2})\b",
            r"\1/\2",
        ),
        (r"\b([0-9]{1,2}/[0-9]{1,2}),? năm ([0-9]{4})\b", r"\1/\2"),
        (r"\b(tháng|quý) ([0-9]{1,2}(?:-[0-9]{1,2})?),? năm ([0-9]{4})\b", r"\1 \2/\3"),
        (
            r"\b(tháng|quý|ngày) ((?:[0-9]{1,2}(?:, | và ))+[0-9]{1,2})(/[0-9]{4})?(?![0-9/-])"
            r"(?! (?:tháng|ngày|tuần|năm|lần)\b)",
            _listed,
        ),
        (r"\bnửa (đầu|cuối) năm\b", r"6 tháng \1 năm"),
        (r"\bnửa năm\b", "6 tháng"),
        (r"\b(ba|sáu|chín) tháng\b", lambda m: f"{_NUMBER_WORDS[m[1]]} tháng"),
        (
            rf"(?<!kỳ )(?<!hằng )(?<!mỗi )\b{_PAIR_ITEM}(?:(?:, | và ){_PAIR_ITEM})*(?:, | và )"
            r"(?:(?:tổng kết|báo cáo) )?(?:cả |toàn )?năm\b(?! học)(?P<year> [0-9]{4})?",
            _report_pair,
        ),
        # The first N (working) days of each month: N days after the month before has ended.
        (
            r"\b([0-9]{1,3} ngày(?: làm việc)?) đầu(?: tiên)?(?: của)? (?:mỗi |hằng |các )?"
            r"(tháng|quý|năm)\b(?! học)(?! ?[0-9])",
            r"\1 sau khi kết thúc \2",
        ),
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
        (
            r"\b(đầu|giữa|cuối|kết thúc|tổng kết)(?: tiên| cùng)? (?:mỗi|hằng)"
            r" (tháng|quý|năm học|năm)\b",
            _each,
        ),
        (r"\b(?:mỗi|hằng|các) năm học\b", "hằng năm"),
        (r"(?<!đến )(?<!tới )\b(?:kết thúc|hết) (tháng|quý|năm)\b(?! học)", r"cuối \1"),
    )
)


def normalise(text: str) -> str:
    """Lower-case NFC text in the one spelling the grammar below is written for."""
    text = " ".join(unicodedata.normalize("NFC", text).lower().split())
    for pattern, replacement in _REWRITES:
        text = pattern.sub(replacement, text)
    return " ".join(text.split()).strip(" .,;:")


# An aside in parentheses: read as part of the text where that reads ("hằng tháng (trước ngày
# 25)"), else dropped ("chậm nhất ngày 25/12/2026 (qua Văn phòng)").
_ASIDE = re.compile(r"\([^()]*(?:\)|$)")
_BRACKET = re.compile(r"[()]")


def spellings(text: str) -> tuple[str, ...]:
    """The normalised readings of a text to try in turn: its asides kept, then dropped."""
    readings = (_BRACKET.sub(" ", text), _ASIDE.sub(" ", text))
    return tuple(dict.fromkeys(normalise(reading) for reading in readings))


@functools.cache
def _forms() -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """The hint's wording, the example forms of plans/data/deadline_forms.yaml, normalised."""
    data = read_yaml(DATA_DIR / "deadline_forms.yaml").data
    forms = tuple(str(form) for form in data["forms"])
    return str(data["hint"]), forms, tuple(normalise(form) for form in forms)


def deadline_forms() -> tuple[str, ...]:
    """The example forms an unreadable deadline's error suggests from."""
    return _forms()[1]


def hint(normal: str) -> str:
    """The three example forms closest to an unreadable text, in a Vietnamese phrase."""
    wording, forms, keys = _forms()
    closest = process.extract(normal, keys, scorer=fuzz.WRatio, limit=3)
    return wording.format(forms=", ".join(f"“{forms[index]}”" for _, _, index in closest))

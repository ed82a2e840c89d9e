"""Indicator values as contacts write them ("1.234,5", "45/50", "80%", "có") and as we echo them."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from decimal import Decimal

from plans.characters import storable
from plans.indicators import (
    CODE_RE,
    NUMBER_PATTERN,
    IndicatorError,
    IndicatorKind,
    IndicatorSpec,
    Value,
    ValueRefused,
    fold,
    read_number,
    say,
    write_number,
)

TEXT_MAX = 500
# A ratio's percent as the contact wrote it may differ from ours by their rounding ("2/3 (67%)").
PERCENT_SLACK = Decimal(1)
YES_WORDS = frozenset({"co", "roi", "dat", "x", "da xong", "xong", "hoan thanh"})
NO_WORDS = frozenset({"khong", "chua", "khong dat", "chua dat", "chua xong"})

_PERCENT_RE = re.compile(rf"(?P<number>{NUMBER_PATTERN})\s*%?")
_RATIO_RE = re.compile(rf"(?P<part>{NUMBER_PATTERN})\s*/\s*(?P<whole>{NUMBER_PATTERN})")
_WRITTEN_PERCENT_RE = re.compile(rf"(?P<body>.*?)\s*\(\s*(?P<percent>{NUMBER_PATTERN})\s*%\s*\)")
_KEY_RE = re.compile(rf"(?:^|(?<=[\s;,]))(?P<code>{CODE_RE.pattern})\s*=\s*")


def parse_value(spec: IndicatorSpec, text: str) -> Value:
    """Read one value for `spec`; ValueRefused with a Vietnamese message when it cannot be."""
    clean = " ".join(storable(unicodedata.normalize("NFC", text)).split())
    if not clean:
        raise ValueRefused(say("empty"))
    if spec.kind == IndicatorKind.TEXT:
        if len(clean) > TEXT_MAX:
            raise ValueRefused(say("text_long", limit=TEXT_MAX))
        return Value(IndicatorKind.TEXT, text=clean)
    if spec.kind == IndicatorKind.YESNO:
        return _yes_no(clean)
    try:
        if spec.kind == IndicatorKind.RATIO:
            return _ratio(spec, clean)
        return _number(spec, clean)
    except ValueRefused:
        raise
    except IndicatorError as exc:  # a figure that is no number
        raise ValueRefused(exc.message) from None


def _yes_no(text: str) -> Value:
    """Có (1) or không (0)."""
    folded = fold(text).strip(" .!")
    if folded in YES_WORDS:
        return Value(IndicatorKind.YESNO, number=Decimal(1))
    if folded in NO_WORDS:
        return Value(IndicatorKind.YESNO, number=Decimal(0))
    raise ValueRefused(say("not_yes_no", text=text))


def _without_unit(spec: IndicatorSpec, text: str) -> str:
    """The text without the unit written after the figure ("45 phòng" → "45")."""
    unit = fold(spec.unit) if spec.unit != "%" else ""
    folded = fold(text)
    if unit and folded.endswith(unit) and len(folded) > len(unit):
        return folded[: -len(unit)].strip()
    return folded


def _number(spec: IndicatorSpec, text: str) -> Value:
    """A number or a percent (0–100), never negative."""
    body = _without_unit(spec, text)
    match = _PERCENT_RE.fullmatch(body)
    if match is None:
        raise ValueRefused(say("not_number", text=text))
    if "%" in body and spec.kind != IndicatorKind.PERCENT and spec.unit != "%":
        raise ValueRefused(say("percent_sign", text=text))
    number = _not_negative(match["number"], text)
    if spec.kind == IndicatorKind.PERCENT and number > 100:
        raise ValueRefused(say("percent_over", text=text))
    return Value(spec.kind, number=number)


def _not_negative(figure: str, text: str) -> Decimal:
    """A figure that is zero or more."""
    number = read_number(figure)
    if number < 0:
        raise ValueRefused(say("negative", text=text))
    return number


def _ratio(spec: IndicatorSpec, text: str) -> Value:
    """A part of a whole, "45/50", optionally with its percent as we echo it, "45/50 (90%)"."""
    body, written = fold(text), None
    if found := _WRITTEN_PERCENT_RE.fullmatch(body):
        body, written = found["body"], read_number(found["percent"])
    match = _RATIO_RE.fullmatch(_without_unit(spec, body))
    if match is None:
        raise ValueRefused(say("not_ratio", text=text))
    part, whole = _not_negative(match["part"], text), _not_negative(match["whole"], text)
    if whole == 0:
        raise ValueRefused(say("zero_whole", text=text))
    if part > whole:
        raise ValueRefused(say("part_over", part=match["part"], whole=match["whole"], text=text))
    value = Value(IndicatorKind.RATIO, number=part, whole=whole)
    percent = value.percent or Decimal(0)
    if written is not None and abs(written - percent) > PERCENT_SLACK:
        shown = {"percent": write_number(percent, 1), "written": write_number(written)}
        raise ValueRefused(
            say("ratio_check", text=text, part=match["part"], whole=match["whole"], **shown)
        )
    return value


def parse_value_line(specs: Sequence[IndicatorSpec], text: str) -> dict[str, Value]:
    """Several values in one line, "phong=45/50 ht=co" or "45/50; có"; all or nothing.

    Keyed values may name any subset of the indicators; positional ones (separated by ";" or
    line breaks) must give every indicator in order. The result is keyed by indicator code.
    """
    pairs = _keyed(specs, text) if _KEY_RE.search(text) else _positional(specs, text)
    values: dict[str, Value] = {}
    errors: list[str] = []
    for spec, raw in pairs:
        try:
            values[spec.code] = parse_value(spec, raw)
        except ValueRefused as exc:
            errors.append(say("item", name=spec.name, message=exc.message))
    if errors:
        raise ValueRefused("\n".join(errors))
    return values


def _keyed(specs: Sequence[IndicatorSpec], text: str) -> list[tuple[IndicatorSpec, str]]:
    """The (indicator, text) pairs of "code=value code=value"."""
    by_code = {spec.code.casefold(): spec for spec in specs}
    matches = list(_KEY_RE.finditer(text))
    if stray := text[: matches[0].start()].strip(" ;,\n"):
        raise ValueRefused(say("line_stray", text=stray))
    pairs: list[tuple[IndicatorSpec, str]] = []
    for match, after in zip(matches, [*matches[1:], None], strict=True):
        spec = by_code.get(match["code"].casefold())
        if spec is None:
            codes = ", ".join(s.code for s in specs)
            raise ValueRefused(say("line_unknown_code", code=match["code"], codes=codes))
        if any(s is spec for s, _ in pairs):
            raise ValueRefused(say("line_repeated_code", code=spec.code))
        end = after.start() if after else len(text)
        pairs.append((spec, text[match.end() : end].strip(" ;,\n")))
    return pairs


def _positional(specs: Sequence[IndicatorSpec], text: str) -> list[tuple[IndicatorSpec, str]]:
    """The (indicator, text) pairs of "value; value" in the indicators' order."""
    parts = [text] if len(specs) == 1 else re.split(r"[;\n]", text.strip(" ;\n"))
    if len(parts) != len(specs):
        raise ValueRefused(say("line_count", expected=len(specs), found=len(parts)))
    return list(zip(specs, parts, strict=True))


def format_value(spec: IndicatorSpec, value: Value, places: int | None = None) -> str:
    """A value in Vietnamese notation: "1.234,5 triệu đồng", "80%", "45/50 (90%)", "có"."""
    if value.kind == IndicatorKind.TEXT:
        return value.text or ""
    assert value.number is not None
    if value.kind == IndicatorKind.YESNO:
        return say("yes") if value.number else say("no")
    if value.kind == IndicatorKind.RATIO:
        percent = write_number(value.percent or Decimal(0), 1)
        return (
            f"{write_number(value.number)}/{write_number(value.whole or Decimal(0))} ({percent}%)"
        )
    figure = write_number(value.number, places)
    if value.kind == IndicatorKind.PERCENT or spec.unit == "%":
        return f"{figure}%"
    return f"{figure} {spec.unit}" if spec.unit else figure

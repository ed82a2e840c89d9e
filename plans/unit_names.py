"""Units and groups found by the names plans write: a code, a name or an alias.

A written name is looked up exactly as a code first, then by its folded key (case, spacing,
tone-mark placement, "&"/"-" read as "và", "hằng" as "hàng", a few administrative
abbreviations spelt out), then by that key without diacritics when only one unit has it. A name
that matches several units, or none, is refused with the candidates; the closest names are
suggestions only, never a match (fuzzy matching belongs to the draft extractor, plans/intake/).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from plans.characters import fold, without_marks

# Words plans abbreviate in unit names, spelt out so either spelling finds the unit. Both sides
# of a comparison are read the same way, so a reading that is wrong for some name ("TT" in
# "Trung tâm VH-TT") only costs a match, and two units it makes alike are reported as ambiguous.
_SPELT = {
    "ubnd": "ủy ban nhân dân",
    "hđnd": "hội đồng nhân dân",
    "mttq": "mặt trận tổ quốc",
    "tt": "thị trấn",
    "gd": "giáo dục",
    "đt": "đào tạo",
    "gdđt": "giáo dục và đào tạo",
    "hằng": "hàng",
}
_WORDS = {fold(short): fold(long) for short, long in _SPELT.items()}
_AND = re.compile(r"\s*[&\-–—]\s*")
_PUNCTUATION = re.compile(r"[,.;:()\[\]\"'“”‘’«»/]")
# A suggestion must be this close (rapidfuzz WRatio, 0-100) to be worth showing.
_SUGGEST_FROM = 60


def name_key(text: str) -> str:
    """The key a unit name is compared by."""
    spaced = _PUNCTUATION.sub(" ", _AND.sub(" và ", fold(text)))
    return " ".join(_WORDS.get(word, word) for word in spaced.split())


@dataclass(frozen=True)
class Found:
    """What a written name stands for: one code, or none with the candidates to choose from."""

    code: str | None
    candidates: tuple[str, ...] = ()
    ambiguous: bool = False


class UnitNames:
    """The codes, names and aliases of units and groups, for finding them by what plans write."""

    def __init__(self, named: Mapping[str, Iterable[str]]) -> None:
        """`named`: code → its names (the name first, then the aliases)."""
        self.labels: dict[str, str] = {}
        self._exact: dict[str, set[str]] = {}
        self._loose: dict[str, set[str]] = {}
        for code, names in named.items():
            names = [n for n in names if n and n.strip()]
            self.labels[code] = names[0].strip() if names else code
            for name in (code, *names):
                key = name_key(name)
                if key:
                    self._exact.setdefault(key, set()).add(code)
                    self._loose.setdefault(without_marks(key), set()).add(code)

    def find(self, written: str) -> Found:
        """The unit or group a written code, name or alias stands for."""
        text = written.strip()
        if text in self.labels:
            return Found(text)
        key = name_key(text)
        for codes in (self._exact.get(key), self._loose.get(without_marks(key))):
            if codes and len(codes) == 1:
                return Found(next(iter(codes)))
            if codes:
                return Found(None, tuple(sorted(codes)), ambiguous=True)
        return Found(None, self.closest(text))

    def closest(
        self,
        written: str,
        *,
        limit: int = 3,
        cutoff: float = _SUGGEST_FROM,
        scorer: Callable[..., float] = fuzz.WRatio,
    ) -> tuple[str, ...]:
        """The codes whose names come closest to a written name (rapidfuzz `scorer`), best first."""
        key = name_key(written)
        if not key:
            return ()
        matches = process.extract(key, list(self._exact), scorer=scorer, score_cutoff=cutoff)
        codes: list[str] = []
        for name, _, _ in matches:
            for code in sorted(self._exact[name]):
                if code not in codes:
                    codes.append(code)
        return tuple(codes[:limit])

    def describe(self, codes: Iterable[str]) -> str:
        """Codes with their names, for a message: "PGDDT (Phòng Giáo dục và Đào tạo), …"."""
        named = ((code, self.labels.get(code, code)) for code in codes)
        return ", ".join(code if label == code else f"{code} ({label})" for code, label in named)

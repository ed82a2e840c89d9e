"""Units named in a plan's text, resolved against the units directory.

A name is compared by its words after folding: lower case, one placement of tone marks ("uỷ" and
"ủy"), abbreviations spelt out ("GD&ĐT", "UBND", "THCS"), punctuation and "và" dropped, and with
no diacritics as a second chance. Each unit is known by its name, its aliases, and its name
without the locality plans leave out ("Huyện Đoàn Cẩm Giàng" → "Huyện Đoàn") when that is still
unique; a group by its label. What matches no name exactly is tried with rapidfuzz.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml
from rapidfuzz import fuzz, process
from sqlmodel import Session, select

from plans.units_file import UnitsFile
from storage.models import Unit, UnitGroup
from storage.queries import group_members

WORDS_FILE = Path(__file__).resolve().parents[1] / "data" / "intake_words.yaml"
# Similarity (0-100, rapidfuzz ratio on names without diacritics) above which a name no unit
# carries exactly is taken for the closest one, and flagged for the operator to confirm.
FUZZY_THRESHOLD = 88
_MAX_NAME_WORDS = 14
_MAX_UNKNOWN_WORDS = 9

_TOKEN_RE = re.compile(r"[^\W_]+(?:[&/\-][^\W_]+)*|[,;:.()\n–—\-+]|\S", re.UNICODE)
_ADMIN_WORDS = ("huyện", "tỉnh", "phố", "xã", "quận", "phường", "trấn")
# Old and new placement of the tone mark on "oa", "oe", "uy" at a word's end.
_TONE_RE = re.compile(r"(?:([oO])([àáảãạ])|([oO])([èéẻẽẹ])|(?<![qQ])([uU])([ỳýỷỹỵ]))(?![^\W\d_])")
# The tone of a marked vowel (0-4: huyền, sắc, hỏi, ngã, nặng) and the first vowel so marked.
_TONE_SWAP = {
    "à": 0, "á": 1, "ả": 2, "ã": 3, "ạ": 4, "è": 0, "é": 1, "ẻ": 2, "ẽ": 3, "ẹ": 4,
    "ỳ": 0, "ý": 1, "ỷ": 2, "ỹ": 3, "ỵ": 4,
}  # fmt: skip
_MARKED = {"o": "òóỏõọ", "u": "ùúủũụ"}
_COLLECTIVE = ("các", "những")  # "các phòng, ban, ngành liên quan": everyone concerned
_JOINERS = {"-", "–", "—", "&", "+"}
_AND_MARKS = {"-", "–", "—", "&"}  # "Văn hóa - Thông tin" is "Văn hóa và Thông tin"
_BREAKS = {";", ":", ".", "(", ")", "\n"}


@dataclass(frozen=True)
class Token:
    """A word or a punctuation mark, with where it is in the text."""

    text: str
    start: int
    end: int

    @property
    def word(self) -> bool:
        """Whether the token is a word (not punctuation)."""
        return self.text[0].isalnum()


@dataclass(frozen=True)
class Mention:
    """A unit named in the text: its code when resolved, else None (kept as written)."""

    text: str
    code: str | None
    start: int
    end: int
    fuzzy: bool = False
    vague: bool = False  # "các đơn vị liên quan": no one in particular


@dataclass(frozen=True)
class Words:
    """The vocabulary of unit names: abbreviations, opening words, words that end a name."""

    abbreviations: dict[str, tuple[str, ...]]
    unit_words: frozenset[tuple[str, ...]]
    stop_words: frozenset[tuple[str, ...]]


@cache
def words() -> Words:
    """The vocabulary from plans/data/intake_words.yaml."""
    data = yaml.safe_load(WORDS_FILE.read_text(encoding="utf-8"))
    abbreviations = {key: _joined_words(value) for key, value in data["abbreviations"].items()}
    return Words(
        abbreviations,
        frozenset(tuple(fold_words(w)) for w in data["unit_words"]),
        frozenset(tuple(fold_words(w)) for w in data["stop_words"]),
    )


def fold(word: str) -> str:
    """A word in lower case NFC with the tone mark placed one way."""
    word = unicodedata.normalize("NFC", word).lower()
    return _TONE_RE.sub(_swap_tone, word)


def _swap_tone(match: re.Match[str]) -> str:
    """'oà' → 'òa', 'uỷ' → 'ủy' (the mark on the first vowel)."""
    for first, mark, vowel in ((1, 2, "a"), (3, 4, "e"), (5, 6, "y")):
        if match[first]:
            return _MARKED[match[first].lower()][_TONE_SWAP[match[mark]]] + vowel
    return match[0]


def fold_words(text: str) -> list[str]:
    """The folded words of a text, punctuation dropped."""
    return [fold(t.text) for t in tokenize(text) if t.word]


def plain(text: str) -> str:
    """Text without diacritics (đ → d)."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def tokenize(text: str) -> list[Token]:
    """Words and punctuation marks with their offsets."""
    return [Token(m[0], m.start(), m.end()) for m in _TOKEN_RE.finditer(text)]


def canonical(tokens: Iterable[Token]) -> tuple[str, ...]:
    """The words a name is compared by: abbreviations spelt out, "-" and "&" read as "và",
    other punctuation dropped."""
    abbreviations = words().abbreviations
    out: list[str] = []
    for token in tokens:
        if token.word:
            out.extend(_spelt(token.text, abbreviations))
        elif token.text in _AND_MARKS and out and out[-1] != "và":
            out.append("và")
    return tuple(out)


def _spelt(word: str, abbreviations: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    """A word, or the words an abbreviation stands for ("LĐ-TB&XH" read part by part)."""
    if word in abbreviations:
        return abbreviations[word]
    parts = re.split(r"([&\-])", word)
    if len(parts) > 1 and all(p in abbreviations for p in parts[::2]):
        return tuple(
            w for i, p in enumerate(parts) for w in (("và",) if i % 2 else abbreviations[p])
        )
    return (fold(word),)


def _joined_words(text: str) -> tuple[str, ...]:
    """The folded words of a text with "-" and "&" read as "và" (no abbreviations)."""
    spaced = re.sub(r"([&\-–—])", r" \1 ", text)
    out: list[str] = []
    for token in tokenize(spaced):
        if token.word:
            out.append(fold(token.text))
        elif token.text in _AND_MARKS and out and out[-1] != "và":
            out.append("và")
    return tuple(out)


@dataclass(frozen=True)
class Entry:
    """A unit or a group of the directory."""

    code: str
    name: str
    names: tuple[str, ...]
    group: bool = False


@dataclass
class UnitIndex:
    """Find units in text: exact names (folded), then a fuzzy match above the threshold."""

    entries: tuple[Entry, ...]
    exact: dict[tuple[str, ...], str] = field(default_factory=dict)
    loose: dict[str, str] = field(default_factory=dict)  # without diacritics
    codes: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        names: dict[tuple[str, ...], set[str]] = {}
        variants: dict[tuple[str, ...], set[str]] = {}
        localities = _localities(e.name for e in self.entries if not e.group)
        for entry in self.entries:
            self.codes[entry.code] = entry.code
            for name in entry.names:
                names.setdefault(canonical(tokenize(name)), set()).add(entry.code)
                for variant in _variants(name, localities):
                    variants.setdefault(canonical(tokenize(variant)), set()).add(entry.code)
        for key, codes in variants.items():
            if len(codes) == 1 and key not in names and key:
                self.exact[key] = next(iter(codes))
        for key, codes in names.items():
            if len(codes) == 1 and key:
                self.exact[key] = next(iter(codes))
        for key, code in self.exact.items():
            self.loose.setdefault(_loose(key), code)
        # Fuzzy matching compares names of one kind only: "Sở …" is never "Phòng …".
        self._choices: dict[str, list[str]] = {}
        for loose in self.loose:
            self._choices.setdefault(loose.split()[0], []).append(loose)

    @classmethod
    def from_units_file(cls, units: UnitsFile) -> UnitIndex:
        """The index of a units file."""
        entries = [Entry(u.code, u.name, (u.name, *u.aliases)) for u in units.units]
        entries += [Entry(code, label, (label,), True) for code, label in units.groups.items()]
        return cls(tuple(entries))

    @classmethod
    def from_session(cls, session: Session) -> UnitIndex:
        """The index of the units and groups stored in the database."""
        entries = [
            Entry(u.code, u.name, (u.name, *u.aliases))
            for u in session.exec(select(Unit).where(Unit.active))
        ]
        labels = {g.code: g.name for g in session.exec(select(UnitGroup))}
        for code in group_members(session=session):
            label = labels.get(code, "")
            entries.append(Entry(code, label, (label,) if label else (), True))
        return cls(tuple(entries))

    def is_group(self, code: str) -> bool:
        """Whether a code is a group's."""
        return any(e.group for e in self.entries if e.code == code)

    def name_of(self, code: str) -> str:
        """The name of a unit or group code."""
        return next((e.name for e in self.entries if e.code == code), code)

    def resolve(self, text: str) -> Mention | None:
        """The unit or group a whole text names (exactly, or by fuzzy match), or None."""
        tokens = tokenize(text)
        if not tokens:
            return None
        found = self._longest(tokens, 0)
        if found and found[1] == len(tokens):
            return Mention(text.strip(), found[0], 0, len(text))
        return self._fuzzy(text.strip(), 0, len(text))

    def units_at(self, text: str, start: int = 0, *, unknown: bool = True) -> list[Mention]:
        """The list of units named from `start` on ("A, B và C"), up to the first other word."""
        tokens = [t for t in tokenize(text) if t.start >= start]
        mentions: list[Mention] = []
        i = 0
        while i < len(tokens):
            mention, i_next = self._mention(text, tokens, i, unknown)
            if mention is None:
                break
            mentions.append(mention)
            i = i_next
            if i < len(tokens) and (tokens[i].text in (",", "+") or fold(tokens[i].text) == "và"):
                if i + 1 < len(tokens) and self._mention(text, tokens, i + 1, unknown)[0]:
                    i += 1
                    continue
            break
        return mentions

    def _mention(
        self, text: str, tokens: list[Token], i: int, unknown: bool
    ) -> tuple[Mention | None, int]:
        """The unit named at token i and the index after it."""
        found = self._longest(tokens, i)
        if found:
            code, end = found
            span = text[tokens[i].start : tokens[end - 1].end]
            return Mention(span, code, tokens[i].start, tokens[end - 1].end), end
        if not unknown:
            return None, i
        end = self._unknown_end(tokens, i)
        if end == i:
            return None, i
        span = text[tokens[i].start : tokens[end - 1].end]
        folded = " ".join(canonical(tokens[i:end]))
        if "liên quan" in folded or folded.split()[0] in _COLLECTIVE:
            return Mention(span, None, tokens[i].start, tokens[end - 1].end, vague=True), end
        fuzzy = self._fuzzy(span, tokens[i].start, tokens[end - 1].end)
        return fuzzy or Mention(span, None, tokens[i].start, tokens[end - 1].end), end

    def _longest(self, tokens: list[Token], i: int) -> tuple[str, int] | None:
        """The code and end index of the longest known name starting at token i."""
        if i >= len(tokens) or not tokens[i].word:
            return None
        best: tuple[str, int] | None = None
        code = self.codes.get(tokens[i].text)
        if code and (i + 1 == len(tokens) or not tokens[i + 1].word):
            best = (code, i + 1)  # a code written as such, e.g. a table cell "PGDDT"
        key: list[str] = []
        count = 0
        for j in range(i, len(tokens)):
            token = tokens[j]
            if token.text in _BREAKS or count >= _MAX_NAME_WORDS:
                break
            if not token.word:
                if token.text in _AND_MARKS and key and key[-1] != "và":
                    key.append("và")
                continue
            count += 1
            key.extend(canonical([token]))
            hit = self.exact.get(tuple(key)) or self.loose.get(_loose(key))
            if hit:
                best = (hit, j + 1)
        return best

    def _unknown_end(self, tokens: list[Token], i: int) -> int:
        """The end of a name no directory knows: it opens with a unit word and runs to a
        punctuation mark, a verb or a known unit."""
        vocabulary = words()
        folded = [fold(t.text) for t in tokens]
        if not tokens[i].word or _phrase_at(folded, i, vocabulary.stop_words):
            return i
        if not _phrase_at(folded, i, vocabulary.unit_words) and tokens[i].text not in (
            vocabulary.abbreviations
        ):
            return i
        collective = folded[i] in _COLLECTIVE
        j = i + 1
        limit = _MAX_UNKNOWN_WORDS * (3 if collective else 1)
        while j < len(tokens) and j - i < limit:
            listed = collective and (tokens[j].text == "," or folded[j] == "và")
            if not tokens[j].word and tokens[j].text not in _JOINERS and not listed:
                break
            if collective and self._longest(tokens, j):
                break
            if not listed and (folded[j] == "và" or _stops(folded, j, vocabulary)):
                break
            j += 1
        while j > i + 1 and not tokens[j - 1].word:
            j -= 1
        for tail in (["liên", "quan"], ["có", "liên", "quan"]):
            if folded[j : j + len(tail)] == tail:
                return j + len(tail)
        return j

    def _fuzzy(self, text: str, start: int, end: int) -> Mention | None:
        """The closest known name above the threshold, flagged as fuzzy."""
        query = _loose(canonical(tokenize(text)))
        choices = self._choices.get(query.split()[0], []) if query else []
        best = process.extractOne(query, choices, scorer=fuzz.ratio, score_cutoff=FUZZY_THRESHOLD)
        if best is None:
            return None
        return Mention(text, self.loose[best[0]], start, end, fuzzy=True)


def _loose(words_: Iterable[str]) -> str:
    """A name's words without diacritics, for a second, looser comparison."""
    return plain(" ".join(words_))


def _stops(folded: list[str], j: int, vocabulary: Words) -> bool:
    """Whether word j ends a name: a verb, or a noun that no name continues with ("tổ chức" is
    one, unless "tổ chức đoàn thể / chính trị - xã hội" names organisations)."""
    if (
        folded[j] == "tổ"
        and folded[j + 1 : j + 3]
        and folded[j + 2 : j + 3] in (["đoàn"], ["chính"])
    ):
        return False
    return _phrase_at(folded, j, vocabulary.stop_words)


def _phrase_at(folded: list[str], i: int, phrases: frozenset[tuple[str, ...]]) -> bool:
    """Whether one of the phrases starts at word i."""
    return any(tuple(folded[i : i + len(p)]) == p for p in phrases)


def _localities(names: Iterable[str]) -> set[str]:
    """Place names written after "huyện", "xã", ... in unit names ("Cẩm Giàng")."""
    found = set()
    for name in names:
        words_ = name.split()
        tail = len(words_)
        while tail > 0 and words_[tail - 1][:1].isupper():
            tail -= 1
        if 0 < tail < len(words_) and words_[tail - 1] in _ADMIN_WORDS:
            found.add(" ".join(words_[tail:]))
    return found


def _variants(name: str, localities: set[str]) -> list[str]:
    """Shorter ways plans write a name: without its locality, without "Việt Nam"."""
    out = []
    stripped = name.replace(" Việt Nam", "")
    if stripped != name:
        out.append(stripped)
    for base in (name, stripped):
        for place in localities:
            if base.endswith(" " + place):
                out.append(base[: -len(place) - 1].rstrip())
    return out

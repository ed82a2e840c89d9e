"""Characters no store or report accepts: chat text loses them, input files may not hold them."""

from __future__ import annotations

import re
import unicodedata

# Control characters (except tab and newline), lone surrogates and XML non-characters: a
# PostgreSQL text column refuses NUL, DOCX and XLSX cells refuse the rest, and no person types them.
UNSTORABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def storable(text: str) -> str:
    """The text without the characters no store or report format accepts."""
    return UNSTORABLE.sub("", text)


# The five tone marks (huyền, sắc, hỏi, ngã, nặng) as combining characters after NFD.
_TONE_MARKS = frozenset("\u0300\u0301\u0309\u0303\u0323")


def fold(text: str) -> str:
    """Text for comparison: lower case, single spaces, each word's tone mark in one place.

    Vietnamese puts the tone mark of "oa", "oe", "uy" on either vowel ("hoá"/"hóa",
    "Huyện uỷ"/"Huyện ủy"); moving it to the end of the word makes both spellings one key.
    The result is a key to compare, not text to show.
    """
    words = []
    for word in unicodedata.normalize("NFD", text.casefold()).split():
        tones = "".join(c for c in word if c in _TONE_MARKS)
        base = "".join(c for c in word if c not in _TONE_MARKS)
        words.append(unicodedata.normalize("NFC", base + tones))
    return " ".join(words)


def without_marks(text: str) -> str:
    """Text without diacritics ("đ" read as "d"), for a second, looser comparison."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))

"""Characters no store or report accepts: chat text loses them, input files may not hold them."""

from __future__ import annotations

import re

# Control characters (except tab and newline), lone surrogates and XML non-characters: a
# PostgreSQL text column refuses NUL, DOCX and XLSX cells refuse the rest, and no person types them.
UNSTORABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def storable(text: str) -> str:
    """The text without the characters no store or report format accepts."""
    return UNSTORABLE.sub("", text)

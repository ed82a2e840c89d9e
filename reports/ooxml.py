"""Stream big tables into DOCX/XLSX packages that python-docx or openpyxl laid out."""

# Both libraries spend 10-20 µs per table cell and python-docx keeps the whole tree in memory;
# a 100k-row table written as text, chunk by chunk, takes seconds and constant memory.

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from itertools import islice
from pathlib import Path
from xml.sax.saxutils import escape

ROWS_PER_CHUNK = 2000
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """Text without the control characters XML 1.0 forbids (chat notes may hold them)."""
    return _NOT_XML.sub("", text)


def xml_text(text: str) -> str:
    """Text escaped for element content, without the characters XML 1.0 forbids."""
    return escape(xml_safe(text))


def element_span(xml: str, tag: str, first: int, last: int) -> tuple[int, int]:
    """Offsets of the <tag> elements that enclose the text from `first` to `last`."""
    start = max(xml.rfind(f"<{tag}>", 0, first), xml.rfind(f"<{tag} ", 0, first))
    end = xml.index(f"</{tag}>", last) + len(tag) + 3
    return start, end


def chunks(rows: Iterable[str]) -> Iterator[str]:
    """Rows of XML joined in chunks, so writes are few and memory stays flat."""
    iterator = iter(rows)
    while chunk := list(islice(iterator, ROWS_PER_CHUNK)):
        yield "".join(chunk)


def rewrite_part(
    package: bytes, path: Path, part: str, content: Callable[[str], Iterable[str]]
) -> None:
    """Copy a package to `path`, streaming `content(old_xml)` as the new text of `part`."""
    rewrite_parts(package, path, {part: content})


def rewrite_parts(
    package: bytes, path: Path, contents: Mapping[str, Callable[[str], Iterable[str]]]
) -> None:
    """Copy a package to `path`, streaming `contents[part](old_xml)` as each part's new text."""
    with (
        zipfile.ZipFile(io.BytesIO(package)) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        missing = set(contents) - set(source.namelist())
        if missing:
            raise KeyError(f"{', '.join(sorted(missing))} not in the package")
        for info in source.infolist():
            content = contents.get(info.filename)
            if content is None:
                target.writestr(info, source.read(info.filename))
                continue
            entry = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            entry.compress_type = zipfile.ZIP_DEFLATED
            with target.open(entry, "w") as out:
                for text in content(source.read(info.filename).decode("utf-8")):
                    out.write(text.encode("utf-8"))

"""A plan document read into blocks (paragraphs and table rows, in document order)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from plans.errors import DondocError
from plans.intake import texts


class IntakeError(DondocError):
    """A document that cannot be drafted; the message tells the operator what to do."""


@dataclass(frozen=True)
class Block:
    """A paragraph, or a table row (`cells` one text per grid column, merged ones blank)."""

    text: str
    source: str
    cells: tuple[str, ...] = ()
    table: int = 0  # 1-based table number for a row, 0 for a paragraph
    emphasis: bool = False  # bold or centred: a heading, a title

    @property
    def is_row(self) -> bool:
        """Whether the block is a table row."""
        return self.table > 0


@dataclass(frozen=True)
class Document:
    """The blocks of one document."""

    path: Path
    blocks: tuple[Block, ...]


def read_document(path: Path) -> Document:
    """Read a .docx, .pdf, .txt or .md document; raise IntakeError with a clear message."""
    from plans.intake import docx_reader, pdf_reader, text_reader

    suffix = path.suffix.lower()
    try:
        head = path.read_bytes()[:8]
    except OSError as exc:
        raise IntakeError(texts.UNREADABLE_FILE.format(name=path.name, reason=exc)) from exc
    if suffix == ".doc" or head.startswith(b"\xd0\xcf\x11\xe0"):  # OLE2: Word 97-2003
        raise IntakeError(texts.DOC_FORMAT.format(name=path.name))
    if suffix == ".docx" or head.startswith(b"PK\x03\x04"):
        return Document(path, docx_reader.read_docx(path))
    if suffix == ".pdf" or head.startswith(b"%PDF"):
        return Document(path, pdf_reader.read_pdf(path))
    if suffix in (".txt", ".md", ".text", ".markdown", ""):
        return Document(path, text_reader.read_text(path))
    raise IntakeError(texts.UNKNOWN_FORMAT.format(name=path.name))

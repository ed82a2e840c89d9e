"""Read a plan document of any supported format into blocks."""

from __future__ import annotations

from pathlib import Path

from plans.intake import docx_reader, pdf_reader, text_reader, texts
from plans.intake.document import Document, IntakeError


def read_document(path: Path) -> Document:
    """Read a .docx, .pdf, .txt or .md document; raise IntakeError with a clear message."""
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

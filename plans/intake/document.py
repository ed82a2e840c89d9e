"""A plan document read into blocks (paragraphs and table rows, in document order)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from plans.errors import DondocError


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

"""dondoc's errors: one root, `DondocError`, whose message is the Vietnamese text a user reads."""

from __future__ import annotations

from dataclasses import dataclass


class DondocError(Exception):
    """The root of every error dondoc explains to a user; `str(error)` is the Vietnamese text."""


class UnknownUnitError(DondocError):
    """A unit code that is not in the directory."""

    def __init__(self, code: str) -> None:
        super().__init__(f"Không có đơn vị mã {code}")
        self.code = code


class DeadlineError(DondocError):
    """A deadline expression that cannot be read; the message quotes it."""

    def __init__(self, text: str, reason: str | None = None) -> None:
        message = f'Không đọc được thời hạn: "{text}"'
        if reason:
            message = f"{message} ({reason})"
        super().__init__(message)
        self.text = text
        self.reason = reason


@dataclass(frozen=True)
class Problem:
    """One validation problem, located by file, line (and column, where known) and field."""

    file: str
    line: int | None
    field: str
    message: str
    column: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        if self.line and self.column:
            where = f"{where}:{self.column}"
        return f"{where}: {self.field}: {self.message}"


class InputFileError(DondocError):
    """A units or plan file with one or more problems; nothing was written."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems

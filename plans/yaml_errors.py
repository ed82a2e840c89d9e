"""PyYAML's syntax errors in Vietnamese, located by line, column and the key nearby."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from plans.errors import Problem

PREFIX = "YAML sai cú pháp"
# A fragment of PyYAML's problem text → what a plan writer can do about it; the first match
# wins. Others keep PyYAML's words after the Vietnamese prefix.
REASONS: tuple[tuple[str, str], ...] = (
    ("found character '\\t'", "có ký tự tab — YAML chỉ thụt lề bằng dấu cách"),
    (
        "mapping values are not allowed here",
        "dấu ':' không được đặt ở đây — giá trị có dấu ':' thì đặt trong ngoặc kép, "
        "nếu không thì xem lại thụt lề",
    ),
    ("could not find expected ':'", "thiếu dấu ':' sau tên trường"),
    ("found unexpected end of stream", "dấu ngoặc kép mở ở đây chưa được đóng"),
    ("found unexpected document separator", "dấu ngoặc kép mở ở đây chưa được đóng"),
    (
        "that cannot start any token",
        "giá trị không được bắt đầu bằng ký tự này — đặt giá trị trong ngoặc kép",
    ),
    ("expected <block end>", "thụt lề không khớp với các dòng trên"),
    ("block sequence entries are not allowed", "dấu '-' không được đặt ở đây — xem lại thụt lề"),
    ("expected ',' or ']'", "danh sách trong [ ] thiếu dấu ',' hoặc ']'"),
    ("expected ',' or '}'", "nhóm trong { } thiếu dấu ',' hoặc '}'"),
    (
        "found unknown escape character",
        "trong ngoặc kép, dấu \\ phải viết thành \\\\ (hoặc dùng ngoặc đơn)",
    ),
    ("but found another document", "tệp chỉ được có một tài liệu — bỏ dòng '---' thứ hai"),
    ("special characters are not allowed", "có ký tự điều khiển không hợp lệ"),
    ("found undefined alias", "không được dùng tham chiếu YAML (*)"),
    ("expected the node content", "thiếu giá trị"),
)
# A construct that never closed is reported where it opened, not at the end of the file.
UNCLOSED = ("found unexpected end of stream", "found unexpected document separator")
KEY = re.compile(r"^\s*(?:-\s+)?([^\s#'\"\[\]{},:-][^#:]*?)\s*:(?:\s|$)")


def syntax_problem(path: Path, text: str, exc: yaml.YAMLError) -> Problem:
    """A YAML syntax error as a Vietnamese problem with line, column and the key nearby."""
    problem = str(getattr(exc, "problem", None) or getattr(exc, "reason", None) or exc)
    line, column = _where(text, exc, opened=problem.startswith(UNCLOSED))
    reason = next((vi for fragment, vi in REASONS if fragment in problem), None)
    message = f"{PREFIX}: {reason}" if reason else f"{PREFIX} ({problem})"
    return Problem(str(path), line, _key_near(text, line), message, column)


def _where(text: str, exc: yaml.YAMLError, *, opened: bool) -> tuple[int | None, int | None]:
    """The 1-based line and column of an error, if PyYAML says."""
    mark = getattr(exc, "context_mark", None) if opened else None
    mark = mark or getattr(exc, "problem_mark", None)
    if mark is not None:
        return mark.line + 1, mark.column + 1
    if isinstance(exc, yaml.reader.ReaderError):  # a character the reader refuses
        before = text[: exc.position]
        return before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1
    return None, None


def _key_near(text: str, line: int | None) -> str:
    """The key written on `line` or on the nearest line above it; '-' if none."""
    if line is None:
        return "-"
    for candidate in reversed(text.splitlines()[:line]):
        found = KEY.match(candidate)
        if found:
            return found.group(1)
    return "-"

"""Read YAML and CSV input files, remembering the line of every value for error messages."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from plans.characters import UNSTORABLE
from plans.errors import InputFileError, Problem

Pointer = tuple[str | int, ...]


@dataclass
class SourceDoc:
    """A parsed file with the line of each value, addressed by its path of keys and indexes."""

    path: Path
    data: Any
    lines: dict[Pointer, int] = field(default_factory=dict)

    def line(self, pointer: Pointer) -> int | None:
        """The line of a value, or of its nearest ancestor that has one."""
        while pointer:
            if pointer in self.lines:
                return self.lines[pointer]
            pointer = pointer[:-1]
        return self.lines.get((), None)

    def problem(self, pointer: Pointer, message: str) -> Problem:
        """A problem located at `pointer` (field named by its last key)."""
        name = ".".join(str(p) for p in pointer if isinstance(p, str)) or "-"
        return Problem(file=str(self.path), line=self.line(pointer), field=name, message=message)


def read_yaml(path: Path) -> SourceDoc:
    """Parse a YAML file; a syntax error becomes an InputFileError naming the line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError([Problem(str(path), None, "-", f"không đọc được tệp: {exc}")]) from exc
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except ValueError as exc:  # e.g. an unquoted impossible date such as 2030-13-01
        raise InputFileError(
            [Problem(str(path), None, "-", f"giá trị không hợp lệ: {exc}")]
        ) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        raise InputFileError(
            [Problem(str(path), line, "-", f"YAML sai cú pháp: {reason}")]
        ) from exc
    doc = SourceDoc(path=path, data=data)
    if node is not None:
        _index_lines(node, (), doc.lines)
    problems = [
        doc.problem(pointer, "có ký tự điều khiển không hợp lệ")
        for pointer, value in _strings(data, ())
        if UNSTORABLE.search(value)
    ]
    if problems:  # e.g. "\x01" or "\0" escapes in a quoted string
        raise InputFileError(problems)
    return doc


def _strings(data: Any, pointer: Pointer) -> Iterator[tuple[Pointer, str]]:
    """Every string of parsed YAML (keys and values) with where it is."""
    if isinstance(data, str):
        yield pointer, data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from _strings(key, (*pointer, key))
            yield from _strings(value, (*pointer, key))
    elif isinstance(data, list):
        for index, item in enumerate(data):
            yield from _strings(item, (*pointer, index))


def _index_lines(node: yaml.Node, pointer: Pointer, lines: dict[Pointer, int]) -> None:
    """Record the 1-based line of every node under `pointer`."""
    lines[pointer] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            lines[(*pointer, key)] = key_node.start_mark.line + 1
            _index_lines(value_node, (*pointer, key), lines)
            lines[(*pointer, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _index_lines(item, (*pointer, index), lines)


def read_csv(path: Path, columns: tuple[str, ...]) -> SourceDoc:
    """Parse a CSV file with a header into a list of dicts, one line per row."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = tuple(reader.fieldnames or ())
            missing = [c for c in columns if c not in header]
            if missing:
                raise InputFileError(
                    [Problem(str(path), 1, ",".join(missing), "thiếu cột bắt buộc")]
                )
            rows: list[dict[str, str]] = []
            lines: dict[Pointer, int] = {(): 1}
            problems: list[Problem] = []
            for row in reader:
                index = len(rows)
                rows.append({k: (v or "").strip() for k, v in row.items() if k is not None})
                lines[(index,)] = reader.line_num
                problems += [
                    Problem(str(path), reader.line_num, column, "có ký tự điều khiển không hợp lệ")
                    for column, value in rows[-1].items()
                    if UNSTORABLE.search(value)
                ]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputFileError([Problem(str(path), None, "-", f"không đọc được tệp: {exc}")]) from exc
    if problems:
        raise InputFileError(problems)
    return SourceDoc(path=path, data=rows, lines=lines)

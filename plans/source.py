"""Read YAML and CSV input files, remembering the line of every value for error messages."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from plans.characters import UNSTORABLE
from plans.errors import InputFileError, Problem
from plans.yaml_errors import syntax_problem

Pointer = tuple[str | int, ...]

# Far above any real units or plan file (the examples are under 50 KB; 2 MB is some 20,000
# units), and the pure-Python YAML parser reads it in about five seconds.
MAX_FILE_BYTES = 2 * 1024 * 1024
# A plan nests five levels (file → tasks → task → partners → partner); deeper is not a plan.
MAX_DEPTH = 20


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
        name = _field_name(pointer)
        return Problem(file=str(self.path), line=self.line(pointer), field=name, message=message)


def _field_name(pointer: Pointer) -> str:
    """A field as problems name it: the keys of its path ('tasks.due'), or '-'."""
    return ".".join(str(p) for p in pointer if isinstance(p, str)) or "-"


class _Refused(Exception):
    """A YAML construct or value refused while parsing (line and column are 1-based)."""

    def __init__(self, mark: yaml.Mark, reason: str, node: yaml.Node | None = None) -> None:
        super().__init__(reason)
        self.line = mark.line + 1
        self.reason = reason
        self.node = node  # a value refused while constructing: its field is named from the tree
        self.column = mark.column + 1 if node is not None else None
        self.field = "-"


class _PlainLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors, aliases and deep nesting before any object is built.

    Aliases let a 350-byte file stand for billions of values, or for itself (a RecursionError);
    units and plan files never need them, so the first `&` or `*` ends the parse.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.depth = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node:
        """Compose one node unless it is an alias, carries an anchor or nests too deep."""
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise _Refused(event.start_mark, f"không được dùng tham chiếu YAML (*{event.anchor})")
        if event.anchor is not None:
            raise _Refused(event.start_mark, f"không được dùng neo YAML (&{event.anchor})")
        if self.depth >= MAX_DEPTH:
            raise _Refused(event.start_mark, f"lồng nhau quá {MAX_DEPTH} cấp")
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        """An unquoted date, refused with its place when it does not exist (2023-02-30)."""
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            reason = f"ngày không có thật: {node.value} (viết YYYY-MM-DD)"
            raise _Refused(node.start_mark, reason, node) from None


_PlainLoader.add_constructor("tag:yaml.org,2002:timestamp", _PlainLoader.construct_yaml_timestamp)


def _read_text(path: Path, encoding: str) -> str:
    """The file's text, refusing a file too large to be a units or plan file before parsing."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            limit = MAX_FILE_BYTES // (1024 * 1024)
            raise InputFileError([Problem(str(path), None, "-", f"tệp lớn hơn {limit} MB")])
        return raw.decode(encoding)
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError([Problem(str(path), None, "-", f"không đọc được tệp: {exc}")]) from exc


def _parse_yaml(text: str) -> tuple[yaml.Node | None, Any]:
    """The node tree (for lines) and the data of a single-document YAML text, parsed once."""
    loader = _PlainLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        try:
            return node, loader.construct_document(node)
        except _Refused as exc:
            exc.field = _field_of(node, exc.node)
            raise
    finally:
        loader.dispose()


def _field_of(root: yaml.Node, target: yaml.Node | None) -> str:
    """The field name of `target` in the node tree under `root`."""
    stack: list[tuple[yaml.Node, Pointer]] = [(root, ())]
    while stack:
        node, pointer = stack.pop()
        if node is target:
            return _field_name(pointer)
        if isinstance(node, yaml.MappingNode):
            stack += [(value, (*pointer, key.value)) for key, value in node.value]
        elif isinstance(node, yaml.SequenceNode):
            stack += [(item, (*pointer, i)) for i, item in enumerate(node.value)]
    return "-"


def read_yaml(path: Path) -> SourceDoc:
    """Parse a YAML file; a syntax error or a refused construct names the line."""
    text = _read_text(path, "utf-8")
    try:
        node, data = _parse_yaml(text)
    except _Refused as exc:
        problem = Problem(str(path), exc.line, exc.field, exc.reason, exc.column)
        raise InputFileError([problem]) from None
    except ValueError as exc:  # a value a constructor refuses (impossible dates: above)
        raise InputFileError(
            [Problem(str(path), None, "-", f"giá trị không hợp lệ: {exc}")]
        ) from exc
    except yaml.YAMLError as exc:
        raise InputFileError([syntax_problem(path, text, exc)]) from exc
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
    """Parse a CSV file with a header into a list of dicts, each row located at its first line."""
    text = _read_text(path, "utf-8-sig")
    # strict: a stray quote is an error instead of a field that silently swallows the next rows
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[dict[str, str]] = []
    lines: dict[Pointer, int] = {(): 1}
    problems: list[Problem] = []
    start = 1  # the first line of the record being read, for the error of a quote left open
    try:
        header = next(reader, [])
        _require_columns(path, header, columns)
        start = reader.line_num + 1
        for values in reader:
            if values:  # a blank line is no row
                lines[(len(rows),)] = start
                padded = [v.strip() for v in values] + [""] * (len(header) - len(values))
                rows.append(dict(zip(header, padded, strict=False)))
                problems += _row_problems(path, start, header, values)
            start = reader.line_num + 1
    except csv.Error as exc:  # e.g. a quote still open at the end of the file
        reason = f"dấu ngoặc kép chưa đóng hoặc đặt sai chỗ ({exc})"
        raise InputFileError([Problem(str(path), start, "-", reason)]) from exc
    if problems:
        raise InputFileError(problems)
    return SourceDoc(path=path, data=rows, lines=lines)


def _require_columns(path: Path, header: list[str], columns: tuple[str, ...]) -> None:
    """Refuse a header that lacks a required column."""
    missing = [c for c in columns if c not in header]
    if missing:
        raise InputFileError([Problem(str(path), 1, ",".join(missing), "thiếu cột bắt buộc")])


def _row_problems(path: Path, line: int, header: list[str], values: list[str]) -> list[Problem]:
    """What is wrong with one row: extra fields, line breaks or control characters in a field."""
    if len(values) > len(header):
        reason = f"dòng có {len(values)} ô nhưng tiêu đề chỉ có {len(header)} cột"
        return [Problem(str(path), line, "-", reason)]
    problems: list[Problem] = []
    for column, value in zip(header, values, strict=False):
        if "\n" in value or "\r" in value:  # no column allows one: a quote left open
            reason = "ô có xuống dòng (dấu ngoặc kép chưa đóng?)"
            problems.append(Problem(str(path), line, column, reason))
        elif UNSTORABLE.search(value):
            problems.append(Problem(str(path), line, column, "có ký tự điều khiển không hợp lệ"))
    return problems

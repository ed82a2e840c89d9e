"""Units files: YAML and CSV read alike; every error names file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from plans.errors import InputFileError
from plans.units_file import load_units_file


def write(tmp_path: Path, name: str, text: str) -> Path:
    """Write a test file and return its path."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_example_yaml_and_csv_describe_the_same_units(examples: Path) -> None:
    yaml_units = load_units_file(examples / "units.yaml")
    csv_units = load_units_file(examples / "units.csv")
    assert [u.code for u in yaml_units.units] == [u.code for u in csv_units.units]
    assert yaml_units.units == csv_units.units
    codes = {u.code for u in yaml_units.units}
    assert {"PGDDT", "PNV", "PTCKH", "UBND", "HUYEN_UY"} <= codes
    schools = [u for u in yaml_units.units if "TRUONG" in u.groups]
    assert len(schools) >= 30


def test_bad_code_is_reported_with_line_and_field(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "units.yaml",
        "units:\n  - code: PGDDT\n    name: Phòng GD\n  - code: bad code\n    name: X\n",
    )
    with pytest.raises(InputFileError) as caught:
        load_units_file(path)
    (problem,) = caught.value.problems
    assert problem.file == str(path)
    assert problem.line == 4
    assert problem.field == "units.code"
    assert "bad code" in problem.message


def test_unknown_parent_and_duplicate_are_both_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "units.yaml",
        "units:\n  - code: A\n    name: Đơn vị A\n    parent: NOPE\n  - code: A\n    name: Lặp\n",
    )
    with pytest.raises(InputFileError) as caught:
        load_units_file(path)
    messages = {(p.line, p.field): p.message for p in caught.value.problems}
    assert "NOPE" in messages[(4, "units.parent")]
    assert "trùng" in messages[(5, "units.code")]


def test_csv_error_names_the_csv_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "units.csv",
        "code,name,parent,groups,aliases\nA,Đơn vị A,,,\nB,,A,,\n",
    )
    with pytest.raises(InputFileError) as caught:
        load_units_file(path)
    (problem,) = caught.value.problems
    assert (problem.line, problem.field) == (3, "name")


def test_control_characters_are_refused_with_line_and_field(tmp_path: Path) -> None:
    # A NUL would stop PostgreSQL; the rest would break the DOCX and XLSX reports later.
    csv_path = write(
        tmp_path, "units.csv", "code,name,parent,groups,aliases\nA,Đơn vị A,,,\nB,B\x00\x01,A,,\n"
    )
    with pytest.raises(InputFileError) as caught:
        load_units_file(csv_path)
    (problem,) = caught.value.problems
    assert (problem.line, problem.field) == (3, "name") and "điều khiển" in problem.message
    yaml_path = write(tmp_path, "units.yaml", 'units:\n  - code: A\n    name: "Đơn vị\\x07 A"\n')
    with pytest.raises(InputFileError) as caught:
        load_units_file(yaml_path)
    (problem,) = caught.value.problems
    assert (problem.line, problem.field) == (3, "units.name")


def test_csv_missing_column_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "units.csv", "code,name\nA,Đơn vị A\n")
    with pytest.raises(InputFileError) as caught:
        load_units_file(path)
    assert "parent" in caught.value.problems[0].field


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "units.yaml", "units:\n  - code: A\n    name: [unclosed\n")
    with pytest.raises(InputFileError) as caught:
        load_units_file(path)
    assert caught.value.problems[0].line is not None
    assert "YAML" in caught.value.problems[0].message

"""Plan files: validation against the units directory, with file, line and field."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from plans.errors import InputFileError
from plans.plan_file import Directory, load_plan_file

DIRECTORY = Directory(
    units=frozenset({"PGDDT", "PNV", "THCS_A", "THCS_B"}),
    groups={"TRUONG": ("THCS_A", "THCS_B")},
    aliases={"phòng giáo dục và đào tạo": "PGDDT"},
)

GOOD = """\
code: KH-TEST
title: Kế hoạch thử
issued: 2023-09-05
coordinator: PGDDT
tasks:
  - id: "1"
    title: Phổ biến kế hoạch
    owner: PGDDT
    partners: [PNV]
    due: trước ngày 20/9/2023
  - id: "2"
    title: Rà soát cơ sở vật chất
    owner: TRUONG
    due: Hằng năm
"""


def write(tmp_path: Path, text: str) -> Path:
    """Write a plan file."""
    path = tmp_path / "plan.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_plan_is_read(tmp_path: Path) -> None:
    spec = load_plan_file(write(tmp_path, GOOD), DIRECTORY)
    assert spec.code == "KH-TEST"
    assert [t.key for t in spec.tasks] == ["1", "2"]
    assert spec.tasks[0].deadline.kind == "dated"
    assert spec.tasks[1].deadline.recurring


def test_alias_resolves_to_unit_code(tmp_path: Path) -> None:
    text = GOOD.replace("owner: PGDDT", "owner: Phòng Giáo dục và Đào tạo")
    spec = load_plan_file(write(tmp_path, text), DIRECTORY)
    assert spec.tasks[0].owner == "PGDDT"


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "fragment"),
    [
        ("owner: TRUONG", "owner: NOWHERE", 13, "tasks.owner", "NOWHERE"),
        ("due: Hằng năm", "due: 32/13/2026", 14, "tasks.due", "32/13/2026"),
        ("due: Hằng năm", "due: xyz không rõ", 14, "tasks.due", "xyz không rõ"),
        ("issued: 2023-09-05", "issued: 5/9/2023", 3, "issued", "YYYY-MM-DD"),
        ("coordinator: PGDDT", "coordinator: NOPE", 4, "coordinator", "NOPE"),
        ('  - id: "2"', '  - id: "1"', 11, "tasks.id", "trùng"),
        ("partners: [PNV]", "partners: [PNV, XX]", 9, "tasks.partners", "XX"),
        ("code: KH-TEST", "code: KH TEST!", 1, "code", "KH TEST!"),
        ("title: Rà soát cơ sở", 'title: "Rà\\x01 soát" # cơ sở', 12, "tasks.title", "điều khiển"),
    ],
)
def test_each_error_names_line_and_field(
    tmp_path: Path, old: str, new: str, line: int, field: str, fragment: str
) -> None:
    path = write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(InputFileError) as caught:
        load_plan_file(path, DIRECTORY)
    problems = caught.value.problems
    assert len(problems) == 1, problems
    assert problems[0].file == str(path)
    assert (problems[0].line, problems[0].field) == (line, field)
    assert fragment in problems[0].message
    assert str(problems[0]).startswith(f"{path}:{line}: {field}: ")


def test_all_problems_are_listed_at_once(tmp_path: Path) -> None:
    text = GOOD.replace("owner: TRUONG", "owner: NOWHERE").replace("due: Hằng năm", "due: ???")
    with pytest.raises(InputFileError) as caught:
        load_plan_file(write(tmp_path, text), DIRECTORY)
    assert len(caught.value.problems) == 2


def test_bad_reminder_settings_are_refused(tmp_path: Path) -> None:
    text = GOOD.replace("tasks:", "reminders:\n  before_days: [7, -1]\n  louder: 3\ntasks:")
    with pytest.raises(InputFileError) as caught:
        load_plan_file(write(tmp_path, text), DIRECTORY)
    fields = sorted(p.field for p in caught.value.problems)
    assert fields == ["reminders.before_days", "reminders.louder"]


def test_example_plans_validate_against_example_units(examples: Path) -> None:
    from plans.units_file import load_units_file

    units = load_units_file(examples / "units.yaml")
    groups: dict[str, list[str]] = {}
    for unit in units.units:
        for group in unit.groups:
            groups.setdefault(group, []).append(unit.code)
    directory = Directory(
        units=frozenset(u.code for u in units.units),
        groups={k: tuple(v) for k, v in groups.items()},
    )
    gddt = load_plan_file(examples / "kh-gddt-2023.yaml", directory)
    hu = load_plan_file(examples / "kh-315-hu.yaml", directory)
    assert gddt.code == "KH-GDDT-2023" and len(gddt.tasks) >= 16
    assert hu.code == "KH-315-HU" and len(hu.tasks) == 9
    due_texts = {t.due_text for t in gddt.tasks}
    assert {"trước ngày 20/9/2023", "chậm nhất vào tháng 11 hằng năm"} <= due_texts


def test_a_plan_with_an_alias_is_refused_quickly_at_its_line(tmp_path: Path) -> None:
    # An anchored task repeated by alias: a plan never needs one, a hostile file abuses them.
    text = GOOD.replace('  - id: "2"', '  - &copy\n    id: "2"') + "  - *copy\n"
    path = write(tmp_path, text)
    started = time.perf_counter()
    with pytest.raises(InputFileError) as caught:
        load_plan_file(path, DIRECTORY)
    assert time.perf_counter() - started < 1.0
    (problem,) = caught.value.problems
    assert str(problem) == f"{path}:11: -: không được dùng neo YAML (&copy)"

"""Plan files: validation against the units directory, with file, line and field."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import pytest

from plans.errors import InputFileError, Problem
from plans.plan_file import load_plan_file
from plans.plan_spec import Directory, PlanSpec
from plans.units_file import load_units_file

DIRECTORY = Directory(
    units=frozenset({"PGDDT", "PNV", "THCS_A", "THCS_B"}),
    groups={"TRUONG": ("THCS_A", "THCS_B")},
    aliases={"phòng giáo dục và đào tạo": "PGDDT"},
)

HEADER = """\
code: KH-TEST
title: Kế hoạch thử
issued: 2023-09-05
coordinator: PGDDT
tasks:
"""
GOOD = (
    HEADER
    + """\
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
)


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
    directory = Directory.from_units_file(load_units_file(examples / "units.yaml"))
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


UNITS = """\
units:
  - {code: PGDDT, name: Phòng Giáo dục và Đào tạo, aliases: [Phòng GD&ĐT]}
  - {code: PVHTT, name: Phòng Văn hóa và Thông tin}
  - {code: TTVHTT, name: Trung tâm Văn hóa – Thể thao}
  - {code: MTTQ, name: Ủy ban MTTQ Việt Nam huyện, aliases: [Ủy ban MTTQ huyện]}
  - {code: HOI_ND, name: Hội Nông dân huyện, groups: [DOAN_THE]}
  - {code: XA_A, name: UBND xã A, groups: [XA]}
  - {code: XA_B, name: UBND xã B, groups: [XA]}
  - {code: THCS_A, name: Trường THCS A, groups: [TRUONG], aliases: [Trường A]}
  - {code: TH_A, name: Trường Tiểu học A, groups: [TRUONG], aliases: [Trường A]}
  - {code: PVH_CU, name: Phòng Văn hóa cũ, active: false, merged_into: PVHTT}
  - {code: GIAI_THE, name: Ban đã giải thể, active: false}
groups:
  XA: UBND các xã, thị trấn
  TRUONG:
    name: Các trường trên địa bàn
    aliases: [các trường học]
  DOAN_THE:
    name: Các tổ chức đoàn thể cấp huyện
"""
TASK = (
    HEADER
    + """\
  - id: "1"
    title: Nhiệm vụ
    owner: {owner}
    partners: {partners}
    due: trước ngày 20/9/2023
"""
)


@pytest.fixture
def directory(tmp_path: Path) -> Directory:
    """A small directory with groups, group aliases, a shared alias and retired units."""
    path = tmp_path / "units.yaml"
    path.write_text(UNITS, encoding="utf-8")
    return Directory.from_units_file(load_units_file(path))


def task_with(
    tmp_path: Path, directory: Directory, owner: str, partners: str = "[]", extra: str = ""
) -> PlanSpec:
    """Load a one-task plan with the given owner and partners (YAML text)."""
    text = TASK.format(owner=owner, partners=partners) + extra
    return load_plan_file(write(tmp_path, text), directory)


def refusal(tmp_path: Path, directory: Directory, text: str) -> Problem:
    """The one problem of a plan text."""
    with pytest.raises(InputFileError) as caught:
        load_plan_file(write(tmp_path, text), directory)
    (problem,) = caught.value.problems
    return problem


@pytest.mark.parametrize(
    ("owner", "owners"),
    [
        ("[Phòng Văn hóa và Thông tin, Trung tâm Văn hóa – Thể thao]", ("PVHTT", "TTVHTT")),
        ('"Phòng Văn hoá và Thông tin, Trung tâm Văn hóa - Thể thao"', ("PVHTT", "TTVHTT")),
        ("[PVHTT, TTVHTT]", ("PVHTT", "TTVHTT")),
        ('"UBND các xã, thị trấn"', ("XA",)),  # a group whose name holds a comma
        ("các trường học", ("TRUONG",)),  # a group's alias
        ("[Ủy ban MTTQ huyện, các tổ chức đoàn thể cấp huyện]", ("MTTQ", "DOAN_THE")),
        ("Phòng GD&ĐT", ("PGDDT",)),
    ],
)
def test_every_lead_unit_is_an_owner(
    tmp_path: Path, directory: Directory, owner: str, owners: tuple[str, ...]
) -> None:
    task = task_with(tmp_path, directory, owner).tasks[0]
    assert task.owners == owners
    assert task.owner == owners[0]
    assert task.partners == ()  # a second lead unit is no longer made a partner


def test_an_ambiguous_name_is_refused_with_its_candidates(
    tmp_path: Path, directory: Directory
) -> None:
    problem = refusal(tmp_path, directory, TASK.format(owner="[PGDDT, Trường A]", partners="[]"))
    assert (problem.line, problem.field) == (8, "tasks.owner")
    assert "«Trường A» có thể là" in problem.message
    assert (
        "THCS_A (Trường THCS A)" in problem.message
        and "TH_A (Trường Tiểu học A)" in problem.message
    )


def test_an_unknown_owner_in_a_list_names_its_line_and_the_closest_unit(
    tmp_path: Path, directory: Directory
) -> None:
    text = TASK.format(owner="\n      - PGDDT\n      - Phòng Văn hóa Thông tin", partners="[]")
    problem = refusal(tmp_path, directory, text)
    assert (problem.line, problem.field) == (10, "tasks.owner")
    assert "không tồn tại: Phòng Văn hóa Thông tin" in problem.message
    assert "gần giống: PVHTT (Phòng Văn hóa và Thông tin)" in problem.message


@pytest.mark.parametrize(
    ("owner", "fragment"),
    [
        ("[PGDDT, Phòng Giáo dục và Đào tạo]", "ghi hai lần: PGDDT"),
        ("[]", "thiếu đơn vị chủ trì"),
        ("{unit: PGDDT}", "phải là mã hoặc tên"),
        ("GIAI_THE", "GIAI_THE đã ngừng hoạt động"),
    ],
)
def test_a_bad_owner_is_refused(
    tmp_path: Path, directory: Directory, owner: str, fragment: str
) -> None:
    problem = refusal(tmp_path, directory, TASK.format(owner=owner, partners="[]"))
    assert problem.field == "tasks.owner" and fragment in problem.message


def test_a_unit_merged_into_another_is_read_as_its_successor_and_said_so(
    tmp_path: Path, directory: Directory
) -> None:
    spec = task_with(tmp_path, directory, "Phòng Văn hóa cũ")
    assert spec.tasks[0].owners == ("PVHTT",)
    (notice,) = spec.notices
    assert (notice.line, notice.field) == (8, "tasks.owner")
    assert "PVH_CU đã ngừng hoạt động, sáp nhập vào PVHTT" in notice.message


def test_partners_outside_the_directory_are_kept_as_written(
    tmp_path: Path, directory: Directory
) -> None:
    partners = '[các trường học, "PVHTT, doanh nghiệp viễn thông", {external: Sở Văn hóa}]'
    extra = "    partners_report: true\n"
    task = task_with(tmp_path, directory, "PGDDT", partners, extra).tasks[0]
    assert task.partners == ("TRUONG", "PVHTT")
    assert task.external_partners == ("doanh nghiệp viễn thông", "Sở Văn hóa")
    assert task.partners_report


@pytest.mark.parametrize(
    ("partners", "fragment"),
    [
        ("[PVHT]", "không tồn tại: PVHT"),  # a mistyped code is no organisation
        ("[Phòng Giáo dục Đào tạo]", "gần giống: PGDDT"),  # nor is a mistyped unit name
        ("[PGDDT]", "PGDDT đã là đơn vị chủ trì"),
        ("[Trường A]", "có thể là"),
    ],
)
def test_a_partner_that_looks_like_a_mistake_is_refused(
    tmp_path: Path, directory: Directory, partners: str, fragment: str
) -> None:
    problem = refusal(tmp_path, directory, TASK.format(owner="PGDDT", partners=partners))
    assert (problem.line, problem.field) == (9, "tasks.partners")
    assert fragment in problem.message


def test_the_plan_frame_and_task_flags_are_read(tmp_path: Path, directory: Directory) -> None:
    text = TASK.format(owner="PGDDT", partners="[]").replace(
        "coordinator: PGDDT",
        "coordinator: Phòng GD&ĐT\nuntil: 2025-12-31\nimplements: 502-TB/VPTU\n"
        "issued_note: văn bản không in ngày",
    )
    text += "    request: true\n    indicators:\n      - {code: TL, name: Tỷ lệ, kind: percent}\n"
    spec = load_plan_file(write(tmp_path, text), directory)
    assert spec.coordinator == "PGDDT"
    assert spec.until == date(2025, 12, 31) and spec.implements == "502-TB/VPTU"
    assert spec.issued_note == "văn bản không in ngày"
    (task,) = spec.tasks
    assert task.request and [i.code for i in task.indicators] == ["TL"]


@pytest.mark.parametrize(
    ("extra", "line", "field", "fragment"),
    [
        ("    request: có\n", 11, "tasks.request", "true hoặc false"),
        (
            "    indicators:\n      - {code: TL, name: Tỷ lệ, kind: phần trăm}\n",
            12,
            "tasks.indicators.kind",
            "kind",
        ),
        ("    indicators: 19%\n", 11, "tasks.indicators", "danh sách"),
    ],
)
def test_bad_task_fields_name_line_and_field(
    tmp_path: Path, directory: Directory, extra: str, line: int, field: str, fragment: str
) -> None:
    problem = refusal(tmp_path, directory, TASK.format(owner="PGDDT", partners="[]") + extra)
    assert (problem.line, problem.field) == (line, field) and fragment in problem.message


def test_a_plan_that_ends_before_it_is_issued_is_refused(
    tmp_path: Path, directory: Directory
) -> None:
    text = TASK.format(owner="PGDDT", partners="[]").replace(
        "issued: 2023-09-05", "issued: 2023-09-05\nuntil: 2023-01-01"
    )
    problem = refusal(tmp_path, directory, text)
    assert (problem.line, problem.field) == (4, "until")


def test_a_group_cannot_coordinate(tmp_path: Path, directory: Directory) -> None:
    text = TASK.format(owner="PGDDT", partners="[]").replace(
        "coordinator: PGDDT", "coordinator: XA"
    )
    problem = refusal(tmp_path, directory, text)
    assert problem.field == "coordinator" and "nhóm" in problem.message


def test_no_deadline_is_said_in_words_and_read_as_undated(
    tmp_path: Path, directory: Directory
) -> None:
    text = TASK.format(owner="PGDDT", partners="[]").replace(
        "due: trước ngày 20/9/2023", "due: không thời hạn"
    )
    (task,) = load_plan_file(write(tmp_path, text), directory).tasks
    assert task.deadline.kind == "undated" and task.deadline.dates() == []

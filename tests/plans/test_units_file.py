"""Units files: YAML and CSV read alike; every error names file, line and field."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from plans.errors import InputFileError, Problem
from plans.plan_spec import Directory
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


def refused(path: Path, known_parents: dict[str, str | None] | None = None) -> list[Problem]:
    """The problems of a units file that must be refused, which come within a second."""
    started = time.perf_counter()
    with pytest.raises(InputFileError) as caught:
        load_units_file(path, known_parents=known_parents)
    assert time.perf_counter() - started < 1.0
    return caught.value.problems


def laughs(levels: int) -> str:
    """A "billion laughs" file: each level's list holds the previous one nine times."""
    lines = ['a0: &a0 ["ha", "ha", "ha", "ha", "ha", "ha", "ha", "ha", "ha"]']
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, levels + 1)]
    return "\n".join([*lines, f"units: *a{levels}", ""])


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        (laughs(6), 1, "không được dùng neo YAML (&a0)"),  # 531,441 strings from 400 bytes
        ("units: &me [*me]\n", 1, "không được dùng neo YAML (&me)"),  # was a RecursionError
        ("groups: {}\nunits: *nowhere\n", 2, "không được dùng tham chiếu YAML (*nowhere)"),
        ("units:\n  " + "[" * 100_000 + "]" * 100_000 + "\n", 2, "lồng nhau quá 20 cấp"),
        ("units:\n" + "".join(f"{' ' * 2 * n}- k:\n" for n in range(1, 200)), 11, "lồng nhau quá"),
    ],
    ids=["billion-laughs", "self-alias", "alias", "deep-flow", "deep-block"],
)
def test_hostile_yaml_is_refused_quickly_with_line_and_reason(
    tmp_path: Path, text: str, line: int, reason: str
) -> None:
    path = write(tmp_path, "units.yaml", text)
    (problem,) = refused(path)
    assert (problem.file, problem.line) == (str(path), line)
    assert reason in problem.message


def test_oversized_file_is_refused_before_reading_it(tmp_path: Path) -> None:
    path = write(tmp_path, "units.csv", "code,name,parent,groups,aliases\n" + "A,x,,,\n" * 400_000)
    (problem,) = refused(path)
    assert problem.file == str(path) and "lớn hơn 2 MB" in problem.message


@pytest.mark.parametrize(
    ("rows", "line", "field", "reason"),
    [  # a quote left open used to swallow the following rows into one name
        ('A,"Đơn vị A,,,\nB,Đơn vị B,A,,\n', 2, "-", "dấu ngoặc kép chưa đóng"),
        ('A,"Đơn vị A,,,\nB,Đơn vị B",,,\nC,Đơn vị C,,,\n', 2, "name", "xuống dòng"),
        ('A,Đơn vị A,,,\nB,"Đơn vị "B,A,,\n', 3, "-", "dấu ngoặc kép"),
        ("A,Đơn vị A,,,\nB,Đơn vị B, xã Cẩm Vũ,A,,\n", 3, "-", "6 ô"),
    ],
    ids=["open-to-the-end", "rows-merged", "stray-quote", "extra-column"],
)
def test_csv_is_read_strictly(
    tmp_path: Path, rows: str, line: int, field: str, reason: str
) -> None:
    path = write(tmp_path, "units.csv", "code,name,parent,groups,aliases\n" + rows)
    (problem,) = refused(path)
    assert (problem.line, problem.field) == (line, field)
    assert reason in problem.message


@pytest.mark.parametrize(
    ("rows", "line", "chain"),
    [
        ("A,Đơn vị A,A,,\n", 2, "A → A"),
        ("A,Đơn vị A,B,,\nB,Đơn vị B,A,,\n", 2, "A → B → A"),
        ("R,Gốc,,,\nA,Đơn vị A,C,,\nB,Đơn vị B,A,,\nC,Đơn vị C,B,,\n", 3, "A → C → B → A"),
    ],
    ids=["itself", "two", "three"],
)
def test_a_unit_that_is_its_own_ancestor_is_refused(
    tmp_path: Path, rows: str, line: int, chain: str
) -> None:
    path = write(tmp_path, "units.csv", "code,name,parent,groups,aliases\n" + rows)
    (problem,) = refused(path)
    assert (problem.line, problem.field) == (line, "parent")
    assert problem.message.endswith(f"là cấp trên của chính nó: {chain}")


def test_a_cycle_through_stored_units_is_refused(tmp_path: Path) -> None:
    # Stored: B under A. The file moves A under B, which would make A its own grandparent.
    stored: dict[str, str | None] = {"A": None, "B": "A"}
    path = write(tmp_path, "units.yaml", "units:\n  - code: A\n    name: Đơn vị A\n    parent: B\n")
    (problem,) = refused(path, stored)
    assert (problem.line, problem.field) == (4, "units.parent")
    assert "A → B → A" in problem.message
    path = write(tmp_path, "units.yaml", "units:\n  - code: B\n    name: Đơn vị B\n    parent: A\n")
    assert [u.parent for u in load_units_file(path, known_parents=stored).units] == ["A"]


def test_unit_fields_and_group_aliases_are_read_from_yaml_and_csv(tmp_path: Path) -> None:
    yaml_path = write(
        tmp_path,
        "units.yaml",
        "units:\n"
        "  - {code: BTG_HU, name: Ban Tuyên giáo Huyện ủy, abbreviation: BTGHU,"
        " signer: TRƯỞNG BAN, party: true}\n"
        "  - {code: PVH, name: Phòng Văn hóa, groups: [PHONG]}\n"
        "  - {code: PVH_CU, name: Phòng Văn hóa cũ, merged_into: PVH}\n"
        "groups:\n"
        "  PHONG:\n"
        "    name: Các phòng, ban, ngành cấp huyện\n"
        '    aliases: ["các phòng, ban, ngành liên quan"]\n',
    )
    csv_path = write(
        tmp_path,
        "units.csv",
        "code,name,parent,groups,aliases,active,merged_into,abbreviation,signer,party\n"
        "BTG_HU,Ban Tuyên giáo Huyện ủy,,,,,,BTGHU,TRƯỞNG BAN,true\n"
        "PVH,Phòng Văn hóa,,PHONG,,,,,,\n"
        "PVH_CU,Phòng Văn hóa cũ,,,,false,PVH,,,\n",
    )
    from_yaml = load_units_file(yaml_path)
    assert from_yaml.units == load_units_file(csv_path).units
    board, _, retired = from_yaml.units
    assert (board.abbreviation, board.signer, board.party) == ("BTGHU", "TRƯỞNG BAN", True)
    assert (retired.active, retired.merged_into) == (False, "PVH")  # merged_into retires it
    (group,) = from_yaml.group_specs
    assert group.aliases == ("các phòng, ban, ngành liên quan",)
    assert from_yaml.groups == {"PHONG": "Các phòng, ban, ngành cấp huyện"}


@pytest.mark.parametrize(
    ("rows", "line", "fragment"),
    [
        ("A,Đơn vị A,,,,false,NOPE\n", 2, "đơn vị kế thừa không tồn tại: NOPE"),
        ("A,Đơn vị A,,,,true,B\nB,Đơn vị B,,,,,\n", 2, "còn hoạt động không thể sáp nhập"),
        ("A,Đơn vị A,,,,false,A\n", 2, "A sáp nhập vào A, nhưng A đã ngừng hoạt động"),
        (
            "A,Đơn vị A,,,,false,B\nB,Đơn vị B,,,,false,C\nC,Đơn vị C,,,,,\n",
            2,
            "B đã ngừng hoạt động (sáp nhập vào C): ghi thẳng đơn vị còn hoạt động",
        ),
        ("A,Đơn vị A,,,,false,B\nB,Đơn vị B,,,,false,A\n", 2, "A sáp nhập vào B, nhưng B"),
        ("A,Đơn vị A,,,,không,\n", 2, "true hoặc false"),
    ],
    ids=["unknown", "active", "itself", "chain", "cycle", "not-a-flag"],
)
def test_a_merger_must_end_at_an_active_unit(
    tmp_path: Path, rows: str, line: int, fragment: str
) -> None:
    header = "code,name,parent,groups,aliases,active,merged_into\n"
    problems = refused(write(tmp_path, "units.csv", header + rows))
    assert problems[0].line == line
    assert fragment in problems[0].message


def test_a_successor_already_stored_is_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, "units.yaml", "units:\n  - {code: A, name: A, merged_into: B}\n")
    (unit,) = load_units_file(path, known_parents={"B": None}).units
    assert unit.merged_into == "B" and not unit.active


@pytest.mark.parametrize(
    ("text", "line", "field"),
    [
        ("units:\n  - code: A\n    name: A\n    alias: [Đơn vị A]\n", 4, "units.alias"),
        (
            "units:\n  - {code: A, name: A}\ngroups:\n  G: {name: G, alias: [g]}\n",
            4,
            "groups.G.alias",
        ),
        ("units:\n  - {code: A, name: A, party: có}\n", 2, "units.party"),
    ],
)
def test_a_mistyped_field_is_refused_not_ignored(
    tmp_path: Path, text: str, line: int, field: str
) -> None:
    (problem,) = refused(write(tmp_path, "units.yaml", text))
    assert (problem.line, problem.field) == (line, field)


def test_each_name_and_alias_of_the_example_units_names_one_unit(examples: Path) -> None:
    directory = Directory.from_units_file(load_units_file(examples / "units.yaml"))
    for code, names in directory.names.items():
        for name in names:
            assert directory.resolve(name) == code, name
    assert directory.resolve("các trường học") == "TRUONG"
    assert directory.resolve("Phòng GD&ĐT") == "PGDDT"

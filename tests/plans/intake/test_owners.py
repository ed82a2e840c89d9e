"""Unit names as plans write them, resolved against the units directory."""

from __future__ import annotations

import pytest

from plans.intake.owners import UnitIndex


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("Phòng Giáo dục và Đào tạo", "PGDDT"),
        ("phòng GD&ĐT", "PGDDT"),
        ("Phòng GDĐT", "PGDDT"),
        ("PHÒNG GIÁO DỤC VÀ ĐÀO TẠO", "PGDDT"),
        ("Phòng Giáo dục - Đào tạo", "PGDDT"),
        ("Phong Giao duc va Dao tao", "PGDDT"),  # typed without diacritics
        ("Phòng  Giáo dục   và Đào tạo", "PGDDT"),
        ("Ban Tuyên giáo Huyện uỷ", "BTG_HU"),  # the old placement of the tone mark
        ("Phòng TC-KH", "PTCKH"),
        ("Phòng LĐ-TB&XH", "PLDTBXH"),
        ("Phòng VH&TT", "PVHTT"),
        ("Phòng TN&MT", "PTNMT"),
        ("UBND huyện", "UBND"),
        ("HĐND HUYỆN", "HDND"),
        ("Ủy ban MTTQ Việt Nam huyện", "MTTQ"),
        ("Ủy ban Mặt trận Tổ quốc huyện", "MTTQ"),  # the name without "Việt Nam"
        ("Huyện Đoàn", "HUYEN_DOAN"),  # the name without the district's own name
        ("Trường THCS Cẩm Vũ", "THCS_CAM_VU"),
        ("UBND các xã, thị trấn", "XA"),  # a group, by its label
        ("các tổ chức đoàn thể cấp huyện", "DOAN_THE"),
        ("PGDDT", "PGDDT"),  # a code as such
    ],
)
def test_names_resolve(units: UnitIndex, written: str, code: str) -> None:
    found = units.resolve(written)
    assert found is not None and found.code == code
    assert not found.fuzzy


def test_a_misspelt_name_matches_fuzzily_and_is_flagged(units: UnitIndex) -> None:
    found = units.resolve("Phòng Giáo duc và Đào tao huyen")
    assert found is not None and found.code == "PGDDT" and found.fuzzy


def test_a_list_of_units_in_a_sentence(units: UnitIndex) -> None:
    text = "Đề nghị Ủy ban MTTQ huyện, Ban Tuyên giáo Huyện ủy và Huyện Đoàn tuyên truyền"
    found = units.units_at(text, len("Đề nghị "))
    assert [m.code for m in found] == ["MTTQ", "BTG_HU", "HUYEN_DOAN"]


def test_names_with_commas_and_và_inside(units: UnitIndex) -> None:
    text = "UBND các xã, thị trấn và các trường học trên địa bàn huyện chấp hành"
    assert [m.code for m in units.units_at(text)] == ["XA", "TRUONG"]


def test_an_unknown_unit_stays_as_written(units: UnitIndex) -> None:
    found = units.units_at("Công an huyện chủ trì, phối hợp với Phòng Nội vụ")
    assert [(m.text, m.code) for m in found] == [("Công an huyện", None)]


def test_everyone_concerned_is_vague_not_a_unit(units: UnitIndex) -> None:
    text = (
        "Ban Tuyên giáo Huyện ủy, các phòng, ban, ngành liên quan, UBND các xã, thị trấn phổ biến"
    )
    found = units.units_at(text)
    assert [(m.code, m.vague) for m in found] == [("BTG_HU", False), (None, True), ("XA", False)]


def test_a_unit_of_another_level_is_not_taken_for_ours(units: UnitIndex) -> None:
    assert units.resolve("UBND tỉnh") is None
    assert units.resolve("Sở Giáo dục và Đào tạo") is None

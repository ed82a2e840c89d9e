"""Units found by the names plans write: exact codes, folded names, refusals with candidates."""

from __future__ import annotations

import pytest

from plans.unit_names import UnitNames, name_key

NAMES = UnitNames(
    {
        "PGDDT": ["Phòng Giáo dục và Đào tạo", "PGD"],
        "PVHTT": ["Phòng Văn hóa và Thông tin"],
        "TTVHTT": ["Trung tâm Văn hóa – Thể thao"],
        "HUYEN_UY": ["Huyện ủy Cẩm Giàng", "Huyện ủy"],
        "TT_LAI_CACH": ["UBND thị trấn Lai Cách"],
        "XA": ["UBND các xã, thị trấn"],
        "TRUONG": ["Các trường MN, TH, THCS trên địa bàn", "các trường học"],
        "XA_CAM_VAN": ["UBND xã Cẩm Văn"],
        "XA_CAM_VAN_2": ["UBND xã Cẩm Vân"],  # differs from Cẩm Văn only by a diacritic
        "MN_A": ["Trường Mầm non A", "Trường A"],
        "TH_A": ["Trường Tiểu học A", "Trường A"],  # an alias two units carry
    }
)


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("PGDDT", "PGDDT"),
        ("phòng giáo dục và đào tạo", "PGDDT"),
        ("Phòng GD&ĐT", "PGDDT"),
        ("  Phòng   Giáo dục & Đào tạo ", "PGDDT"),
        ("Phòng Văn hoá và Thông tin", "PVHTT"),  # the tone mark on the other vowel
        ("Trung tâm Văn hóa - Thể thao", "TTVHTT"),  # a hyphen for the dash
        ("Huyện uỷ", "HUYEN_UY"),
        ("UBND TT Lai Cách", "TT_LAI_CACH"),
        ("Ủy ban nhân dân các xã, thị trấn", "XA"),
        ("Các trường học", "TRUONG"),
        ("Phong Van hoa va Thong tin", "PVHTT"),  # no diacritics, and only one unit fits
    ],
)
def test_a_unit_is_found_by_the_names_plans_write(written: str, code: str) -> None:
    assert NAMES.find(written).code == code


def test_hang_and_hang_are_one_word() -> None:
    assert name_key("hằng năm") == name_key("hàng năm")


def test_a_name_two_units_carry_is_refused_with_both() -> None:
    found = NAMES.find("Trường A")
    assert found.code is None and found.ambiguous
    assert found.candidates == ("MN_A", "TH_A")


def test_without_diacritics_two_units_are_refused_not_guessed() -> None:
    found = NAMES.find("UBND xa Cam Van")
    assert found.code is None and found.ambiguous
    assert found.candidates == ("XA_CAM_VAN", "XA_CAM_VAN_2")
    assert NAMES.find("UBND xã Cẩm Vân").code == "XA_CAM_VAN_2"  # written exactly: found


def test_a_near_miss_is_never_matched_only_suggested() -> None:
    found = NAMES.find("Phòng Giáo dục Đào tạo")
    assert found.code is None and not found.ambiguous
    assert found.candidates[0] == "PGDDT"


def test_described_candidates_carry_their_names() -> None:
    assert NAMES.describe(["PGDDT", "NOPE"]) == "PGDDT (Phòng Giáo dục và Đào tạo), NOPE"

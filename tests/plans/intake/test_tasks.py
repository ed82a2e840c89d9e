"""Documents of other shapes: a Party plan, a school's internal plan, a provincial plan with
labelled lines; and the rules for owners, requests and deadlines inside a paragraph."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from plans.intake.draft import Draft

PARTY = """\
ĐẢNG BỘ TỈNH HẢI DƯƠNG          ĐẢNG CỘNG SẢN VIỆT NAM
HUYỆN ỦY CẨM GIÀNG
*
Số 25-KH/HU                     Cẩm Giàng, ngày 10 tháng 01 năm 2025

KẾ HOẠCH
thực hiện Chỉ thị số 35-CT/TW của Bộ Chính trị về đại hội đảng bộ các cấp

Thực hiện Kế hoạch số 12-KH/TU ngày 02/01/2025 của Ban Thường vụ Tỉnh ủy, Ban Thường vụ Huyện \
ủy xây dựng kế hoạch như sau:

I. MỤC ĐÍCH, YÊU CẦU
Lãnh đạo, chỉ đạo tổ chức thành công đại hội đảng bộ các cấp trước ngày 30/6/2025.

II. TỔ CHỨC THỰC HIỆN
1. Các chi bộ, đảng bộ cơ sở căn cứ Kế hoạch này xây dựng kế hoạch thực hiện, hoàn thành \
trước ngày 28/02/2025.
2. Ban Tuyên giáo Huyện ủy chủ trì, phối hợp với Văn phòng Huyện ủy theo dõi, đôn đốc, kiểm \
tra việc thực hiện; định kỳ 6 tháng báo cáo Ban Thường vụ Huyện ủy.
3. Giao Đảng ủy các xã, thị trấn chủ trì, phối hợp với UBND các xã, thị trấn tổ chức đại hội \
điểm trong quý II/2025; tổng kết, báo cáo kết quả trước ngày 15/12/2025.
4. Đề nghị Ủy ban MTTQ và Huyện Đoàn tuyên truyền sâu rộng trong đoàn viên, hội viên.

Nơi nhận:
- Ban Thường vụ Tỉnh ủy,
"""

SCHOOL = """\
PHÒNG GD&ĐT CẨM GIÀNG          CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
TRƯỜNG THCS CẨM VŨ             Độc lập - Tự do - Hạnh phúc

Số: 05/KH-THCS                  Cẩm Vũ, ngày 12 tháng 9 năm 2024

KẾ HOẠCH
Chuyển đổi số năm học 2024-2025

I. MỤC TIÊU
Ứng dụng công nghệ thông tin trong dạy học.

II. PHÂN CÔNG NHIỆM VỤ
1. Hiệu trưởng:
- Chỉ đạo chung, phê duyệt kế hoạch trước ngày 20/9/2024;
- Kiểm tra, đánh giá kết quả vào cuối học kỳ I.
2. Tổ chuyên môn:
- Xây dựng kho học liệu số, hoàn thành trong tháng 11/2024.
3. Giáo viên chủ nhiệm
Cập nhật sổ liên lạc điện tử hằng tháng.

III. KINH PHÍ
Từ nguồn chi thường xuyên của nhà trường.
"""

PROVINCE = """\
KẾ HOẠCH
Triển khai Đề án phát triển giáo dục mầm non giai đoạn 2024-2030

III. NHIỆM VỤ VÀ GIẢI PHÁP
1. Rà soát quy hoạch mạng lưới trường lớp.
- Cơ quan chủ trì: Phòng Giáo dục và Đào tạo.
- Cơ quan phối hợp: Phòng Tài nguyên và Môi trường, UBND các xã, thị trấn.
- Thời gian hoàn thành: Quý IV/2024.
2. Nâng cao chất lượng chăm sóc, giáo dục trẻ.
3. Bố trí kinh phí xây dựng phòng học.
- Cơ quan chủ trì: Phòng Tài chính - Kế hoạch.
- Thời gian hoàn thành: Hằng năm.
"""


def _plan(tmp_path: Path, draft: Callable[[Path], Draft], text: str) -> dict[str, Any]:
    """The parsed draft of a text document."""
    path = tmp_path / "plan.txt"
    path.write_text(text, encoding="utf-8")
    return yaml.safe_load(draft(path).text)


def _rows(plan: dict[str, Any]) -> list[tuple[Any, ...]]:
    """(id, owner, partners, due, request) of each task."""
    return [
        (t["id"], t["owner"], t.get("partners"), t["due"], t.get("request", False))
        for t in plan["tasks"]
    ]


def test_party_plan(tmp_path: Path, draft: Callable[[Path], Draft]) -> None:
    plan = _plan(tmp_path, draft, PARTY)
    assert (plan["code"], plan["number"], str(plan["issued"])) == (
        "KH-25-HU",
        "25-KH/HU",
        "2025-01-10",
    )
    assert plan["issuer"] == "HUYỆN ỦY CẨM GIÀNG"
    assert plan["implements"] == "12-KH/TU"
    assert plan["title"] == (
        "Kế hoạch thực hiện Chỉ thị số 35-CT/TW của Bộ Chính trị về đại hội đảng bộ các cấp"
    )
    assert plan["coordinator"] == "BTG_HU"  # it follows and reports on the whole plan
    assert _rows(plan) == [
        ("II.1", "CO_SO_DANG", None, "hoàn thành trước ngày 28/02/2025", False),
        ("II.2", "BTG_HU", ["Văn phòng Huyện ủy"], "định kỳ 6 tháng", False),
        # "Giao X chủ trì, phối hợp với Y": two deadlines, two tasks; the second clause names
        # no partner of its own.
        ("II.3a", "DANG_UY_XA", ["XA"], "trong quý II/2025", False),
        ("II.3b", "DANG_UY_XA", None, "trước ngày 15/12/2025", False),
        ("II.4", ["MTTQ", "HUYEN_DOAN"], None, None, True),
    ]


def test_school_plan_positions_stay_as_written(
    tmp_path: Path, draft: Callable[[Path], Draft]
) -> None:
    path = tmp_path / "plan.txt"
    path.write_text(SCHOOL, encoding="utf-8")
    result = draft(path)
    plan = yaml.safe_load(result.text)
    assert (plan["number"], plan["issuer"]) == ("05/KH-THCS", "TRƯỜNG THCS CẨM VŨ")
    assert _rows(plan) == [
        ("II.1.1", "Hiệu trưởng", None, "trước ngày 20/9/2024", False),
        ("II.1.2", "Hiệu trưởng", None, "vào cuối học kỳ I", False),
        ("II.2.1", "Tổ chuyên môn", None, "trong tháng 11/2024", False),
        ("II.3", "Giáo viên chủ nhiệm", None, "hằng tháng", False),
    ]
    unknown = [d for d in result.doubts if "không tìm thấy đơn vị «Hiệu trưởng»" in d.message]
    assert len(unknown) == 2


def test_labelled_lines_give_owner_partners_and_deadline(
    tmp_path: Path, draft: Callable[[Path], Draft]
) -> None:
    plan = _plan(tmp_path, draft, PROVINCE)
    assert plan["until"].isoformat() == "2030-12-31"
    # Item 2 names no unit at all: without a task section it is not taken for a task.
    assert _rows(plan) == [
        ("III.1", "PGDDT", ["PTNMT", "XA"], "Quý IV/2024", False),
        ("III.3", "PTCKH", None, "Hằng năm", False),
    ]


def test_a_clause_without_deadline_does_not_borrow_the_next_one(
    tmp_path: Path, draft: Callable[[Path], Draft]
) -> None:
    text = (
        "IV. TỔ CHỨC THỰC HIỆN\n"
        "1. Phòng Nội vụ\n"
        "Tham mưu kiện toàn Ban Chỉ đạo; xây dựng quy chế phối hợp trước ngày 15/3/2024; "
        "tổ chức sơ kết, báo cáo UBND huyện chậm nhất ngày 20/12/2024.\n"
    )
    plan = _plan(tmp_path, draft, text)
    assert [(t["id"], t["title"], t["due"]) for t in plan["tasks"]] == [
        ("IV.1a", "Tham mưu kiện toàn Ban Chỉ đạo", None),
        ("IV.1b", "Xây dựng quy chế phối hợp trước ngày 15/3/2024", "trước ngày 15/3/2024"),
        (
            "IV.1c",
            "Tổ chức sơ kết, báo cáo UBND huyện chậm nhất ngày 20/12/2024",
            "chậm nhất ngày 20/12/2024",
        ),
    ]


def test_an_unreadable_deadline_is_kept_and_flagged(
    tmp_path: Path, draft: Callable[[Path], Draft]
) -> None:
    text = (
        "IV. TỔ CHỨC THỰC HIỆN\n"
        "1. Phòng Nội vụ chủ trì rà soát biên chế. Thời gian thực hiện: càng sớm càng tốt\n"
    )
    path = tmp_path / "plan.txt"
    path.write_text(text, encoding="utf-8")
    result = draft(path)
    task = yaml.safe_load(result.text)["tasks"][0]
    assert task["owner"] == "PNV"
    assert task["due"] == "càng sớm càng tốt"
    assert any("càng sớm càng tốt" in d.message for d in result.doubts)

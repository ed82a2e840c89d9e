"""The summary `plan validate` and `plan import` end with: tasks by kind, nothing unreminded."""

from __future__ import annotations

from pathlib import Path

from plans.plan_file import load_plan_file
from plans.plan_spec import Directory
from plans.plan_summary import summarize

DIRECTORY = Directory(
    units=frozenset({"PGDDT", "PNV"}),
    groups={},
    names={"PGDDT": ("Phòng Giáo dục và Đào tạo",), "PNV": ("Phòng Nội vụ",)},
    retired={"PNV_CU": "PNV"},
)
PLAN = """\
code: KH-TEST
title: Kế hoạch thử
issued: 2023-09-05
coordinator: PGDDT
tasks:
  - {id: "1", title: Phổ biến, owner: PGDDT, due: trước ngày 20/9/2023}
  - {id: "2", title: Tổng hợp, owner: PGDDT, due: hằng năm}
  - {id: "3", title: Theo dõi, owner: PGDDT, due: Thường xuyên}
  - {id: "4", title: Báo cáo, owner: PGDDT, due: theo yêu cầu}
  - id: "5"
    title: Rà soát chính sách
    owner: PNV_CU
    partners: [doanh nghiệp viễn thông]
    due: không thời hạn
  - {id: "6", title: Hướng dẫn thủ tục, owner: PGDDT, due: không thời hạn}
"""


def test_the_summary_counts_each_kind_and_lists_what_is_never_reminded(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(PLAN, encoding="utf-8")
    summary = summarize(load_plan_file(path, DIRECTORY))
    assert summary.counts == {
        "dated": 1,
        "recurring": 1,
        "ongoing": 1,
        "on_request": 1,
        "undated": 2,
    }
    assert summary.lines() == [
        "Nhiệm vụ theo thời hạn: 1 có hạn một lần, 1 định kỳ, 1 thường xuyên, "
        "1 theo yêu cầu, 2 không thời hạn.",
        "Không thời hạn nên không được nhắc (2):",
        "  - 5: Rà soát chính sách",
        "  - 6: Hướng dẫn thủ tục",
        "Phối hợp ngoài danh bạ (chỉ hiển thị, không nhắc):",
        "  - 5: doanh nghiệp viễn thông",
        "Lưu ý:",
        f"  - {path}:12: tasks.owner: PNV_CU đã ngừng hoạt động, sáp nhập vào PNV: tính cho PNV",
    ]

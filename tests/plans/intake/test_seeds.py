"""The seed documents drafted and scored as a careful operator would check them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from plans.intake.draft import Draft
from tests.plans.intake.conftest import DATA

SEEDS = (
    ("ke-hoach-thuc-hien-ket-luan-giao-duc.txt", "ke-hoach-thuc-hien-ket-luan-giao-duc"),
    ("phu-luc-nhiem-vu-kh-315-KH-HU.docx", "phu-luc-nhiem-vu-kh-315-KH-HU.docx"),
    ("phu-luc-nhiem-vu-kh-315-KH-HU.txt", "phu-luc-nhiem-vu-kh-315-KH-HU"),
)


@pytest.mark.parametrize(("document", "expected"), SEEDS)
def test_seed_scores_at_least_90_percent_exact(
    document: str,
    expected: str,
    draft: Callable[[Path], Draft],
    score: Callable[[Path, Path], tuple[int, int, str]],
    tmp_path: Path,
) -> None:
    out = tmp_path / "draft.yaml"
    out.write_text(draft(DATA / document).text, encoding="utf-8")
    exact, total, report = score(out, DATA / f"{expected}.expected.yaml")
    print(report)
    assert exact / total >= 0.9, report


def test_same_document_same_draft(draft: Callable[[Path], Draft]) -> None:
    first = draft(DATA / "ke-hoach-thuc-hien-ket-luan-giao-duc.txt")
    second = draft(DATA / "ke-hoach-thuc-hien-ket-luan-giao-duc.txt")
    assert first.text == second.text


def test_district_plan_draft_reads_as_the_operator_would(draft: Callable[[Path], Draft]) -> None:
    result = draft(DATA / "ke-hoach-thuc-hien-ket-luan-giao-duc.txt")
    plan = yaml.safe_load(result.text)
    assert plan["title"].startswith("Kế hoạch tổ chức thực hiện Kết luận")
    assert plan["issued"] is None  # the document prints no date: a doubt, not a guess
    assert plan["coordinator"] == "PGDDT"
    tasks = {t["id"]: t for t in plan["tasks"]}
    assert all(t["id"].startswith("IV.") for t in plan["tasks"])  # section III restates goals
    assert tasks["IV.1.1"]["source"] == "dòng 237"
    assert tasks["IV.9"]["owner"] == ["MTTQ", "BTG_HU", "DOAN_THE"]
    assert tasks["IV.9"]["request"] is True
    assert tasks["IV.10"]["owner"] == ["XA", "TRUONG"]
    assert tasks["IV.1.4"]["partners"] == ["PNV"]
    # Phòng Nội vụ: one paragraph, two deadlines → two tasks, each with its own deadline.
    assert (tasks["IV.2a"]["due"], tasks["IV.2b"]["due"]) == (
        "trước tháng 12 hằng năm",
        "trước ngày khai giảng hàng năm",
    )
    lines = result.text.splitlines()
    for doubt in result.doubts:
        assert "# KIỂM TRA:" in lines[doubt.line - 1] and doubt.message in lines[doubt.line - 1]
    flagged = [line for line in lines if "# KIỂM TRA:" in line]
    assert len(flagged) == len({d.line for d in result.doubts})


def test_appendix_header_gives_number_and_date(draft: Callable[[Path], Draft]) -> None:
    plan = yaml.safe_load(draft(DATA / "phu-luc-nhiem-vu-kh-315-KH-HU.docx").text)
    assert (plan["code"], plan["number"], str(plan["issued"])) == (
        "KH-315-HU",
        "315-KH/HU",
        "2024-11-29",
    )
    assert plan["issuer"] == "Ban Thường vụ Huyện ủy"
    owners = [t["owner"] for t in plan["tasks"]]
    assert owners == ["CO_SO_DANG", "DANG_UY_XA", "HDND"] + ["UBND"] * 6

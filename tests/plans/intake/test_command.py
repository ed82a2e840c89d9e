"""`dondoc plan draft` as the operator runs it, then `plan validate` on the draft."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from tests.plans.intake.conftest import DATA

runner = CliRunner()

DISTRICT_PLAN = """\
ỦY BAN NHÂN DÂN                 CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
HUYỆN CẨM GIÀNG                 Độc lập - Tự do - Hạnh phúc

Số: 47/KH-UBND                  Cẩm Giàng, ngày 05 tháng 3 năm 2024

KẾ HOẠCH
Triển khai chuyển đổi số trong các trường học

I. MỤC ĐÍCH, YÊU CẦU

Ứng dụng công nghệ thông tin trong quản lý và dạy học.

II. TỔ CHỨC THỰC HIỆN

1. Phòng Giáo dục và Đào tạo

Là cơ quan đầu mối, theo dõi, đôn đốc, tổng hợp kết quả thực hiện, báo cáo UBND huyện \
trước ngày 15/12/2024.

2. Phòng Tài chính - Kế hoạch

Tham mưu bố trí kinh phí thực hiện Kế hoạch trong quý II/2024.

3. Giao Phòng Văn hóa và Thông tin chủ trì, phối hợp với Phòng Giáo dục và Đào tạo tuyên \
truyền về chuyển đổi số, hoàn thành trước ngày 30/6/2024.

Nơi nhận:
- UBND tỉnh;
"""


@pytest.fixture
def cli_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the command line at the test database."""
    monkeypatch.setenv("DONDOC_DATABASE_URL", database_url)
    return database_url


def test_draft_lists_every_doubt_with_its_line(tmp_path: Path) -> None:
    out = tmp_path / "draft.yaml"
    document = DATA / "ke-hoach-thuc-hien-ket-luan-giao-duc.txt"
    units = DATA / "units-cam-giang.yaml"
    result = runner.invoke(
        app, ["plan", "draft", str(document), "--units", str(units), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8").splitlines()
    flagged = [n for n, line in enumerate(lines, start=1) if "# KIỂM TRA:" in line]
    listed = [line for line in result.stdout.splitlines() if line.startswith(f"  {out}:")]
    assert flagged and sorted({int(line.split(":")[1]) for line in listed}) == flagged
    assert f"{len(listed)} chỗ cần kiểm tra" in result.stdout


def test_draft_of_old_word_file_says_what_to_do(tmp_path: Path) -> None:
    document = tmp_path / "ke-hoach.doc"
    document.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    units = DATA / "units-cam-giang.yaml"
    result = runner.invoke(app, ["plan", "draft", str(document), "--units", str(units)])
    assert result.exit_code == 2
    assert ".docx" in result.stderr
    assert not (tmp_path / "ke-hoach.draft.yaml").exists()


def test_draft_without_units_says_how_to_import_them(cli_env: str, tmp_path: Path) -> None:
    document = tmp_path / "ke-hoach.txt"
    document.write_text(DISTRICT_PLAN, encoding="utf-8")
    result = runner.invoke(app, ["plan", "draft", str(document)])
    assert result.exit_code == 2
    assert "units import" in result.stderr


def test_a_draft_without_doubts_validates(cli_env: str, tmp_path: Path) -> None:
    imported = runner.invoke(app, ["units", "import", str(DATA / "units-cam-giang.yaml")])
    assert imported.exit_code == 0, imported.output
    document = tmp_path / "ke-hoach.txt"
    document.write_text(DISTRICT_PLAN, encoding="utf-8")
    result = runner.invoke(app, ["plan", "draft", str(document)])  # units from the database
    assert result.exit_code == 0, result.output
    draft = tmp_path / "ke-hoach.draft.yaml"
    assert "0 chỗ cần kiểm tra" in result.stdout, draft.read_text(encoding="utf-8")
    validated = runner.invoke(app, ["plan", "validate", str(draft)])
    assert validated.exit_code == 0, validated.output
    assert "KH-47-UBND — 3 nhiệm vụ" in validated.stdout

"""Hostile units and plan files given to the command line: refused at once, nothing written."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from bot.cli import app
from tests.plans.test_units_file import laughs
from tests.utils.db import snapshot

runner = CliRunner()


@pytest.fixture
def imported(database_url: str, monkeypatch: pytest.MonkeyPatch, examples: Path) -> None:
    """The command line on the test database, with the example units and a plan imported."""
    monkeypatch.setenv("DONDOC_DATABASE_URL", database_url)
    assert runner.invoke(app, ["units", "import", str(examples / "units.yaml")]).exit_code == 0
    assert runner.invoke(app, ["plan", "import", str(examples / "kh-315-hu.yaml")]).exit_code == 0


@pytest.mark.parametrize(
    ("command", "name", "text", "refusal"),
    [
        ("units", "units.yaml", laughs(6), ":1: -: không được dùng neo YAML (&a0)"),
        (
            "units",
            "units.csv",
            'code,name,parent,groups,aliases\nPGDDT,"Phòng GD&ĐT,,,\nPNV,Phòng Nội vụ,UBND,,\n',
            ":2: -: dấu ngoặc kép chưa đóng",
        ),
        (  # VP_HU is stored under HUYEN_UY: the file would put HUYEN_UY under VP_HU
            "units",
            "units.yaml",
            "units:\n  - code: HUYEN_UY\n    name: Huyện ủy\n    parent: VP_HU\n",
            ":4: units.parent: đơn vị HUYEN_UY là cấp trên của chính nó: "
            "HUYEN_UY → VP_HU → HUYEN_UY",
        ),
        (
            "plan",
            "plan.yaml",
            "code: KH-315-HU\ntasks: &t [*t]\n",
            ":2: -: không được dùng neo YAML (&t)",
        ),
    ],
    ids=["billion-laughs", "open-quote", "cycle-through-stored-units", "self-alias-plan"],
)
def test_hostile_file_is_refused_quickly_and_changes_nothing(
    imported: None, engine: Engine, tmp_path: Path, command: str, name: str, text: str, refusal: str
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    before = snapshot(engine)
    started = time.perf_counter()
    result = runner.invoke(app, [command, "import", str(path)])
    elapsed = time.perf_counter() - started
    assert result.exit_code == 2
    assert f"{path}{refusal}" in result.stderr
    assert "Không ghi gì vào cơ sở dữ liệu" in result.stderr
    assert snapshot(engine) == before
    assert elapsed < 1.0  # the command includes opening the database

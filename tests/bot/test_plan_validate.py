"""`dondoc plan validate` ends with the plan's summary: nothing is left silently unreminded."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from bot.cli import app

runner = CliRunner()


@pytest.fixture
def cli_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the command line at the test database."""
    monkeypatch.setenv("DONDOC_DATABASE_URL", database_url)
    return database_url


def test_validate_lists_the_tasks_nothing_reminds_of(
    cli_env: str, examples: Path, engine: Engine
) -> None:
    assert runner.invoke(app, ["units", "import", str(examples / "units.yaml")]).exit_code == 0
    result = runner.invoke(app, ["plan", "validate", str(examples / "kh-gddt-2023.yaml")])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "Hợp lệ: KH-GDDT-2023 — 18 nhiệm vụ." in lines
    assert (
        "Nhiệm vụ theo thời hạn: 3 có hạn một lần, 7 định kỳ, 2 thường xuyên, 1 theo yêu cầu, "
        "5 không thời hạn." in " ".join(lines)
    )
    assert "Không thời hạn nên không được nhắc (5):" in lines
    listed = [line.split(":")[0].strip(" -") for line in lines if line.startswith("  - IV.")]
    assert listed == ["IV.1.2", "IV.3.3", "IV.5", "IV.6", "IV.8"]

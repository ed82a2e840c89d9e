"""The command line as an operator uses it: due, import, validate, invite."""

from __future__ import annotations

import csv
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from bot.cli import app
from plans.clock import DEFAULT_TIMEZONE, set_timezone
from storage.models import Outbox
from tests.utils.db import snapshot
from tests.utils.world import build_world

TSVS = [
    Path(__file__).resolve().parents[1] / "plans" / "data" / name
    for name in ("deadlines.tsv", "deadlines-2.tsv")
]
runner = CliRunner()


def worked_examples() -> list[list[str]]:
    """Rows of the worked deadline examples."""
    rows: list[list[str]] = []
    for tsv in TSVS:
        with tsv.open(encoding="utf-8") as handle:
            rows += [r for r in csv.reader(handle, delimiter="\t") if r and r[0][:1] != "#"]
    return rows


@pytest.mark.parametrize(("expression", "issued", "until", "expected"), worked_examples())
def test_due_prints_every_worked_example(
    expression: str, issued: str, until: str, expected: str
) -> None:
    result = runner.invoke(app, ["due", expression, "--issued", issued, "--until", until])
    if expected == "ERROR":
        assert result.exit_code == 2
        assert expression in result.stderr
        assert result.stdout == ""
        return
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == expected.split()


def test_due_bad_issued_date_exits_2() -> None:
    result = runner.invoke(app, ["due", "Hằng năm", "--issued", "2025-13-01"])
    assert result.exit_code == 2


@pytest.fixture
def cli_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the command line at the test database."""
    monkeypatch.setenv("DONDOC_DATABASE_URL", database_url)
    return database_url


def test_import_examples_and_show(cli_env: str, examples: Path, engine: Engine) -> None:
    assert runner.invoke(app, ["units", "import", str(examples / "units.yaml")]).exit_code == 0
    for plan in ("kh-gddt-2023.yaml", "kh-315-hu.yaml"):
        result = runner.invoke(app, ["plan", "import", str(examples / plan)])
        assert result.exit_code == 0, result.output
    listed = runner.invoke(app, ["plan", "list"]).stdout
    assert "KH-315-HU" in listed and "KH-GDDT-2023" in listed
    shown = runner.invoke(app, ["plan", "show", "KH-315-HU"]).stdout
    assert "III.5" in shown and "Hàng năm" in shown
    again = runner.invoke(app, ["plan", "import", str(examples / "kh-315-hu.yaml")]).stdout
    assert "không thay đổi" in again


def test_malformed_plan_is_refused_and_nothing_changes(
    cli_env: str, examples: Path, engine: Engine, tmp_path: Path
) -> None:
    runner.invoke(app, ["units", "import", str(examples / "units.yaml")])
    runner.invoke(app, ["plan", "import", str(examples / "kh-315-hu.yaml")])
    before = snapshot(engine)
    bad = tmp_path / "bad.yaml"
    text = (examples / "kh-315-hu.yaml").read_text(encoding="utf-8")
    bad.write_text(text.replace("due: Hàng năm", "due: 32/13/2026", 1), encoding="utf-8")
    lines = bad.read_text(encoding="utf-8").splitlines()
    line = next(n for n, text in enumerate(lines, 1) if "32/13/2026" in text)
    for command in (["plan", "validate", str(bad)], ["plan", "import", str(bad)]):
        result = runner.invoke(app, command)
        assert result.exit_code == 2
        assert f"{bad}:{line}: tasks.due:" in result.stderr
        assert "32/13/2026" in result.stderr
    assert snapshot(engine) == before


def test_malformed_units_file_changes_nothing(
    cli_env: str, examples: Path, engine: Engine, tmp_path: Path
) -> None:
    runner.invoke(app, ["units", "import", str(examples / "units.yaml")])
    before = snapshot(engine)
    bad = tmp_path / "units.csv"
    shutil.copy(examples / "units.csv", bad)
    with bad.open("a", encoding="utf-8") as handle:
        handle.write("BAD CODE,Đơn vị lỗi,,,\n")
    result = runner.invoke(app, ["units", "import", str(bad)])
    assert result.exit_code == 2
    assert re.search(rf"{re.escape(str(bad))}:\d+: code: .*BAD CODE", result.stderr)
    assert snapshot(engine) == before


def test_invite_prints_link_and_zalo_text(cli_env: str, examples: Path) -> None:
    runner.invoke(app, ["units", "import", str(examples / "units.yaml")])
    result = runner.invoke(app, ["invite", "THCS_CAM_VU", "--role", "contact"])
    assert result.exit_code == 0, result.output
    link = re.search(r"https://t\.me/\w+\?start=([A-Za-z0-9_-]{1,64})\b", result.stdout)
    assert link is not None
    assert f"DK {link.group(1)}" in result.stdout
    assert runner.invoke(app, ["invite", "NOPE", "--role", "contact"]).exit_code == 2
    assert runner.invoke(app, ["invite", "PGDDT", "--role", "king"]).exit_code == 2


@pytest.fixture
def zone_restored() -> Iterator[None]:
    """The process-wide local zone goes back to the default after the test."""
    yield
    set_timezone(DEFAULT_TIMEZONE)


@pytest.mark.usefixtures("zone_restored")
@pytest.mark.parametrize(
    ("zone", "reminder_at"),
    [
        ("Asia/Ho_Chi_Minh", datetime(2026, 11, 27, 1, tzinfo=UTC)),
        ("Asia/Tokyo", datetime(2026, 11, 26, 23, tzinfo=UTC)),
        ("UTC", datetime(2026, 11, 27, 8, tzinfo=UTC)),
    ],
)
def test_tick_plans_in_the_configured_zone(
    cli_env: str,
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    zone: str,
    reminder_at: datetime,
) -> None:
    build_world(engine, tmp_path, now=datetime(2026, 11, 2, 3, tzinfo=UTC), schools=1)
    monkeypatch.setenv("DONDOC_TIMEZONE", zone)
    result = runner.invoke(app, ["tick", "--now", "2026-11-27T09:00"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("27/11/2026 09:00: lập 1 nhắc việc")
    with Session(engine) as session:
        row = session.exec(select(Outbox).where(Outbox.kind == "reminder")).one()
    # Due Monday 30/11: the reminder of the day before moves to Friday 27/11, 08:00 local time.
    assert (row.step, row.planned_for) == ("before-1", reminder_at)

"""The command line as a newcomer meets it: fresh clone, empty or missing database, typos."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from rich.cells import cell_len
from typer.testing import CliRunner

from bot.cli import app
from storage.db import make_engine, sqlite_file
from storage.schema import alembic_config, current_revision, migrate

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()
# Libraries a command that needs none of them must not pay for at start-up.
HEAVY = (
    "matplotlib",
    "telegram",
    "aiohttp",
    "tornado",
    "apscheduler",
    "docx",
    "openpyxl",
    "jinja2",
    "pdfplumber",
    "sqlalchemy",
    "sqlmodel",
    "alembic",
    "httpx",
    "psycopg",
    "numpy",
)
VIETNAMESE = re.compile("[àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ]")


def loaded_after(statements: str) -> list[str]:
    """The HEAVY modules a fresh interpreter holds after running `statements`."""
    code = f"import json, sys\n{statements}\nprint(json.dumps(sorted(set(sys.modules))))"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    modules = json.loads(done.stdout.splitlines()[-1])
    return [name for name in HEAVY if name in modules]


@pytest.mark.slow  # a subprocess
def test_importing_the_command_line_loads_no_heavy_library() -> None:
    assert loaded_after("import bot.cli") == []


@pytest.mark.slow  # a subprocess
@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["due", "trước ngày 20/9/2023", "--issued", "2023-08-01"],
        [
            "plan",
            "validate",
            "plans/examples/kh-gddt-2023.yaml",
            "--units",
            "plans/examples/units.yaml",
        ],
    ],
)
def test_quick_commands_load_no_heavy_library(args: list[str]) -> None:
    statements = (
        "from typer.testing import CliRunner\nfrom bot.cli import app\n"
        f"result = CliRunner().invoke(app, {args!r})\n"
        "assert result.exit_code == 0, result.output"
    )
    assert loaded_after(statements) == []


@pytest.fixture
def cli_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the command line at the test database (created by nothing yet), no channel on."""
    monkeypatch.setenv("DONDOC_DATABASE_URL", database_url)
    for token in ("TELEGRAM_BOT_TOKEN", "ZALO_BOT_TOKEN"):
        monkeypatch.delenv(token, raising=False)
    return database_url


def revision_left(url: str) -> str | None:
    """The schema revision of the test database; None when it was not created either."""
    path = sqlite_file(url)
    if path is not None and not path.exists():
        return None
    engine = make_engine(url)
    try:
        return current_revision(engine)
    finally:
        engine.dispose()


READ_ONLY = [
    ["plan", "validate", "plans/examples/kh-gddt-2023.yaml"],
    ["plan", "list"],
    ["plan", "show", "KH-315-HU"],
    ["status"],
    ["report", "KH-315-HU", "--out", "{tmp}/bao-cao.md"],
    ["doctor", "--timeout", "0.1"],
]


@pytest.mark.parametrize("args", READ_ONLY, ids=lambda args: " ".join(args[:2]))
def test_read_only_commands_never_create_the_database(
    cli_env: str, tmp_path: Path, args: list[str]
) -> None:
    result = runner.invoke(app, [a.format(tmp=tmp_path) for a in args])
    assert result.exit_code in (1, 2)
    assert "dondoc init" in result.output
    assert "Traceback" not in result.output
    assert revision_left(cli_env) is None


@pytest.mark.parametrize("args", READ_ONLY, ids=lambda args: " ".join(args[:2]))
def test_read_only_commands_never_migrate_an_old_schema(
    cli_env: str, tmp_path: Path, args: list[str]
) -> None:
    engine = make_engine(cli_env)
    migrate(engine, "0001")
    engine.dispose()
    result = runner.invoke(app, [a.format(tmp=tmp_path) for a in args])
    assert result.exit_code in (1, 2)
    assert "0001" in result.output and "dondoc init" in result.output
    assert revision_left(cli_env) == "0001"


def test_validate_on_a_fresh_database_says_to_import_the_units(cli_env: str) -> None:
    assert runner.invoke(app, ["init"]).exit_code == 0
    result = runner.invoke(app, ["plan", "validate", "plans/examples/kh-gddt-2023.yaml"])
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()  # one line, not one per task
    assert "Chưa nhập đơn vị nào" in line
    assert "dondoc units import" in line and "--units" in line


def test_validate_against_a_units_file_needs_no_database(cli_env: str) -> None:
    args = ["plan", "validate", "plans/examples/kh-gddt-2023.yaml"]
    result = runner.invoke(app, [*args, "--units", "plans/examples/units.csv"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Hợp lệ: KH-GDDT-2023")
    assert revision_left(cli_env) is None


def run_dondoc(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The real `python -m bot` on the test database."""
    env = {**os.environ, "DONDOC_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )


@pytest.mark.slow  # a subprocess
def test_migration_steps_are_logged_only_with_verbose(database_url: str) -> None:
    from alembic import command

    quiet = run_dondoc(database_url, "init")
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == ""
    engine = make_engine(database_url)
    command.downgrade(alembic_config(engine), "0001")  # so that there is an upgrade to show
    engine.dispose()
    verbose = run_dondoc(database_url, "--verbose", "init")
    assert verbose.returncode == 0, verbose.stderr
    assert "Running upgrade 0001 -> 0002" in verbose.stderr


def write(folder: Path, name: str, text: str) -> Path:
    """A file in `folder` with `text`."""
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


PLAN_START = "code: KH-1\ntitle: Kế hoạch thử\n"


@pytest.mark.parametrize(
    ("text", "where", "says"),
    [
        (PLAN_START + "number: Số 1: năm 2023\n", "3:13: number", "dấu ':' không được đặt"),
        (PLAN_START + 'number: "12/KH\nissued: 2023-01-01\n', "3:9: number", "ngoặc kép"),
        (PLAN_START + "tasks:\n\t- id: 1\n", "4:1: id", "có ký tự tab"),
        (PLAN_START + "issued: 2023-02-30\n", "3:9: issued", "ngày không có thật: 2023-02-30"),
        (
            PLAN_START + "issued: 2023-01-05\ncoordinator: PGDDT\ntasks:\n"
            "  - id: '1'\n    title: Báo cáo\n    owner: PGDDT\n    due: 2023-13-01\n",
            "9:10: tasks.due",
            "ngày không có thật: 2023-13-01",
        ),
    ],
    ids=["colon", "quote", "tab", "issued", "due"],
)
def test_yaml_and_date_errors_are_vietnamese_with_line_column_and_field(
    tmp_path: Path, text: str, where: str, says: str
) -> None:
    plan = write(tmp_path, "plan.yaml", text)
    units = "plans/examples/units.yaml"
    result = runner.invoke(app, ["plan", "validate", str(plan), "--units", units])
    assert result.exit_code == 2
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"{plan}:{where}: ")
    assert says in first


def test_due_names_the_bad_date_option() -> None:
    result = runner.invoke(app, ["due", "Hằng năm", "--issued", "2023-01-05", "--until", "x"])
    assert result.exit_code == 2
    assert result.stderr.startswith("--until: ngày không hợp lệ: x (cần YYYY-MM-DD")


@pytest.fixture
def imported(cli_env: str, examples: Path) -> Iterator[str]:
    """The example units and the KH-315-HU plan, imported through the command line."""
    assert runner.invoke(app, ["units", "import", str(examples / "units.yaml")]).exit_code == 0
    result = runner.invoke(app, ["plan", "import", str(examples / "kh-315-hu.yaml")])
    assert result.exit_code == 0, result.output
    yield "KH-315-HU"


def test_report_format_comes_from_the_file_name(imported: str, tmp_path: Path) -> None:
    target = tmp_path / "bao-cao.html"
    result = runner.invoke(app, ["report", imported, "--out", str(target), "--at", "2024-01-15"])
    assert result.exit_code == 0, result.output
    assert "(html," in result.stdout
    assert target.read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html")


@pytest.mark.parametrize(
    ("out", "extra", "says"),
    [
        ("bao-cao.docx", ["--format", "md"], "--format md không khớp đuôi tệp bao-cao.docx"),
        ("bao-cao.txt", [], "Không biết ghi bao-cao.txt theo định dạng nào"),
        ("khong-co/bao-cao.docx", [], "Không có thư mục"),
    ],
    ids=["mismatch", "unknown-suffix", "missing-folder"],
)
def test_report_refuses_a_bad_target_in_one_line(
    cli_env: str, tmp_path: Path, out: str, extra: list[str], says: str
) -> None:
    target = tmp_path / out
    result = runner.invoke(app, ["report", "KH-315-HU", "--out", str(target), *extra])
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert says in line
    assert not target.exists()


def test_status_on_an_empty_database_says_no_plan_is_imported(cli_env: str) -> None:
    assert runner.invoke(app, ["init"]).exit_code == 0
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 0
    assert result.stdout.startswith("Chưa nhập kế hoạch nào.")
    assert "dondoc plan import" in result.stdout


def test_status_fits_80_columns_and_cuts_no_code(
    imported: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    for args in (["status"], ["status", imported, "--unit", "UBND"]):
        result = runner.invoke(app, [*args, "--at", "2024-01-15"])
        assert result.exit_code == 0, result.output
        lines = result.stdout.splitlines()
        assert max(cell_len(line) for line in lines) <= 80
        assert "…" not in result.stdout  # nothing cut: long codes and names wrap
    assert "Tình trạng" in result.stdout  # the unit's rows, drilled down


def test_every_help_text_is_vietnamese() -> None:
    english: list[str] = []
    for path, command in commands(typer.main.get_command(app)):
        if not VIETNAMESE.search(command.help or ""):
            english.append(f"{path}: {command.help}")
        for param in command.params:
            text = getattr(param, "help", None)
            if param.name != "help" and not VIETNAMESE.search(text or ""):
                english.append(f"{path} {param.name}: {text}")
    assert english == []


def commands(group: typer.core.TyperGroup, path: str = "dondoc") -> Iterator[tuple[str, Any]]:
    """Every command and group under `group`, with its path."""
    yield path, group
    for name, command in group.commands.items():
        if isinstance(command, typer.core.TyperGroup):
            yield from commands(command, f"{path} {name}")
        else:
            yield f"{path} {name}", command

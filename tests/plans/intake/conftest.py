"""Fixtures of plan intake: the seed documents, their units, drafting and scoring helpers."""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import matplotlib
import pytest
from typer.testing import CliRunner

from bot.cli import app
from plans.intake.draft import Draft, draft_plan
from plans.intake.owners import UnitIndex
from plans.units_file import load_units_file

DATA = Path(__file__).resolve().parent / "data"
SCORER = Path(__file__).resolve().parents[3] / "tools" / "score_plan_draft.py"
TODAY = date(2025, 1, 6)


@pytest.fixture(scope="session")
def units() -> UnitIndex:
    """The units the seed documents are scored against (Cẩm Giàng)."""
    return UnitIndex.from_units_file(load_units_file(DATA / "units-cam-giang.yaml"))


@pytest.fixture
def draft(units: UnitIndex) -> Callable[[Path], Draft]:
    """Draft a document against the Cẩm Giàng units."""
    return lambda path: draft_plan(path, units, today=TODAY)


class _DueInProcess:
    """Stands in for the scorer's subprocess module: `dondoc due` run in this process, the same
    command the scorer calls, without a Python start-up per task."""

    @staticmethod
    def run(args: list[str], **_: Any) -> SimpleNamespace:
        result = CliRunner().invoke(app, args[1:])
        return SimpleNamespace(returncode=result.exit_code, stdout=result.stdout)


def _scorer() -> ModuleType:
    """tools/score_plan_draft.py, loaded as a module."""
    spec = importlib.util.spec_from_file_location("score_plan_draft", SCORER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.subprocess = _DueInProcess  # type: ignore[attr-defined]
    return module


@pytest.fixture
def score(capsys: pytest.CaptureFixture[str]) -> Callable[[Path, Path], tuple[int, int, str]]:
    """Score a draft file against an expected file: (exact, total, the scorer's report)."""
    scorer = _scorer()

    def run(draft_path: Path, expected: Path) -> tuple[int, int, str]:
        capsys.readouterr()
        scorer.main([str(draft_path), str(expected), "--dondoc=dondoc"])
        report = capsys.readouterr().out
        match = re.search(r"^exact (\d+)/(\d+)$", report, re.MULTILINE)
        assert match, report
        return int(match[1]), int(match[2]), report

    return run


def font() -> Path:
    """A TrueType font with Vietnamese letters (DejaVu Sans ships with matplotlib)."""
    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"


def write_pdf(path: Path, content: list[str | list[list[str]]]) -> Path:
    """A PDF with a text layer: paragraphs (first line indented, justified) and ruled tables."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

    pdfmetrics.registerFont(TTFont("DejaVu", str(font())))
    body = ParagraphStyle("body", fontName="DejaVu", fontSize=11, leading=15, firstLineIndent=28)
    body.alignment = 4  # justified, as plans are printed
    cell = ParagraphStyle("cell", fontName="DejaVu", fontSize=9, leading=11)
    story: list[Any] = []
    for item in content:
        if isinstance(item, str):
            story.append(Paragraph(item, body))
            continue
        table = Table([[Paragraph(text, cell) for text in row] for row in item])
        table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black)]))
        story.append(table)
    SimpleDocTemplate(str(path), pagesize=A4).build(story)
    return path

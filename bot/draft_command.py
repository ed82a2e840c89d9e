"""`dondoc plan draft`: a plan's document (DOCX, PDF, text) read into a draft plan file."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from bot.report_commands import SessionFactory
from plans.errors import InputFileError
from plans.intake import texts
from plans.intake.document import IntakeError

if TYPE_CHECKING:
    from plans.intake.owners import UnitIndex

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def register(plan_app: typer.Typer, open_session: SessionFactory) -> None:
    """Add `plan draft` to the `plan` commands."""

    @plan_app.command("draft", help="Đọc văn bản kế hoạch (.docx, .pdf, .txt) thành bản nháp YAML.")
    def plan_draft(
        document: Annotated[Path, typer.Argument(help="tệp .docx, .pdf, .txt hoặc .md")],
        units: Annotated[
            Path | None,
            typer.Option("--units", help="danh mục đơn vị (YAML/CSV); mặc định: cơ sở dữ liệu"),
        ] = None,
        out_file: Annotated[
            Path | None,
            typer.Option("--out", "-o", help="bản nháp sẽ ghi (mặc định: TÊN.draft.yaml)"),
        ] = None,
    ) -> None:
        """Read a plan's document into a draft plan file to check, then validate and import."""
        # The reader's libraries (python-docx, pdfplumber, rapidfuzz) load only for this command.
        from plans.intake.draft import draft_plan

        index = _units(units, open_session)
        target = out_file or document.with_name(f"{document.stem}.draft.yaml")
        try:
            draft = draft_plan(document, index, today=date.today())
        except IntakeError as exc:
            err.print(str(exc), markup=False)
            raise typer.Exit(2) from None
        target.write_text(draft.text, encoding="utf-8")
        out.print(
            texts.DRAFT_WRITTEN.format(path=target, tasks=draft.tasks, doubts=len(draft.doubts)),
            markup=False,
        )
        if not draft.doubts:
            out.print(texts.NO_DOUBTS.format(path=target), markup=False)
            return
        out.print(texts.DOUBTS_HEADER, markup=False)
        for doubt in draft.doubts:
            line = texts.DOUBT_LINE.format(path=target, line=doubt.line, message=doubt.message)
            out.print(line, markup=False)


def _units(path: Path | None, open_session: SessionFactory) -> UnitIndex:
    """The units to resolve owners against: a file, or the database's."""
    from plans.intake.owners import UnitIndex
    from plans.units_file import load_units_file

    if path is not None:
        try:
            return UnitIndex.from_units_file(load_units_file(path))
        except InputFileError as exc:
            for problem in exc.problems:
                err.print(str(problem), markup=False)
            raise typer.Exit(2) from None
    with open_session() as session:
        index = UnitIndex.from_session(session)
    if not index.entries:
        err.print(texts.NO_UNITS, markup=False)
        raise typer.Exit(2)
    return index

"""The operator's guide (docs/) cannot drift from the program: every command it names exists,
every example file it shows is accepted, every page is linked, every setting is in the README."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer.main

from bot.cli import app
from bot.settings import Settings
from handlers.commands import COMMANDS
from plans.plan_file import load_plan_file
from plans.plan_spec import Directory
from plans.units_file import load_units_file

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))
EXAMPLE_UNITS = ROOT / "plans" / "examples" / "units.yaml"

# A chat command: "/viec", not a path ("docs/x.md"), a date ("20/9") or a link ("t.me/bot").
SLASH_COMMAND = re.compile(r"(?<![\w/.:\-])/([a-z]+)\b")
CODE_SPAN = re.compile(r"`([^`\n]+)`")
CODE_BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.DOTALL | re.MULTILINE)
LINK = re.compile(r"\]\(([^)#\s]+)")


def text_of(page: Path) -> str:
    """A page's Markdown."""
    return page.read_text(encoding="utf-8")


def cli_lines(text: str) -> list[str]:
    """Every `dondoc …` command a page shows, in code spans and in code blocks."""
    lines = [span for span in CODE_SPAN.findall(text) if span.startswith("dondoc ")]
    for _, block in CODE_BLOCK.findall(text):
        for line in block.splitlines():
            line = line.split(" #")[0].strip()
            if line.startswith("dondoc "):
                lines.append(line)
    return lines


def unknown_cli_words(line: str) -> list[str]:
    """The subcommands and options of a `dondoc …` line that the Typer app does not have."""
    command: Any = typer.main.get_command(app)  # a Click command, from Typer's own copy
    unknown = []
    for word in shlex.split(line)[1:]:
        if word.startswith("-"):
            options = {opt for param in command.params for opt in param.opts}
            if word.split("=")[0] not in options | {"--help"}:
                unknown.append(word)
        elif hasattr(command, "commands"):  # a group: the word is a subcommand
            sub = command.commands.get(word)
            if sub is None:
                unknown.append(word)
                break
            command = sub
    return unknown


def test_the_guide_has_its_pages() -> None:
    """The index, the two files, the deadline forms, the policy and the three one-page guides."""
    names = {page.name for page in PAGES}
    assert names >= {
        "README.md",
        "don-vi.md",
        "ke-hoach.md",
        "han-thoi-gian.md",
        "nhac-viec.md",
        "dau-moi.md",
        "lanh-dao.md",
        "dieu-phoi.md",
    }


def test_every_page_is_reached_from_the_index_and_every_link_resolves() -> None:
    """No orphan page, no dead link."""
    index = set(LINK.findall(text_of(DOCS / "README.md")))
    assert {page.name for page in PAGES if page.name != "README.md"} <= index
    for page in PAGES:
        for target in LINK.findall(text_of(page)):
            if "://" not in target:
                assert (page.parent / target).exists(), f"{page.name}: dead link {target}"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_chat_command_named_exists(page: Path) -> None:
    """Each `/command` of a page is one the bot answers (handlers/commands.py)."""
    named = set(SLASH_COMMAND.findall(text_of(page)))
    assert named - COMMANDS == set(), f"{page.name} names commands the bot does not have"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_dondoc_command_named_exists(page: Path) -> None:
    """Each `dondoc …` line of a page uses subcommands and options the CLI has."""
    for line in cli_lines(text_of(page)):
        assert unknown_cli_words(line) == [], f"{page.name}: {line}"


def test_the_command_checks_can_fail() -> None:
    """A made-up chat command or CLI option is caught."""
    assert SLASH_COMMAND.findall("gõ /baocao hoặc /chamdiem, xem docs/x.md ngày 20/9") == [
        "baocao",
        "chamdiem",
    ]
    assert unknown_cli_words("dondoc plan import x.yaml --force") == ["--force"]
    assert unknown_cli_words("dondoc units delete X") == ["delete"]


def yaml_blocks(starting: str) -> list[tuple[str, str]]:
    """(page name, text) of every YAML code block that starts with `starting`."""
    return [
        (page.name, block)
        for page in PAGES
        for language, block in CODE_BLOCK.findall(text_of(page))
        if language == "yaml" and block.startswith(starting)
    ]


@pytest.mark.parametrize(("page", "block"), yaml_blocks("units:"))
def test_units_examples_are_accepted(page: str, block: str, tmp_path: Path) -> None:
    """A units file shown in the guide imports beside the example units."""
    known = {unit.code: unit.parent for unit in load_units_file(EXAMPLE_UNITS).units}
    path = tmp_path / "units.yaml"
    path.write_text(block, encoding="utf-8")
    assert load_units_file(path, known_parents=known).units


@pytest.mark.parametrize(("page", "block"), yaml_blocks("code:"))
def test_plan_examples_are_accepted(page: str, block: str, tmp_path: Path) -> None:
    """A plan file shown in the guide validates against the example units."""
    path = tmp_path / "plan.yaml"
    path.write_text(block, encoding="utf-8")
    directory = Directory.from_units_file(load_units_file(EXAMPLE_UNITS))
    assert load_plan_file(path, directory).tasks


def test_the_guide_shows_example_files() -> None:
    """The files' pages carry a units example and a plan example (checked above)."""
    assert yaml_blocks("units:") and yaml_blocks("code:")


def test_readme_lists_every_setting_and_links_the_guide() -> None:
    """Each variable bot/settings.py reads is in the README's table; the quick start links docs/."""
    readme = text_of(ROOT / "README.md")
    missing = [name.upper() for name in Settings.model_fields if name.upper() not in readme]
    assert missing == []
    assert "(docs/README.md)" in readme

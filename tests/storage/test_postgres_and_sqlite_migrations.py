"""Alembic on the suite's database (SQLite in one pass, PostgreSQL in the other).

From every earlier revision — the empty database included — the upgrade reaches the head with
exactly the models' schema, and the downgrade goes back to where it started, leaving nothing that
would stop the upgrade from running again.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables)
from storage.db import make_engine
from storage.schema import MIGRATIONS, alembic_config, current_revision, migrate

BASE = "base"


def scripts_base_to_head() -> list[Script]:
    """Every migration script, oldest first."""
    config = Config(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    return list(reversed(list(ScriptDirectory.from_config(config).walk_revisions())))


SCRIPTS = scripts_base_to_head()
REVISIONS = [script.revision for script in SCRIPTS]
HEAD = REVISIONS[-1]


def downgrade(engine: Engine, revision: str) -> None:
    """Take the schema down to `revision` ("base": nothing)."""
    config = alembic_config(engine)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, revision)


def schema_diff(engine: Engine) -> list[object]:
    """Differences between the database and the models (empty when they match)."""
    with engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn), SQLModel.metadata))


def tables(engine: Engine) -> set[str]:
    """The tables in the database, Alembic's bookkeeping table aside."""
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


@pytest.fixture
def empty_engine(database_url: str) -> Iterator[Engine]:
    """An engine on a database with no schema at all."""
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


def test_the_history_is_one_line_from_base_to_head() -> None:
    previous = [None, *REVISIONS[:-1]]
    assert [script.down_revision for script in SCRIPTS] == previous


def test_upgrade_from_empty_matches_the_models(empty_engine: Engine) -> None:
    assert current_revision(empty_engine) is None and tables(empty_engine) == set()
    for revision in REVISIONS:  # one step at a time, each stopping where it should
        migrate(empty_engine, revision)
        assert current_revision(empty_engine) == revision
    assert schema_diff(empty_engine) == []


@pytest.mark.parametrize("start", [BASE, *REVISIONS[:-1]])
def test_upgrade_from_each_earlier_revision_and_back(empty_engine: Engine, start: str) -> None:
    if start != BASE:
        migrate(empty_engine, start)
    migrate(empty_engine)
    assert current_revision(empty_engine) == HEAD
    assert schema_diff(empty_engine) == []
    downgrade(empty_engine, start)
    assert current_revision(empty_engine) == (None if start == BASE else start)
    if start == BASE:
        assert tables(empty_engine) == set()
    migrate(empty_engine)  # a clean downgrade leaves nothing in the way
    assert current_revision(empty_engine) == HEAD
    assert schema_diff(empty_engine) == []

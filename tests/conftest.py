"""Shared fixtures: a migrated database per test, the example files, fixed clocks."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage.db import make_engine
from storage.schema import migrate
from tests.pg import PostgresServer, PostgresUnavailable, selected_backend

# Property tests try the same inputs on CI as on a developer's machine: a failure found once is
# found again. `pytest --hypothesis-profile=explore` searches new inputs.
settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False, max_examples=2000)
settings.load_profile("repeatable")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "plans" / "examples"


# --- Database fixtures: SQLite, or PostgreSQL with DONDOC_TEST_DB=postgresql ----------------
# A fresh database per test either way: a new SQLite file, or a new PostgreSQL database on a
# server started once per pytest process. `database_url` alone gives an empty database, like a
# new SQLite file; when the test also uses `engine`, the database is copied from a template
# migrated once (a file copy on SQLite), so the per-test migration finds nothing to do.

PG_TEMPLATE = "dondoc_template"
PG_DATABASE_NUMBERS = itertools.count(1)


@pytest.fixture(scope="session")
def postgres(request: pytest.FixtureRequest) -> Iterator[PostgresServer]:
    """The PostgreSQL server of this pytest process; the run stops if it cannot start."""
    server = PostgresServer()
    try:
        server.start()
    except PostgresUnavailable:
        server.stop()
        # Fail the first test that needs it with the reason, then stop: never skip.
        request.session.shouldstop = "DONDOC_TEST_DB=postgresql but PostgreSQL cannot start"
        raise
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_template(postgres: PostgresServer) -> str:
    """A database migrated to the head revision, the template of each test's database."""
    eng = make_engine(postgres.create_database(PG_TEMPLATE))
    migrate(eng)
    eng.dispose()
    return PG_TEMPLATE


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to the head revision once, copied for each test that migrates."""
    path = tmp_path_factory.mktemp("template") / "dondoc.db"
    eng = make_engine(f"sqlite:///{path}")
    migrate(eng)
    eng.dispose()  # the last connection closed: the WAL is checkpointed into the file
    return path


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database for one test (child processes can be given the same URL)."""
    if selected_backend() == "sqlite":
        path = tmp_path / "dondoc.db"
        if "engine" in request.fixturenames:
            shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    migrated = "engine" in request.fixturenames
    template = request.getfixturevalue("postgres_template") if migrated else "template0"
    name = f"test_{next(PG_DATABASE_NUMBERS)}"
    yield server.create_database(name, template=template)
    server.drop_database(name)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A migrated engine on the test database."""
    eng = make_engine(database_url)
    migrate(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on the test database (tests commit explicitly)."""
    with Session(engine, expire_on_commit=False) as s:
        yield s


# --- End of database fixtures ----------------------------------------------------------------


@pytest.fixture
def examples() -> Path:
    """The folder of example units and plans shipped with dondoc."""
    return EXAMPLES

"""Create or migrate the database schema with Alembic; tell whether it is current."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


class SchemaNotCurrent(Exception):
    """The schema is missing (`revision` None) or not the newest; `dondoc init` migrates it."""

    def __init__(self, revision: str | None, head: str | None) -> None:
        super().__init__(f"schema at {revision}, newest is {head}")
        self.revision = revision
        self.head = head


def _config() -> Config:
    """An Alembic config pointing at the packaged migrations."""
    # Alembic is imported here, by the commands that migrate or check: not by every command.
    from alembic.config import Config

    cfg = Config(str(MIGRATIONS / "alembic.ini"))
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def alembic_config(engine: Engine) -> Config:
    """An Alembic config pointing at the packaged migrations and this engine."""
    cfg = _config()
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` (creating it on an empty database)."""
    from alembic import command

    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None when it has no schema yet."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    """The newest revision of the packaged migrations."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config()).get_current_head()


def require_current(engine: Engine) -> None:
    """Raise SchemaNotCurrent unless the schema is at the newest revision; change nothing."""
    revision, head = current_revision(engine), head_revision()
    if revision is None or revision != head:
        raise SchemaNotCurrent(revision, head)

"""Where a benchmark's database lives: a SQLite file, or a throwaway PostgreSQL server.

`DONDOC_BENCH_DB=postgresql` selects PostgreSQL (started with the test suite's tests/pg.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def backend() -> str:
    """sqlite (default) or postgresql."""
    return os.environ.get("DONDOC_BENCH_DB", "sqlite")


@contextmanager
def bench_database(folder: Path, name: str) -> Iterator[str]:
    """A database URL for one measurement, removed afterwards."""
    if backend() != "postgresql":
        yield f"sqlite:///{folder / f'{name}.db'}"
        return
    from tests.pg import PostgresServer

    server = PostgresServer().start()
    try:
        yield server.create_database(name.replace("-", "_"))
    finally:
        server.stop()

"""A block's call runs before each statement on its connection, and nowhere else."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Engine

from storage.db import READONLY, before_each_statement


def test_the_call_runs_before_each_statement_of_the_block_only(engine: Engine) -> None:
    seen: list[str] = []
    reader = engine.execution_options(**{READONLY: True})  # SQLite: no second write lock
    with engine.connect() as connection, reader.connect() as other:
        with before_each_statement(connection, lambda: seen.append("call")):
            connection.execute(text("SELECT 1"))
            other.execute(text("SELECT 2"))  # another connection: not watched
            connection.execute(text("SELECT 3"))
        connection.execute(text("SELECT 4"))  # after the block
    assert seen == ["call", "call"]


def test_a_call_may_run_statements_of_its_own_first(engine: Engine) -> None:
    order: list[int] = []
    with engine.connect() as connection:

        def first() -> None:
            connection.info.pop("dondoc_before_statement", None)  # runs once
            order.append(connection.execute(text("SELECT 10")).scalar_one())

        with before_each_statement(connection, first):
            order.append(connection.execute(text("SELECT 20")).scalar_one())
    assert order == [10, 20]

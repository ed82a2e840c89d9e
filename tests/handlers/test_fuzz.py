"""Fuzzed chat input never crashes the conversation and never writes a report it did not read."""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from handlers.reply_parser import parse_bare_choice, parse_coded_reply, parse_reply
from plans.characters import storable
from storage.models import Contact, Report
from tests.handlers.conftest import Chat, Scene

EMOJI = st.sampled_from(["🔔", "✅", "⚠️", "🙏", "👍🏻", "🇻🇳", "\u200b", "\x00", "‮"])
TEXT = st.one_of(
    st.text(max_size=300),
    st.lists(st.one_of(st.text(max_size=5), EMOJI), max_size=40).map("".join),
    st.text(min_size=4097, max_size=5000),
    st.from_regex(r"/[a-z_]{1,20}( [^\n]{0,30})?", fullmatch=True),
    st.from_regex(r"[A-Z2-9]{3} [4-9] .{0,20}", fullmatch=True),
)
FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def count(engine: Engine, model: type) -> int:
    """Rows of a table."""
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def readable(text: str) -> bool:
    """Whether the parser would read a status from this text, as the handler receives it."""
    text = storable(text)
    return (
        parse_coded_reply(text) is not None
        or parse_bare_choice(text) is not None
        or parse_reply(text).status is not None
    )


@FUZZ
@given(text=TEXT)
@example(text="đang làm\x00 đạt 10%")
@example(text="vướng \x01\x1f\x7f kinh phí\ufffe")
@example(text="xo\x00ng")
def test_registered_principal_fuzz(engine: Engine, scene: Scene, text: str) -> None:
    before = count(engine, Report)
    outcome = scene.principal.send(text)
    assert outcome.messages, "never silence"
    for message in outcome.messages:
        assert len(message.text) <= 4096
    if not readable(text) or len(text) > 4096:
        assert count(engine, Report) == before


@FUZZ
@given(text=TEXT, data=st.one_of(st.none(), st.text(max_size=80)))
def test_stranger_fuzz_writes_nothing(
    engine: Engine, scene: Scene, text: str, data: str | None
) -> None:
    stranger = Chat(engine, "fuzz-stranger")
    contacts, reports = count(engine, Contact), count(engine, Report)
    outcome = stranger.send(text, button=data)
    assert outcome.messages
    assert (count(engine, Contact), count(engine, Report)) == (contacts, reports)


@FUZZ
@given(data=st.text(max_size=100))
def test_forged_button_data_changes_nothing(engine: Engine, scene: Scene, data: str) -> None:
    before = count(engine, Report)
    outcome = scene.head.send(button=data)
    assert outcome.messages or outcome.popup
    assert count(engine, Report) == before

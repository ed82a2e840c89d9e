"""Zalo updates become neutral Incoming objects; anything else is ignored without a reply."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bot.channels.zalo.api import updates_in
from bot.channels.zalo.updates import to_incoming


def text_update(text: str = "DK abc", message_id: str = "m-1") -> dict[str, Any]:
    """A documented text update (ids are strings, date in milliseconds)."""
    return {
        "event_name": "message.text.received",
        "message": {
            "message_id": message_id,
            "date": 1795000000000,
            "chat": {"id": "84901234567", "chat_type": "PRIVATE"},
            "from": {"id": "84901234567", "display_name": "Trần Thị Bình"},
            "text": text,
        },
    }


def test_text_update_bare_and_wrapped_give_the_same_incoming() -> None:
    bare = to_incoming(text_update("A7K 2 đạt 60%"))
    wrapped = to_incoming({"ok": True, "result": text_update("A7K 2 đạt 60%")})
    assert bare == wrapped
    assert bare is not None
    assert bare.channel == "zalo"
    assert bare.chat_id == "84901234567"
    assert bare.update_key == "m-1"
    assert bare.user_name == "Trần Thị Bình"
    assert bare.text == "A7K 2 đạt 60%"
    assert bare.button_data is None and bare.attachments == ()


def test_photo_message_becomes_an_attachment_with_its_caption() -> None:
    update = text_update()
    update["event_name"] = "message.image.received"
    del update["message"]["text"]
    update["message"]["photo_url"] = "https://photo.zalo.me/abc.jpg"
    update["message"]["caption"] = "biên bản họp"
    incoming = to_incoming(update)
    assert incoming is not None
    assert incoming.attachments == ("https://photo.zalo.me/abc.jpg",)
    assert incoming.text == "biên bản họp"


def test_photo_field_named_photo_is_read_too() -> None:
    update = text_update()
    update["event_name"] = "message.image.received"
    update["message"]["photo"] = "https://photo.zalo.me/x.jpg"
    incoming = to_incoming(update)
    assert incoming is not None and incoming.attachments == ("https://photo.zalo.me/x.jpg",)


def test_replayed_update_has_the_same_key() -> None:
    first, again = to_incoming(text_update()), to_incoming(text_update())
    assert first is not None and again is not None
    assert first.update_key == again.update_key


def test_a_very_long_message_id_still_fits_the_dedupe_column() -> None:
    incoming = to_incoming(text_update(message_id="x" * 300))
    assert incoming is not None and len(incoming.update_key) <= 96
    assert incoming.update_key == to_incoming(text_update(message_id="x" * 300)).update_key  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "payload",
    [
        {"event_name": "message.sticker.received", "message": text_update()["message"]},
        {"event_name": "message.unsupported.received", "message": text_update()["message"]},
        {"event_name": "user.follow", "follower": {"id": "1"}},
        {"event_name": "message.text.received"},
        {"event_name": "message.text.received", "message": "not an object"},
        {"event_name": "message.image.received", "message": text_update()["message"]},
        {"ok": True, "result": None},
        {"ok": False, "error_code": 408},
        {},
    ],
)
def test_anything_else_is_ignored(
    payload: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.channels.zalo")
    assert to_incoming(payload) is None


def test_message_without_ids_is_ignored() -> None:
    update = text_update()
    del update["message"]["message_id"]
    assert to_incoming(update) is None
    update = text_update()
    update["message"]["chat"] = {}
    update["message"]["from"] = {}
    assert to_incoming(update) is None


def test_unknown_event_is_logged_at_debug_only(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.channels.zalo")
    assert to_incoming({"event_name": "message.reaction.received", "message": {}}) is None
    assert [r.levelno for r in caplog.records] == [logging.DEBUG]


def test_updates_in_accepts_single_list_and_bare() -> None:
    one = text_update()
    assert updates_in(one) == [one]
    assert updates_in({"ok": True, "result": one}) == [one]
    assert updates_in({"ok": True, "result": [one, "junk", one]}) == [one, one]
    assert updates_in({"ok": True, "result": True}) == []

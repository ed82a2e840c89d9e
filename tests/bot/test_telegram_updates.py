"""Telegram updates read straight from their JSON give the Incoming the library's objects give."""

from __future__ import annotations

from typing import Any

import pytest
from telegram import Bot, Update

from bot.channels.telegram.updates import incoming_of, to_incoming

USER = {"id": 42, "is_bot": False, "first_name": "Thị", "last_name": "Lan"}
CHAT = {"id": 42, "type": "private"}


def message(**fields: Any) -> dict[str, Any]:
    """A message from USER in CHAT with `fields`."""
    return {"message_id": 5, "date": 1_763_870_400, "chat": CHAT, "from": USER, **fields}


UPDATES = {
    "text": {"update_id": 1, "message": message(text="A7K 1 xong")},
    "first name only": {
        "update_id": 2,
        "message": message(
            text="/help", **{"from": {"id": 7, "is_bot": False, "first_name": "An"}}
        ),
    },
    "reply": {
        "update_id": 3,
        "message": message(text="vướng kinh phí", reply_to_message=message(text="nhắc")),
    },
    "photo with caption": {
        "update_id": 4,
        "message": message(
            caption="biên bản",
            photo=[
                {"file_id": "small", "file_unique_id": "s", "width": 90, "height": 90},
                {"file_id": "large", "file_unique_id": "l", "width": 900, "height": 900},
            ],
        ),
    },
    "document": {
        "update_id": 5,
        "message": message(document={"file_id": "D1", "file_unique_id": "d", "file_name": "k.md"}),
    },
    "button": {
        "update_id": 6,
        "callback_query": {
            "id": "q1",
            "from": USER,
            "chat_instance": "c",
            "data": "st:A7K:done",
            "message": message(text="Chọn tình trạng"),
        },
    },
    "button without its message": {
        "update_id": 7,
        "callback_query": {"id": "q2", "from": USER, "chat_instance": "c", "data": "x"},
    },
    "edited message (through the objects)": {
        "update_id": 8,
        "edited_message": message(text="sửa", edit_date=1_763_870_500),
    },
    "a member update (not handled)": {
        "update_id": 9,
        "my_chat_member": {
            "chat": CHAT,
            "from": USER,
            "date": 1_763_870_400,
            "old_chat_member": {"user": USER, "status": "member"},
            "new_chat_member": {"user": USER, "status": "kicked", "until_date": 0},
        },
    },
}


@pytest.mark.parametrize("kind", list(UPDATES))
def test_an_update_read_from_its_json_is_what_the_library_reads(kind: str) -> None:
    bot = Bot("123:TEST")
    raw = UPDATES[kind]
    update = Update.de_json(raw, bot)
    assert update is not None
    assert incoming_of(raw, bot) == to_incoming(update)

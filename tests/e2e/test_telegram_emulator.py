"""The Telegram harness works with python-telegram-bot 22.

One test drives a real PTB Application in a subprocess (echo_bot.py) as a user would; the
other calls the emulator through PTB's own Bot in-process, one patched method at a time.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, Forbidden, RetryAfter

from tests.e2e.telegram_emulator import Emulator, EmulatorError, TelegramUser
from tests.utils.processes import stop

pytestmark = pytest.mark.e2e

ECHO_BOT = Path(__file__).resolve().parent / "echo_bot.py"
PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@dataclass
class EchoBot:
    """The echo bot subprocess and where its log goes."""

    process: subprocess.Popen[bytes]
    log_path: Path
    token: str

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def echo_bot(telegram_emulator: Emulator, tmp_path: Path) -> Iterator[EchoBot]:
    """echo_bot.py polling the emulator with a token of its own, started and ready."""
    token = telegram_emulator.new_token()
    log_path = tmp_path / "echo_bot.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                str(ECHO_BOT),
                telegram_emulator.api_url,
                telegram_emulator.file_url,
                token,
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    bot = EchoBot(process, log_path, token)
    try:
        # Wait for the other process to pass getMe and set-up; fail fast if it died.
        deadline = time.monotonic() + 30
        while "ECHO-BOT-STARTED" not in bot.log():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"echo bot did not start (exit {process.poll()}):\n{bot.log()[-4000:]}")
            time.sleep(0.1)
        yield bot
    finally:
        stop(process)


def test_user_drives_a_ptb_bot_through_the_emulator(
    telegram_emulator: Emulator, echo_bot: EchoBot
) -> None:
    user: TelegramUser = telegram_emulator.user("An", token=echo_bot.token)
    try:
        user.send_command("/start hello")
        greeting = user.wait_for(lambda m: bool(m.buttons), description="with buttons")
        assert greeting.text == "Xin chào An! Chọn màu (hello):"
        assert greeting.buttons == [("Đỏ", "pick:red"), ("Xanh", "pick:blue")]
        assert abs(greeting.date - time.time()) < 60  # seconds, not milliseconds

        user.press(greeting.callback_data("Xanh"), greeting.message_id)
        edited = user.wait_for(
            lambda m: m.message_id == greeting.message_id and m.edited, description="edit"
        )
        assert edited.text == "Bạn đã chọn: Xanh"
        assert edited.buttons == []  # Telegram drops the keyboard an edit does not repeat
        answers = user.callback_answers()
        assert [a["text"] for a in answers] == ["Đã chọn Xanh"]

        user.send_text("chào bot")
        assert user.wait_for_text("echo: chào bot").text == "echo: chào bot"

        user.send_text("trả lời", reply_to=greeting.message_id)
        user.wait_for_text(f"echo: trả lời (trả lời #{greeting.message_id})")

        assert all("ECHO-BOT-ERROR" not in m.text for m in user.bot_messages())
    except AssertionError as error:
        raise AssertionError(f"{error}\n--- echo bot log ---\n{echo_bot.log()[-4000:]}") from error
    assert "ECHO-BOT-ERROR" not in echo_bot.log()
    assert echo_bot.process.poll() is None, echo_bot.log()


async def test_each_patch_parses_under_ptb(telegram_emulator: Emulator) -> None:
    token = telegram_emulator.new_token()
    user = telegram_emulator.user("Bình", token=token)
    bot = Bot(token, base_url=telegram_emulator.api_url, base_file_url=telegram_emulator.file_url)
    async with bot:  # initialize() calls getMe: patch 1 (is_bot)
        assert bot.bot.is_bot and bot.bot.id == int(token.split(":")[0])

        await bot.set_my_commands([("start", "Bắt đầu")])
        assert await bot.delete_webhook() is True

        # Patch 2: the sent message parses (date in seconds) and comes from the bot.
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Có", callback_data="yes")]])
        sent = await bot.send_message(user.chat_id, "Hỏi?", reply_markup=keyboard)
        assert abs(sent.date.timestamp() - time.time()) < 60
        assert sent.from_user is not None and sent.from_user.id == bot.id
        seen = user.bot_messages()[-1]
        assert (seen.message_id, seen.text, seen.buttons) == (
            sent.message_id,
            "Hỏi?",
            [("Có", "yes")],
        )
        assert seen.raw["message"]["from"]["is_bot"] is True
        assert seen.date == int(sent.date.timestamp())

        # Patch 3: the callback query has chat_instance and the pressed message.
        user.press("yes", sent.message_id)
        updates = await bot.get_updates()
        query = updates[-1].callback_query
        assert query is not None and query.chat_instance
        assert isinstance(query.message, Message) and query.message.message_id == sent.message_id
        assert query.from_user.id == user.user_id
        assert await query.answer("ok") is True

        # Patch 4: edits return the edited message; a no-op edit is Telegram's 400.
        edited = await bot.edit_message_text("Đã trả lời", user.chat_id, sent.message_id)
        assert isinstance(edited, Message) and edited.text == "Đã trả lời" and edited.edit_date
        marked = await bot.edit_message_reply_markup(
            user.chat_id, sent.message_id, reply_markup=keyboard
        )
        assert isinstance(marked, Message) and marked.reply_markup == keyboard
        with pytest.raises(BadRequest, match="not modified"):
            await bot.edit_message_reply_markup(
                user.chat_id, sent.message_id, reply_markup=keyboard
            )
        assert user.wait_for(lambda m: m.message_id == sent.message_id).revision == 2

        # Telegram's refusals that dondoc must handle.
        with pytest.raises(BadRequest, match="too long"):
            await bot.send_message(user.chat_id, "x" * 4097)
        too_long_data = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="d" * 65)]])
        with pytest.raises(BadRequest, match="(?i)button_data_invalid"):
            await bot.send_message(user.chat_id, "x", reply_markup=too_long_data)
        telegram_emulator.inject_failure("sendMessage", 429, retry_after=3, token=token)
        with pytest.raises(RetryAfter):
            await bot.send_message(user.chat_id, "flood")
        user.block_bot()
        with pytest.raises(Forbidden):
            await bot.send_message(user.chat_id, "blocked")
        user.block_bot(False)

        # Files both ways, and replies.
        report = await bot.send_document(
            user.chat_id, b"BAO CAO", filename="bao-cao.docx", caption="Báo cáo"
        )
        assert report.document is not None and report.document.file_name == "bao-cao.docx"
        assert telegram_emulator.download(report.document.file_id, token=token) == b"BAO CAO"
        photo_id = user.send_photo(PNG_1X1, caption="ảnh", reply_to=report.message_id)
        user.send_document("minh-chung.pdf", b"%PDF-1.4", mime_type="application/pdf")
        updates = [u for u in await bot.get_updates() if isinstance(u, Update) and u.message]
        photo_message, doc_message = (u.message for u in updates[-2:])
        assert photo_message.message_id == photo_id and photo_message.photo[-1].width == 1
        assert photo_message.reply_to_message is not None
        assert photo_message.reply_to_message.message_id == report.message_id
        file = await bot.get_file(doc_message.document.file_id)
        assert bytes(await file.download_as_bytearray()) == b"%PDF-1.4"

    with pytest.raises(EmulatorError, match="not found"):
        user.press("yes", 999_999)

"""Drive a bot through telegram-test-api as its users would.

`run_emulator()` starts `tests/e2e/telegram/launcher.js` (the emulator with the patches
python-telegram-bot 22 needs) on a free loopback port. A bot under test gets
`Emulator.api_url` as its `base_url` (`TELEGRAM_API_URL` for dondoc) and `Emulator.token`;
tests act as people through `TelegramUser`, which talks to the emulator's client endpoints.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import html
import itertools
import os
import queue
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.utils.processes import stop

EMULATOR_DIR = Path(__file__).resolve().parent / "telegram"
LAUNCHER = EMULATOR_DIR / "launcher.js"
DEFAULT_TOKEN = "123456:TEST-TOKEN"
READY_TIMEOUT = 60.0
NPM_TIMEOUT = 600.0
_INSTALL_MARKER = ".dondoc-installed"


class EmulatorError(RuntimeError):
    """The emulator could not be installed, started or reached."""


class WaitTimeout(AssertionError):
    """No bot message matching the predicate arrived in time."""


# -------------------------------------------------------------------------------------------
# Installing the npm package


def _install_fingerprint() -> str:
    digest = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        path = EMULATOR_DIR / name
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_node_modules() -> Path:
    """Install the emulator's npm packages once (npm ci), safe across concurrent test processes."""
    node_modules = EMULATOR_DIR / "node_modules"
    marker = node_modules / _INSTALL_MARKER
    fingerprint = _install_fingerprint()
    if marker.exists() and marker.read_text() == fingerprint:
        return node_modules
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise EmulatorError("node and npm are needed for the Telegram end-to-end tests")
    lock_name = "dondoc-telegram-npm-" + hashlib.sha256(str(EMULATOR_DIR).encode()).hexdigest()[:16]
    lock_path = Path(tempfile.gettempdir()) / f"{lock_name}.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            # Another process may have finished the install while we waited for the lock.
            if marker.exists() and marker.read_text() == fingerprint:
                return node_modules
            has_lock = (EMULATOR_DIR / "package-lock.json").exists()
            command = [npm, "ci" if has_lock else "install", "--no-audit", "--no-fund"]
            result = subprocess.run(
                command,
                cwd=EMULATOR_DIR,
                capture_output=True,
                text=True,
                timeout=NPM_TIMEOUT,
                stdin=subprocess.DEVNULL,
            )
            if result.returncode != 0:
                raise EmulatorError(
                    f"{' '.join(command[1:])} failed in {EMULATOR_DIR} "
                    f"(exit {result.returncode}):\n{result.stderr[-4000:]}"
                )
            marker.write_text(fingerprint)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return node_modules


# -------------------------------------------------------------------------------------------
# What a user sees


@dataclass(frozen=True)
class BotMessage:
    """A message the bot sent to a chat, as it stands now (after any edits)."""

    message_id: int
    chat_id: int
    text: str
    """The text, or a document's/photo's caption; HTML tags as the bot sent them."""
    buttons: list[tuple[str, str | None]]
    """Inline keyboard buttons in order, as (label, callback_data)."""
    keyboard: list[list[tuple[str, str | None]]]
    """The same buttons by row."""
    revision: int
    """0 as sent; each edit adds 1."""
    date: int
    edit_date: int | None
    parse_mode: str | None
    reply_to_message_id: int | None
    document: dict[str, Any] | None
    photo: list[dict[str, Any]] | None
    raw: dict[str, Any] = field(repr=False)

    @property
    def plain_text(self) -> str:
        """The text without HTML tags and entities, as a person reads it."""
        if (self.parse_mode or "").upper() == "HTML":
            return html.unescape(re.sub(r"<[^>]*>", "", self.text))
        return self.text

    @property
    def edited(self) -> bool:
        return self.revision > 0

    def callback_data(self, label: str) -> str:
        """The callback data of the first button whose label contains `label`."""
        for text, data in self.buttons:
            if label in text and data is not None:
                return data
        raise KeyError(f"no button {label!r} in {self.buttons!r}")

    @classmethod
    def from_entry(cls, entry: dict[str, Any]) -> BotMessage:
        """Parse one bot entry of /getUpdatesHistory."""
        message = entry["message"]
        markup = message.get("reply_markup") or {}
        rows = [
            [(button.get("text", ""), button.get("callback_data")) for button in row]
            for row in markup.get("inline_keyboard", [])
        ]
        reply = message.get("reply_to_message")
        return cls(
            message_id=int(entry["messageId"]),
            chat_id=int(message["chat_id"]),
            text=message.get("text") or message.get("caption") or "",
            buttons=[button for row in rows for button in row],
            keyboard=rows,
            revision=int(entry.get("revision", 0)),
            date=int(message.get("date") or entry["time"] // 1000),
            edit_date=message.get("edit_date"),
            parse_mode=message.get("parse_mode"),
            reply_to_message_id=reply.get("message_id") if reply else None,
            document=message.get("document"),
            photo=message.get("photo"),
            raw=entry,
        )


def _is_bot_entry(entry: dict[str, Any]) -> bool:
    return "callbackQuery" not in entry and "chat_id" in entry.get("message", {})


# -------------------------------------------------------------------------------------------
# The emulator and its users


class Emulator:
    """A running telegram-test-api; hand `api_url`/`file_url`/`token` to the bot under test."""

    def __init__(self, host: str, port: int, process: subprocess.Popen[bytes], log_path: Path):
        self.host = host
        self.port = port
        self.process = process
        self.log_path = log_path
        self.base = f"http://{host}:{port}"
        self.api_url = f"{self.base}/bot"
        """python-telegram-bot's `base_url`: it appends the token, then `/<method>`."""
        self.file_url = f"{self.base}/file/bot"
        """python-telegram-bot's `base_file_url`."""
        self.token = DEFAULT_TOKEN
        self.http = httpx.Client(base_url=self.base, timeout=10.0)
        self._ids = itertools.count(1001)
        self._tokens = itertools.count(700001)

    # -- set-up -------------------------------------------------------------------------

    def new_token(self) -> str:
        """A bot token no other test uses, to keep one test's bot off another's updates."""
        return f"{next(self._tokens)}:TEST-TOKEN"

    def dondoc_env(self, token: str, database_url: str) -> dict[str, str]:
        """The environment of a `dondoc` run against this emulator; the test plays the clock
        with `dondoc tick --now`, so the bot only serves the chats."""
        return {
            "DONDOC_DATABASE_URL": database_url,
            "TELEGRAM_BOT_TOKEN": token,
            "TELEGRAM_API_URL": self.api_url,
            "TELEGRAM_POLL_INTERVAL": "0.2",
            "TELEGRAM_BOT_USERNAME": "dondoc_test_bot",
            "DONDOC_SCHEDULER": "false",
        }

    def user(
        self,
        first_name: str = "Người dùng",
        *,
        user_id: int | None = None,
        chat_id: int | None = None,
        username: str | None = None,
        token: str | None = None,
    ) -> TelegramUser:
        """A person in a private chat with the bot, with ids no other user of this emulator has."""
        uid = user_id if user_id is not None else next(self._ids)
        return TelegramUser(
            self,
            user_id=uid,
            chat_id=chat_id if chat_id is not None else uid,
            first_name=first_name,
            username=username if username is not None else f"user{uid}",
            token=token or self.token,
        )

    # -- client API -----------------------------------------------------------------------

    def call(self, path: str, payload: dict[str, Any]) -> Any:
        """POST to a client endpoint and return its `result`."""
        try:
            response = self.http.post(path, json=payload)
        except httpx.HTTPError as error:
            raise EmulatorError(
                f"emulator unreachable on {path}: {error!r}\n{self.log_tail()}"
            ) from error
        body = response.json()
        if response.status_code != 200 or not body.get("ok"):
            raise EmulatorError(f"{path} refused {payload!r}: {body}")
        return body.get("result")

    def history(self, token: str | None = None) -> list[dict[str, Any]]:
        """Every stored update for a bot token, bot and user side, oldest first (raw entries)."""
        return self.call("/getUpdatesHistory", {"token": token or self.token})

    def bot_api(self, method: str, token: str | None = None, **params: Any) -> Any:
        """Call a Bot API method directly, as a bot would (for checks outside the bot)."""
        response = self.http.post(f"/bot{token or self.token}/{method}", json=params)
        body = response.json()
        if not body.get("ok"):
            raise EmulatorError(f"{method} failed: {body}")
        return body["result"]

    def inject_failure(
        self,
        method: str,
        error_code: int,
        description: str | None = None,
        *,
        retry_after: int | None = None,
        count: int = 1,
        token: str | None = None,
    ) -> None:
        """Make the next `count` calls of a Bot API method fail like Telegram (e.g. 429, 502)."""
        payload: dict[str, Any] = {
            "token": token or self.token,
            "method": method,
            "error_code": error_code,
            "count": count,
        }
        if description is not None:
            payload["description"] = description
        elif error_code == 429:
            payload["description"] = f"Too Many Requests: retry after {retry_after or 1}"
        if retry_after is not None:
            payload["retry_after"] = retry_after
        self.call("/injectFailure", payload)

    def download(self, file_id: str, token: str | None = None) -> bytes:
        """The bytes of a file the bot sent or a user attached."""
        file_info = self.bot_api("getFile", token=token, file_id=file_id)
        response = self.http.get(f"/file/bot{token or self.token}/{file_info['file_path']}")
        response.raise_for_status()
        return response.content

    def log_tail(self, limit: int = 4000) -> str:
        """The end of the emulator's stderr, for failure messages."""
        try:
            return self.log_path.read_text(errors="replace")[-limit:]
        except OSError:
            return ""

    def close(self) -> None:
        self.http.close()


class TelegramUser:
    """One person chatting with the bot through the emulator's client endpoints."""

    def __init__(
        self,
        emulator: Emulator,
        *,
        user_id: int,
        chat_id: int,
        first_name: str,
        username: str,
        token: str,
    ):
        self.emulator = emulator
        self.user_id = user_id
        self.chat_id = chat_id
        self.first_name = first_name
        self.username = username
        self.token = token
        self._seen: set[tuple[int, int]] = set()

    def __repr__(self) -> str:
        return f"TelegramUser({self.first_name!r}, user_id={self.user_id}, chat_id={self.chat_id})"

    # -- what the user does ------------------------------------------------------------------

    @property
    def _from(self) -> dict[str, Any]:
        return {
            "id": self.user_id,
            "is_bot": False,
            "first_name": self.first_name,
            "username": self.username,
            "language_code": "vi",
        }

    @property
    def _chat(self) -> dict[str, Any]:
        if self.chat_id == self.user_id:
            return {
                "id": self.chat_id,
                "type": "private",
                "first_name": self.first_name,
                "username": self.username,
            }
        return {"id": self.chat_id, "type": "group", "title": f"Nhóm {self.chat_id}"}

    def _message(self, text: str | None, reply_to: int | None, **extra: Any) -> dict[str, Any]:
        message: dict[str, Any] = {
            "botToken": self.token,
            "from": self._from,
            "chat": self._chat,
            "date": int(time.time()),
            **extra,
        }
        if text is not None:
            message["text"] = text
        if reply_to is not None:
            message["reply_to_message_id"] = reply_to
        return message

    def send_text(self, text: str, *, reply_to: int | None = None) -> int:
        """Type a message (optionally as a reply to message `reply_to`); returns its message_id."""
        result = self.emulator.call("/sendMessage", self._message(text, reply_to))
        return int(result["message_id"])

    def send_command(self, command: str, *, reply_to: int | None = None) -> int:
        """Send a command such as "/start CODE" (with its bot_command entity); returns its id."""
        if not command.startswith("/"):
            raise ValueError(f"a command starts with '/': {command!r}")
        result = self.emulator.call("/sendCommand", self._message(command, reply_to))
        return int(result["message_id"])

    def send_document(
        self,
        file_name: str,
        content: bytes,
        *,
        caption: str | None = None,
        mime_type: str = "application/octet-stream",
        reply_to: int | None = None,
    ) -> int:
        """Attach a document (e.g. evidence); the bot can getFile and download it."""
        document = {
            "file_name": file_name,
            "mime_type": mime_type,
            "content_base64": base64.b64encode(content).decode(),
        }
        extra: dict[str, Any] = {"document": document}
        if caption is not None:
            extra["caption"] = caption
        result = self.emulator.call("/sendMessage", self._message(None, reply_to, **extra))
        return int(result["message_id"])

    def send_photo(
        self, content: bytes, *, caption: str | None = None, reply_to: int | None = None
    ) -> int:
        """Attach a photo; the bot receives it as a one-size PhotoSize list."""
        extra: dict[str, Any] = {"photo": {"content_base64": base64.b64encode(content).decode()}}
        if caption is not None:
            extra["caption"] = caption
        result = self.emulator.call("/sendMessage", self._message(None, reply_to, **extra))
        return int(result["message_id"])

    def press(self, callback_data: str, message_id: int) -> str:
        """Press the inline button carrying `callback_data` under bot message `message_id`.

        Returns the callback query id. The emulator refuses a message this chat never got.
        """
        payload = {
            "botToken": self.token,
            "from": self._from,
            "message": {"message_id": message_id, "chat": {"id": self.chat_id}},
            "data": callback_data,
        }
        return str(self.emulator.call("/sendCallback", payload)["callback_query_id"])

    def click(self, message: BotMessage, label: str) -> str:
        """Press the button of `message` whose label contains `label`."""
        return self.press(message.callback_data(label), message.message_id)

    def block_bot(self, blocked: bool = True) -> None:
        """Block (or unblock) the bot: its sends to this chat then fail with 403 Forbidden."""
        self.emulator.call(
            "/setBlocked", {"token": self.token, "chatId": self.chat_id, "blocked": blocked}
        )

    # -- what the user sees ------------------------------------------------------------------

    def bot_messages(self) -> list[BotMessage]:
        """Every message the bot has sent to this chat, oldest first, as it stands now."""
        entries = self.emulator.history(self.token)
        mine = [
            BotMessage.from_entry(entry)
            for entry in entries
            if _is_bot_entry(entry) and str(entry["message"]["chat_id"]) == str(self.chat_id)
        ]
        return sorted(mine, key=lambda message: message.message_id)

    def last_message(self) -> BotMessage | None:
        """The latest message the bot sent to this chat, if any."""
        messages = self.bot_messages()
        return messages[-1] if messages else None

    def callback_answers(self) -> list[dict[str, Any]]:
        """The bot's answerCallbackQuery calls for this chat's presses (text, show_alert...)."""
        return self.emulator.call(
            "/getCallbackAnswers", {"token": self.token, "chatId": self.chat_id}
        )

    def mark_all_seen(self) -> None:
        """Make wait_for ignore everything the bot has sent so far."""
        self._seen.update((m.message_id, m.revision) for m in self.bot_messages())

    def wait_for(
        self,
        predicate: Callable[[BotMessage], bool] = lambda message: True,
        timeout: float = 20.0,
        *,
        description: str = "",
    ) -> BotMessage:
        """Wait for a bot message (or an edit) this user has not had from wait_for yet.

        "New" means: not returned by an earlier wait_for of this user and not hidden by
        mark_all_seen(). An edit is a new revision of its message, so after pressing a button
        `wait_for(lambda m: m.edited)` sees the edited text. Polls every 0.1 s: this waits for
        another process's reply.
        """
        deadline = time.monotonic() + timeout
        messages: list[BotMessage] = []
        while True:
            messages = self.bot_messages()
            for message in messages:
                key = (message.message_id, message.revision)
                if key not in self._seen and predicate(message):
                    self._seen.add(key)
                    return message
            if time.monotonic() >= deadline:
                break
            time.sleep(0.1)
        shown = "\n".join(
            f"  #{m.message_id} r{m.revision}"
            f"{' (seen)' if (m.message_id, m.revision) in self._seen else ''}: "
            f"{m.text[:200]!r} {m.buttons if m.buttons else ''}"
            for m in messages[-10:]
        )
        raise WaitTimeout(
            f"{self!r}: no new bot message {description or 'matching the predicate'} "
            f"within {timeout} s. Latest bot messages in this chat:\n{shown or '  (none)'}"
        )

    def wait_for_text(self, fragment: str, timeout: float = 20.0) -> BotMessage:
        """Wait for a new bot message whose plain text contains `fragment`."""
        return self.wait_for(
            lambda message: fragment in message.plain_text,
            timeout,
            description=f"containing {fragment!r}",
        )


# -------------------------------------------------------------------------------------------
# Starting and stopping


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _read_lines(stream: Any, lines: queue.Queue[str | None]) -> None:
    for raw in iter(stream.readline, b""):
        lines.put(raw.decode(errors="replace").rstrip("\n"))
    lines.put(None)


def _start(host: str, port: int, log_path: Path, store_timeout: int) -> subprocess.Popen[bytes]:
    node = shutil.which("node")
    if node is None:
        raise EmulatorError("node is needed for the Telegram end-to-end tests")
    log_file = open(log_path, "ab")  # the child keeps its own descriptor; ours closes below
    try:
        return subprocess.Popen(
            [
                node,
                str(LAUNCHER),
                "--host",
                host,
                "--port",
                str(port),
                "--store-timeout",
                str(store_timeout),
                "--watch-stdin",
            ],
            cwd=EMULATOR_DIR,
            stdin=subprocess.PIPE,  # the launcher exits when this closes, i.e. when we die
            stdout=subprocess.PIPE,
            stderr=log_file,
            env={**os.environ, "TELEGRAM_EMULATOR_VERBOSE": "1"},
        )
    finally:
        log_file.close()


@contextmanager
def run_emulator(
    *,
    host: str = "127.0.0.1",
    ready_timeout: float = READY_TIMEOUT,
    store_timeout: int = 86400,
) -> Iterator[Emulator]:
    """Install if needed, start the patched emulator on a free port, and stop it afterwards."""
    ensure_node_modules()
    log_dir = Path(tempfile.mkdtemp(prefix="dondoc-telegram-emulator-"))
    log_path = log_dir / "emulator.log"
    process: subprocess.Popen[bytes] | None = None
    port = 0
    for _attempt in range(3):  # another process may take the port between probe and listen
        port = _free_port(host)
        process = _start(host, port, log_path, store_timeout)
        lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=_read_lines, args=(process.stdout, lines), daemon=True).start()
        deadline = time.monotonic() + ready_timeout
        ready = False
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                break
            if line.strip() == f"READY {port}":
                ready = True
                break
        if ready:
            break
        stop(process, grace=5)
        if process.returncode != 98:  # 98: address in use, try another port
            log = log_path.read_text(errors="replace")[-4000:]
            raise EmulatorError(
                f"telegram-test-api did not print READY within {ready_timeout} s "
                f"(exit code {process.returncode}); its stderr:\n{log}"
            )
    else:
        raise EmulatorError(f"no free port for telegram-test-api on {host}")
    assert process is not None
    emulator = Emulator(host, port, process, log_path)
    try:
        yield emulator
    finally:
        emulator.close()
        if process.stdin is not None:
            process.stdin.close()
        stop(process, grace=5)
        shutil.rmtree(log_dir, ignore_errors=True)

"""A fake Zalo Bot API server from the documented shapes, with scripted faults.

`POST /bot<TOKEN>/<method>` with a JSON body. `getUpdates` hands out one queued update at a time
(`{"ok": true, "result": {...}}`), waiting up to its `timeout` for one, else answers HTTP 408.
Ids are strings, `date` is epoch milliseconds, texts over 2,000 characters are refused (400), a
wrong token gets 401, `getWebhookInfo` for a bot without a webhook gets 404 "Not Found" (as the
real platform answers). Every accepted sendMessage/sendPhoto is recorded; calls of a method can be
held (`hold`/`release`) to keep the bot waiting on the platform.

Run in a thread (`with FakeZaloApi() as fake:` or `.start()`/`.stop()`) or as a process
(`python -m tests.fakes.zalo_api PORT LOG [TOKEN]`): then each recorded message is appended to LOG
as a JSON line, and `POST /control/updates` (an update as JSON) queues a user message.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from tests.fakes.loopback import LoopbackServer

TOKEN = "1234567890:zalo-test-token"
BOT = {
    "id": "7300000000000000001",
    "account_name": "bot.dondoc",
    "account_type": "BASIC",
    "can_join_groups": False,
    "display_name": "dondoc",
}
MAX_TEXT = 2000
MAX_WAIT = 30.0  # the longest a getUpdates is held, whatever the client asks


@dataclass
class ZaloFault:
    """A scripted failure for the next matching call."""

    kind: str  # "429" | "500" | "403"
    method: str = "sendMessage"
    chat_id: str | None = None  # None: any chat
    times: int = 1
    retry_after: int = 1


@dataclass
class FakeZaloApi(LoopbackServer):
    """Queues user messages for getUpdates; records what the bot sends."""

    token: str = TOKEN
    log_path: Path | None = None
    faults: list[ZaloFault] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)  # every method called, in order
    blocked: set[str] = field(default_factory=set)
    webhook: dict[str, str] = field(default_factory=dict)
    held: set[str] = field(default_factory=set)  # methods whose calls wait for `release`

    def __post_init__(self) -> None:
        self._changed = threading.Condition()
        self._updates: deque[dict[str, Any]] = deque()

    # -- driving it like a user ------------------------------------------------------------

    def user_says(self, chat_id: str, text: str, *, name: str = "Nguyễn Văn An") -> dict[str, Any]:
        """Queue a text message from a user; return the update (to replay it)."""
        return self.enqueue(_update("message.text.received", chat_id, name, text=text))

    def user_sends_photo(
        self, chat_id: str, url: str, *, caption: str = "", name: str = "Nguyễn Văn An"
    ) -> dict[str, Any]:
        """Queue a photo message (the platform gives a URL, not a file)."""
        fields = {"photo_url": url, **({"caption": caption} if caption else {})}
        return self.enqueue(_update("message.image.received", chat_id, name, **fields))

    def enqueue(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue any update as it is."""
        with self._changed:
            self._updates.append(update)
            self._changed.notify_all()
        return update

    def replay(self, update: dict[str, Any]) -> dict[str, Any]:
        """Deliver the same update again (same message_id), as Zalo does."""
        return self.enqueue(json.loads(json.dumps(update)))

    def hold(self, method: str) -> None:
        """Keep calls of `method` waiting (as a slow platform would) until `release`."""
        with self._changed:
            self.held.add(method)

    def release(self, method: str) -> None:
        """Let the waiting and later calls of `method` through."""
        with self._changed:
            self.held.discard(method)
            self._changed.notify_all()

    def pending(self) -> int:
        """Updates not yet fetched."""
        with self._changed:
            return len(self._updates)

    # -- looking at what the bot did -------------------------------------------------------

    def texts_for(self, chat_id: str) -> list[str]:
        """Texts delivered to a chat, in order."""
        with self._changed:
            return [m["text"] for m in self.sent if m["chat_id"] == str(chat_id)]

    def wait_for_text(
        self, chat_id: str, needle: str, *, after: int = 0, timeout: float = 20.0
    ) -> str:
        """Block until a message to the chat, from index `after` on, contains `needle`."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                texts = self.texts_for(chat_id)
                found = next((t for t in texts[after:] if needle in t), None)
                if found is not None:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"chat {chat_id}: no {needle!r} after #{after}: {texts}")
                self._changed.wait(left)

    def wait_for_call(self, method: str, *, count: int = 1, timeout: float = 20.0) -> None:
        """Block until `method` has been called `count` times (held calls included)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self.calls.count(method) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{method} called {self.calls.count(method)}/{count}")
                self._changed.wait(left)

    # -- the API ---------------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        """Route /bot<token>/<method> and the control endpoints."""
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        try:
            params = json.loads(raw) if raw else {}
        except ValueError:
            return _error(request, 400, "Bad Request: body is not JSON")
        if not isinstance(params, dict):
            return _error(request, 400, "Bad Request: body is not an object")
        if request.path == "/control/updates":
            self.enqueue(params)
            return _reply(request, 200, {"ok": True, "result": True})
        if request.path == "/control/sent":
            with self._changed:
                return _reply(request, 200, {"ok": True, "result": list(self.sent)})
        prefix, _, method = request.path.rpartition("/")
        if not prefix.startswith("/bot"):
            return _error(request, 404, "Not Found")
        if prefix != f"/bot{self.token}":
            return _error(request, 401, "Unauthorized")
        with self._changed:
            self.calls.append(method)
            self._changed.notify_all()
            while method in self.held:
                self._changed.wait()
        answer = getattr(self, f"_api_{method}", None)
        if answer is None:
            return _error(request, 404, f"Not Found: method {method}")
        fault = self._fault_for(method, str(params.get("chat_id", "")))
        if fault is not None:
            return _fault(request, fault)
        status, payload = answer(params)
        return _reply(request, status, payload)

    def _fault_for(self, method: str, chat_id: str) -> ZaloFault | None:
        """Consume the first scripted fault matching this call."""
        with self._changed:
            for fault in self.faults:
                if fault.times > 0 and fault.method == method and fault.chat_id in (None, chat_id):
                    fault.times -= 1
                    if fault.kind == "403":
                        self.blocked.add(chat_id)
                    return fault
        return None

    def _api_getMe(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:  # noqa: N802
        return 200, {"ok": True, "result": BOT}

    def _api_getUpdates(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:  # noqa: N802
        try:
            wait = min(float(params.get("timeout") or 0), MAX_WAIT)
        except (TypeError, ValueError):
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: timeout"}
        deadline = time.monotonic() + wait
        with self._changed:
            while not self._updates and (left := deadline - time.monotonic()) > 0:
                self._changed.wait(left)
            if not self._updates:
                return 408, {"ok": False, "error_code": 408, "description": "Request timeout"}
            return 200, {"ok": True, "result": self._updates.popleft()}

    def _api_setWebhook(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:  # noqa: N802
        url, secret = str(params.get("url") or ""), str(params.get("secret_token") or "")
        if not url.startswith("https://") or not 8 <= len(secret) <= 256:
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: url/secret"}
        with self._changed:
            self.webhook = {"url": url, "secret_token": secret}
        return 200, {"ok": True, "result": {"url": url, "updated_at": _ms()}}

    def _api_deleteWebhook(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:  # noqa: N802
        with self._changed:
            self.webhook = {}
        return 200, {"ok": True, "result": {"url": "", "updated_at": _ms()}}

    def _api_getWebhookInfo(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:  # noqa: N802
        with self._changed:
            url = self.webhook.get("url", "")
        if not url:  # what the real platform answers for a bot without a webhook
            return 404, {"ok": False, "description": "Not Found"}
        return 200, {"ok": True, "result": {"url": url, "updated_at": _ms()}}

    def _api_sendMessage(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:  # noqa: N802
        text = params.get("text")
        if not isinstance(text, str) or not text:
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: text"}
        if len(text) > MAX_TEXT:
            return 400, {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: text too long",
            }
        return self._deliver("sendMessage", params, text)

    def _api_sendPhoto(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:  # noqa: N802
        photo, caption = params.get("photo"), str(params.get("caption") or "")
        if not isinstance(photo, str) or not photo.startswith(("http://", "https://")):
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: photo"}
        if len(caption) > MAX_TEXT:
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: caption"}
        return self._deliver("sendPhoto", params, caption, photo=photo)

    def _api_sendChatAction(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:  # noqa: N802
        if not params.get("chat_id"):
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: chat_id"}
        return 200, {"ok": True, "result": True}

    def _deliver(
        self, method: str, params: dict[str, Any], text: str, **extra: str
    ) -> tuple[int, dict[str, Any]]:
        """Record a message to a chat, unless the user blocked the bot."""
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, str) or not chat_id:
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: chat_id"}
        with self._changed:
            if chat_id in self.blocked:
                return 403, {"ok": False, "error_code": 403, "description": "user blocked the bot"}
            record = {
                "chat_id": chat_id,
                "text": text,
                "method": method,
                "message_id": uuid.uuid4().hex,
                "date": _ms(),
                **extra,
            }
            self.sent.append(record)
            if self.log_path is not None:
                with self.log_path.open("a", encoding="utf-8") as handle:
                    handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            self._changed.notify_all()
        return 200, {
            "ok": True,
            "result": {"message_id": record["message_id"], "date": record["date"]},
        }


def _ms() -> int:
    """Now in epoch milliseconds, as Zalo dates are."""
    return int(time.time() * 1000)


def _update(event: str, chat_id: str, name: str, **fields: str) -> dict[str, Any]:
    """A user's update as the platform shapes it."""
    return {
        "event_name": event,
        "message": {
            "message_id": uuid.uuid4().hex,
            "date": _ms(),
            "chat": {"id": str(chat_id), "chat_type": "PRIVATE"},
            "from": {"id": str(chat_id), "display_name": name},
            **fields,
        },
    }


def _fault(request: BaseHTTPRequestHandler, fault: ZaloFault) -> None:
    """Answer a scripted failure."""
    if fault.kind == "429":
        return _reply(
            request,
            429,
            {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests",
                "parameters": {"retry_after": fault.retry_after},
            },
        )
    if fault.kind == "403":
        return _error(request, 403, "user blocked the bot")
    return _error(request, 500, "Internal Server Error")


def _error(request: BaseHTTPRequestHandler, status: int, description: str) -> None:
    """An `ok: false` answer."""
    _reply(request, status, {"ok": False, "error_code": status, "description": description})


def _reply(request: BaseHTTPRequestHandler, status: int, payload: dict[str, Any]) -> None:
    """Send a JSON response."""
    data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    try:
        request.send_response(status)
        request.send_header("Content-Type", "application/json; charset=utf-8")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the client gave up waiting: nothing to answer


if __name__ == "__main__":
    fake = FakeZaloApi(
        token=sys.argv[3] if len(sys.argv) > 3 else TOKEN, log_path=Path(sys.argv[2])
    )
    fake.start(int(sys.argv[1]))
    print(f"READY {fake.port}", flush=True)
    threading.Event().wait()

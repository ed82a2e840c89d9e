"""A fake Telegram Bot API over HTTP, with scripted faults, for dispatch and crash tests.

Run in a thread (`FakeBotApi().start()`) or as a process (`python -m tests.fakes.bot_api PORT LOG`),
in which case every delivered message is appended to LOG as a JSON line.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from tests.fakes.loopback import LoopbackServer

BOT = {"id": 999000, "is_bot": True, "first_name": "dondoc", "username": "dondoc_test_bot"}


@dataclass
class Fault:
    """A scripted failure for the next matching sendMessage."""

    kind: str  # "429" | "500" | "403" | "drop" | "slow"
    chat_id: str | None = None  # None: any chat
    retry_after: int = 1
    seconds: float = 0.0
    times: int = 1
    after: int = 0  # matching sends that go through before the fault strikes


@dataclass
class FakeBotApi(LoopbackServer):
    """Records every sendMessage; answers getMe and friends like Telegram."""

    keep_alive = True

    log_path: Path | None = None
    delay: float = 0.0
    faults: list[Fault] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    attempts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    blocked: set[str] = field(default_factory=set)
    files: dict[str, bytes] = field(default_factory=dict)  # file id -> what a user attached
    downloads: list[str] = field(default_factory=list)  # file ids asked for, in order
    updates: list[dict[str, Any]] = field(default_factory=list)  # what getUpdates hands out
    offsets: list[int | None] = field(default_factory=list)  # the offset of each getUpdates

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._next_id = 1

    def texts_for(self, chat_id: str) -> list[str]:
        """Texts delivered to a chat, in order."""
        return [m["text"] for m in self.sent if m["chat_id"] == str(chat_id)]

    def _fault_for(self, chat_id: str) -> Fault | None:
        """Consume the first scripted fault matching this chat."""
        with self._lock:
            for fault in self.faults:
                if fault.times > 0 and fault.chat_id in (None, chat_id):
                    if fault.after > 0:
                        fault.after -= 1
                        return None
                    fault.times -= 1
                    return fault
        return None

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        """Route /bot<token>/<method> and /file/bot<token>/<path>."""
        if request.path.startswith("/file/"):
            return self._download(request)
        method = request.path.rsplit("/", 1)[-1]
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        params = _params(body, request.headers.get("Content-Type", ""))
        if method == "getFile":
            return self._get_file(request, str(params.get("file_id", "")))
        if method == "getMe":
            return _reply(request, 200, {"ok": True, "result": BOT})
        if method == "getUpdates":
            return self._get_updates(request, params)
        if method in ("deleteWebhook", "setWebhook", "setMyCommands", "answerCallbackQuery"):
            return _reply(request, 200, {"ok": True, "result": True})
        if method not in ("sendMessage", "sendDocument", "sendPhoto"):
            return _reply(
                request, 404, {"ok": False, "error_code": 404, "description": "Not Found"}
            )
        chat_id = str(params.get("chat_id", ""))
        with self._lock:
            self.attempts[chat_id] += 1
        if chat_id in self.blocked:
            return _forbidden(request)
        fault = self._fault_for(chat_id)
        if fault is not None:
            if fault.kind == "429":
                return _reply(
                    request,
                    429,
                    {
                        "ok": False,
                        "error_code": 429,
                        "description": f"Too Many Requests: retry after {fault.retry_after}",
                        "parameters": {"retry_after": fault.retry_after},
                    },
                )
            if fault.kind == "500":
                return _reply(
                    request, 500, {"ok": False, "error_code": 500, "description": "Internal Error"}
                )
            if fault.kind == "403":
                with self._lock:
                    self.blocked.add(chat_id)
                return _forbidden(request)
            if fault.kind == "drop":
                request.close_connection = True
                request.connection.close()
                return None
            if fault.kind == "slow":
                time.sleep(fault.seconds)
                return _reply(request, 500, {"ok": False, "error_code": 500, "description": "late"})
        if self.delay:
            time.sleep(self.delay)
        with self._lock:
            message_id = self._next_id
            self._next_id += 1
            record = {
                "chat_id": chat_id,
                "text": str(params.get("text", params.get("caption", ""))),
                "method": method,
                "reply_markup": params.get("reply_markup"),
                "message_id": message_id,
            }
            self.sent.append(record)
            if self.log_path is not None:
                with self.log_path.open("a", encoding="utf-8") as handle:
                    handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        result = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": int(chat_id) if chat_id.lstrip("-").isdigit() else 0, "type": "private"},
            "from": BOT,
            "text": record["text"],
        }
        return _reply(request, 200, {"ok": True, "result": result})

    def _get_updates(self, request: BaseHTTPRequestHandler, params: dict[str, Any]) -> None:
        """The updates from the offset on (those before it are confirmed: dropped), at once."""
        offset = params.get("offset")
        with self._lock:
            self.offsets.append(None if offset is None else int(offset))
            if offset is not None:
                self.updates = [u for u in self.updates if u["update_id"] >= int(offset)]
            batch = self.updates[: int(params.get("limit", 100))]
        return _reply(request, 200, {"ok": True, "result": batch})

    def _get_file(self, request: BaseHTTPRequestHandler, file_id: str) -> None:
        """getFile: where a user's attachment is downloaded from; 400 for an unknown id."""
        with self._lock:
            self.downloads.append(file_id)
        if file_id not in self.files:
            refused = {"ok": False, "error_code": 400, "description": "Bad Request: bad file_id"}
            return _reply(request, 400, refused)
        found = {
            "file_id": file_id,
            "file_unique_id": f"u-{file_id}",
            "file_size": len(self.files[file_id]),
            "file_path": f"documents/{file_id}",
        }
        return _reply(request, 200, {"ok": True, "result": found})

    def _download(self, request: BaseHTTPRequestHandler) -> None:
        """The bytes at /file/bot<token>/documents/<file id>."""
        content = self.files.get(request.path.rsplit("/", 1)[-1])
        if content is None:
            missing = {"ok": False, "error_code": 404, "description": "Not Found"}
            return _reply(request, 404, missing)
        request.send_response(200)
        request.send_header("Content-Type", "application/octet-stream")
        request.send_header("Content-Length", str(len(content)))
        request.end_headers()
        request.wfile.write(content)
        return None


def _params(body: bytes, content_type: str) -> dict[str, Any]:
    """Form-encoded or JSON request parameters."""
    if not body:
        return {}
    if "json" in content_type:
        return json.loads(body)
    if "multipart" in content_type:
        return _multipart_fields(body, content_type)
    return {k: v[0] for k, v in parse_qs(body.decode("utf-8")).items()}


def _multipart_fields(body: bytes, content_type: str) -> dict[str, Any]:
    """The plain text fields of a multipart body (files are ignored)."""
    boundary = content_type.split("boundary=", 1)[-1].strip('"').encode()
    fields: dict[str, Any] = {}
    for part in body.split(b"--" + boundary):
        head, _, value = part.partition(b"\r\n\r\n")
        if b'name="' not in head or b"filename=" in head:
            continue
        name = head.split(b'name="', 1)[1].split(b'"', 1)[0].decode()
        fields[name] = value.rstrip(b"\r\n").decode("utf-8", "replace")
    return fields


def _reply(request: BaseHTTPRequestHandler, status: int, payload: dict[str, Any]) -> None:
    """Send a JSON response."""
    data = json.dumps(payload).encode()
    try:
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the client gave up (a timeout fault): nothing to answer


def _forbidden(request: BaseHTTPRequestHandler) -> None:
    """Telegram's answer when the user blocked the bot."""
    _reply(
        request,
        403,
        {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"},
    )


if __name__ == "__main__":
    server = FakeBotApi(
        log_path=Path(sys.argv[2]), delay=float(sys.argv[3]) if len(sys.argv) > 3 else 0
    )
    server.start(int(sys.argv[1]))
    print(f"READY {server.port}", flush=True)
    threading.Event().wait()

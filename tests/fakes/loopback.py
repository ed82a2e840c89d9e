"""The serving part shared by the fake APIs: a threaded HTTP server on loopback."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


class LoopbackServer:
    """Runs `self._handle(request)` for every GET/POST in a background thread."""

    keep_alive = False  # HTTP/1.1 keep-alive, as the real APIs: clients reuse connections
    _server: ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        """The port the server listens on."""
        assert self._server is not None
        return self._server.server_address[1]

    def api_url(self) -> str:
        """The base URL to configure (the token is appended)."""
        return f"http://127.0.0.1:{self.port}/bot"

    def start(self, port: int = 0) -> Self:
        """Serve in a background thread."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            if fake.keep_alive:
                protocol_version = "HTTP/1.1"
                disable_nagle_algorithm = True  # headers and body leave at once
                wbufsize = -1

            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                fake._handle(self)

            def do_GET(self) -> None:  # noqa: N802
                fake._handle(self)

            def log_message(self, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _handle(self, request: BaseHTTPRequestHandler) -> Any:
        """Answer one request."""
        raise NotImplementedError

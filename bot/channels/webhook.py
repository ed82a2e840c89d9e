"""Webhook endpoints: the secret header is checked in constant time before the body is parsed."""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable

import tornado.web
from tornado.httpserver import HTTPServer

from bot.channels.inbound import StoreFailed
from bot.settings import Settings

logger = logging.getLogger(__name__)

MAX_BODY = 1_000_000


def secret_matches(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison of a webhook secret header."""
    if not expected or given is None:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


class SecretWebhook(tornado.web.RequestHandler):
    """POST endpoint: 403 for a wrong secret before reading the JSON, 200 once stored, else 503."""

    def initialize(
        self, header: str, secret: str | None, accept: Callable[[dict], Awaitable[None]]
    ) -> None:
        self.header = header
        self.secret = secret
        self.accept = accept

    async def post(self) -> None:
        """Check the secret, parse, and answer 200 once the update is stored."""
        if not secret_matches(self.secret, self.request.headers.get(self.header)):
            self.set_status(403)
            self.finish()
            return
        try:
            payload = json.loads(self.request.body)
        except (ValueError, UnicodeDecodeError):
            self.set_status(400)
            self.finish()
            return
        if not isinstance(payload, dict):
            self.set_status(400)
            self.finish()
            return
        try:
            await self.accept(payload)
        except StoreFailed:  # not stored: the platform resends what was not answered 200
            logger.warning("webhook update not stored; answered 503 for a retry")
            self.set_status(503)
            self.finish({"ok": False})
            return
        self.set_status(200)
        self.finish({"ok": True})

    def log_exception(self, *args: object) -> None:  # never log request bodies or headers
        """Log errors without the request (it carries the secret)."""
        logger.error("webhook handler error", exc_info=True)


async def serve(
    settings: Settings, routes: list[tuple[str, type, dict]]
) -> Callable[[], Awaitable[None]]:
    """Start a Tornado server with the given routes; return its stop coroutine."""
    app = tornado.web.Application(routes)
    server = HTTPServer(app, max_body_size=MAX_BODY)
    server.listen(settings.webhook_port, address=settings.webhook_listen)
    logger.info("webhooks on %s:%s", settings.webhook_listen, settings.webhook_port)

    async def stop() -> None:
        server.stop()
        await server.close_all_connections()

    return stop

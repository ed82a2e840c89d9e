"""Zalo by webhook: `/zalo` served with the secret header checked, the URL registered."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bot.channels.webhook import SecretWebhook, serve
from bot.channels.zalo.api import ZaloApi
from bot.channels.zalo.poller import UpdateHandler
from bot.settings import Settings

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Bot-Api-Secret-Token"


def webhook_route(secret: str | None, accept: UpdateHandler) -> tuple[str, type, dict]:
    """The Tornado route: `/zalo`, secret header checked in constant time before parsing."""
    return (r"/zalo", SecretWebhook, {"header": SECRET_HEADER, "secret": secret, "accept": accept})


async def start_webhook(
    settings: Settings, api: ZaloApi, accept: UpdateHandler
) -> Callable[[], Awaitable[None]]:
    """Serve `/zalo` (200 once `accept` has stored the body's updates), register the URL."""
    assert settings.zalo_webhook_url is not None
    if settings.zalo_webhook_secret is None:
        raise ValueError("ZALO_WEBHOOK_URL is set: ZALO_WEBHOOK_SECRET is required too")
    secret = settings.zalo_webhook_secret.get_secret_value()
    port = settings.zalo_webhook_port or settings.webhook_port
    telegram_hook = settings.telegram_enabled and settings.telegram_webhook_url
    if telegram_hook and port == settings.webhook_port:
        raise ValueError("Telegram and Zalo webhooks need different ports: set ZALO_WEBHOOK_PORT")
    stop = await serve(
        settings.model_copy(update={"webhook_port": port}), [webhook_route(secret, accept)]
    )
    await api.set_webhook(settings.zalo_webhook_url, secret)
    logger.info("zalo webhook registered")
    return stop

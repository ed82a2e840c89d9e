"""The Zalo channel: Zalo Bot Platform updates in (polling or webhook), neutral messages out."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

import httpx
from sqlalchemy.engine import Engine

from bot.inbox import Inbox
from bot.settings import Settings
from bot.webhook import SecretWebhook, serve
from chat.messages import (
    Attachment,
    Capabilities,
    OutgoingMessage,
    RetryAfter,
    SendError,
    TransientSendError,
    Unreachable,
    split_text,
)
from chat.texts import say
from handlers.state import PENDING_TTL
from handlers.types import Incoming

logger = logging.getLogger(__name__)

CHANNEL = "zalo"
MAX_TEXT = 2000
SECRET_HEADER = "X-Bot-Api-Secret-Token"
TEXT_EVENTS = {"message.text.received"}
IMAGE_EVENTS = {"message.image.received"}
MIN_POLL_INTERVAL = 1.0
MAX_BACKOFF = 60.0
DEFAULT_RETRY_AFTER = 5.0
MAX_UPDATE_KEY = 96  # Inbound.update_key
QUOTA_WARNING_SHARE = 0.8

# Optional: turns a photo attachment into a public URL for sendPhoto (Zalo takes URLs, not bytes).
PhotoPublisher = Callable[[Attachment], Awaitable[str | None]]
UpdateHandler = Callable[[dict[str, Any]], Awaitable[None]]


class ZaloAuthError(SendError):
    """The platform refused the token (HTTP 401/404): nothing will work until it is fixed."""


class ZaloApi:
    """A thin client: `POST {base_url}{token}/{method}` with a JSON body, errors mapped."""

    def __init__(
        self,
        token: str,
        *,
        base_url: str,
        timeout: float = 15.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self._token = token
        self._base_url = base_url
        self.timeout = timeout
        self._client = client or httpx.AsyncClient(timeout=timeout)

    def __repr__(self) -> str:
        return "ZaloApi(token=***)"

    async def __aenter__(self) -> ZaloApi:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._client.aclose()

    async def _post(
        self, method: str, params: dict[str, Any], timeout: float | None = None
    ) -> tuple[int, dict[str, Any]]:
        """One request: the status code (or the body's error_code) and the JSON body."""
        url = f"{self._base_url}{self._token}/{method}"
        try:
            response = await self._client.post(url, json=params, timeout=timeout or self.timeout)
        except httpx.TimeoutException:
            # `from None`: the chained httpx error carries the URL, and the URL carries the token.
            raise TransientSendError(f"zalo {method}: timed out") from None
        except httpx.HTTPError as exc:
            raise TransientSendError(f"zalo {method}: {type(exc).__name__}") from None
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        status = response.status_code
        if status == 200 and body.get("ok") is False:
            status = int(_number(body.get("error_code"))) or 400
        if status == 429 and "Retry-After" in response.headers:
            body.setdefault("parameters", {"retry_after": response.headers["Retry-After"]})
        return status, body

    async def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        """Call a method and return its `result`, or raise the matching SendError."""
        status, body = await self._post(method, params or {})
        return _result(method, status, body)

    async def get_me(self) -> dict[str, Any]:
        """The bot's own account."""
        return await self.call("getMe") or {}

    async def get_updates(self, timeout: int = 0) -> list[dict[str, Any]]:
        """Waiting updates (long poll up to `timeout` s); HTTP 408 means none."""
        status, body = await self._post(
            "getUpdates", {"timeout": str(timeout)}, timeout=timeout + self.timeout
        )
        if status == 408:
            return []
        return updates_in({"result": _result("getUpdates", status, body)})

    async def set_webhook(self, url: str, secret_token: str) -> Any:
        """Have the platform push updates to `url` with the secret header."""
        return await self.call("setWebhook", {"url": url, "secret_token": secret_token})

    async def delete_webhook(self) -> Any:
        """Go back to getUpdates."""
        return await self.call("deleteWebhook")

    async def get_webhook_info(self) -> dict[str, Any]:
        """The registered webhook; {} when there is none."""
        status, body = await self._post("getWebhookInfo", {})
        if status == 404:  # the platform's answer for a bot that never had a webhook
            return {}
        return _result("getWebhookInfo", status, body) or {}

    async def send_message(self, chat_id: str, text: str) -> dict[str, Any]:
        """Send a text (at most 2,000 characters)."""
        return await self.call("sendMessage", {"chat_id": chat_id, "text": text}) or {}

    async def send_photo(self, chat_id: str, photo: str, caption: str = "") -> dict[str, Any]:
        """Send a photo by URL."""
        params = {"chat_id": chat_id, "photo": photo}
        if caption:
            params["caption"] = caption
        return await self.call("sendPhoto", params) or {}

    async def send_chat_action(self, chat_id: str, action: str = "typing") -> Any:
        """Show the user that the bot is working on an answer."""
        return await self.call("sendChatAction", {"chat_id": chat_id, "action": action})


def _number(value: object) -> float:
    """A number from a JSON field or header, 0 when absent or malformed."""
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0


def _result(method: str, status: int, body: dict[str, Any]) -> Any:
    """The `result` of a successful answer; the neutral exception for a failed one."""
    if status == 200:
        return body.get("result")
    description = str(body.get("description") or "")[:200]
    text = f"zalo {method}: HTTP {status} {description}".strip()
    if status == 429:
        parameters = body.get("parameters")
        retry = parameters.get("retry_after") if isinstance(parameters, dict) else None
        raise RetryAfter(_number(retry) or DEFAULT_RETRY_AFTER)
    if status == 403 or "block" in description.lower():
        raise Unreachable(text)
    if status in (401, 404):
        raise ZaloAuthError(text)
    if status >= 500:
        raise TransientSendError(text)
    raise SendError(text)


def updates_in(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The updates of a getUpdates answer or webhook body, wrapped (`ok`/`result`) or bare."""
    result: object = payload
    if "event_name" not in payload and "result" in payload:
        result = payload["result"]
    if isinstance(result, dict):
        return [result]
    if isinstance(result, list):
        return [u for u in result if isinstance(u, dict)]
    return []


def _update_key(message_id: str) -> str:
    """The dedupe key: Zalo's message id (a digest if it would not fit the column)."""
    if len(message_id) <= MAX_UPDATE_KEY:
        return message_id
    return hashlib.sha256(message_id.encode("utf-8")).hexdigest()


def to_incoming(payload: dict[str, Any]) -> Incoming | None:
    """A neutral Incoming for a text or photo message; None for anything else."""
    updates = updates_in(payload)
    if not updates:
        return None
    update = updates[0]
    event = str(update.get("event_name") or "")
    message = update.get("message")
    if event not in TEXT_EVENTS | IMAGE_EVENTS or not isinstance(message, dict):
        logger.debug("zalo event %r ignored", event[:64])
        return None
    found_chat, found_sender = message.get("chat"), message.get("from")
    chat = found_chat if isinstance(found_chat, dict) else {}
    sender = found_sender if isinstance(found_sender, dict) else {}
    chat_id = str(chat.get("id") or sender.get("id") or "")
    message_id = str(message.get("message_id") or "")
    if not chat_id or not message_id:
        logger.debug("zalo %s without chat or message id ignored", event)
        return None
    files: tuple[str, ...] = ()
    if event in IMAGE_EVENTS:
        photo = message.get("photo_url") or message.get("photo")
        files = (photo,) if isinstance(photo, str) and photo else ()
        if not files:
            logger.debug("zalo image message %s without a URL ignored", message_id)
            return None
    text = message.get("text") or message.get("caption") or ""
    return Incoming(
        channel=CHANNEL,
        chat_id=chat_id,
        update_key=_update_key(message_id),
        user_name=str(sender.get("display_name") or sender.get("name") or ""),
        text=text if isinstance(text, str) else "",
        attachments=files,
    )


class ZaloSender:
    """Sends neutral messages over Zalo: plain text, split under 2,000 characters, no buttons."""

    channel = CHANNEL
    max_text = MAX_TEXT
    capabilities = Capabilities(html=False, text_limit=MAX_TEXT, items_per_message=3, files=False)

    def __init__(self, api: ZaloApi, *, photo_url: PhotoPublisher | None = None) -> None:
        self.api = api
        self.photo_url = photo_url

    async def send(self, chat_id: str, message: OutgoingMessage) -> str | None:
        """Send the text (buttons dropped: the text carries the reply codes), then photos."""
        photos: list[str] = []
        skipped: list[str] = []
        for attachment in message.attachments:
            url = None
            if attachment.kind == "photo" and self.photo_url is not None:
                url = await self.photo_url(attachment)
            if url:
                photos.append(url)
            else:
                skipped.append(attachment.filename)
        text = message.text
        if skipped:
            note = say(CHANNEL, "zalo_attachment_skipped", filenames=skipped)
            text = f"{text}\n\n{note}" if text.strip() else note
        sent_id = None
        for piece in split_text(text, MAX_TEXT):
            if piece.strip():
                sent = await self.api.send_message(chat_id, piece)
                sent_id = str(sent.get("message_id") or "") or sent_id
        for url in photos:
            await self.api.send_photo(chat_id, url)
        return sent_id


class ZaloConversation:
    """Zalo in the shared inbound loop (bot/inbox.py): its updates in, the sender's answers out."""

    name = CHANNEL
    counts_usage = True  # replies count against the monthly quota (scheduler/quota.py)

    def __init__(
        self,
        engine: Engine,
        sender: ZaloSender,
        *,
        clock: Callable[[], datetime] | None = None,
        pending_ttl: timedelta = PENDING_TTL,
        inbox: Inbox | None = None,
    ) -> None:
        self.sender = sender
        self.inbox = inbox or Inbox(engine, clock=clock, pending_ttl=pending_ttl)
        self.inbox.add(self)

    def parse(self, raw: dict[str, Any]) -> Incoming | None:
        """The Incoming of one stored update."""
        return to_incoming(raw)

    async def show_working(self, chat_id: str) -> None:
        """Best effort: a failed chat action must not hold up the answer."""
        try:
            await self.sender.api.send_chat_action(chat_id)
        except SendError as exc:
            logger.debug("zalo chat action failed: %s", exc)

    async def acknowledge(self, raw: dict[str, Any], popup: str | None) -> None:
        """Zalo has no buttons to answer."""

    async def handle_update(self, update: dict[str, Any]) -> None:
        """A polled update: stored and handled in one transaction, answered before the next poll."""
        await self.inbox.receive(CHANNEL, update)

    async def accept(self, payload: dict[str, Any]) -> None:
        """A webhook body: returns once each of its updates is stored (StoreFailed if not)."""
        for update in updates_in(payload):
            await self.inbox.accept(CHANNEL, update)


class ZaloPoller:
    """getUpdates in a loop: 408 is "nothing yet", errors back off exponentially (capped)."""

    def __init__(
        self,
        api: ZaloApi,
        handle: UpdateHandler,
        *,
        interval: float = MIN_POLL_INTERVAL,
        long_poll: int = 30,
        max_backoff: float = MAX_BACKOFF,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.api = api
        self.handle = handle
        self.interval = max(interval, MIN_POLL_INTERVAL)
        self.long_poll = long_poll
        self.max_backoff = max_backoff
        self.sleep = sleep
        self.failures = 0

    async def run(self) -> None:
        """Poll until cancelled."""
        while True:
            await self.sleep(await self.poll_once())

    async def poll_once(self) -> float:
        """One getUpdates call with its updates handled; return the wait before the next."""
        try:
            updates = await self.api.get_updates(timeout=self.long_poll)
        except RetryAfter as exc:
            return self._backoff(exc, at_least=exc.seconds)
        except TransientSendError as exc:
            return self._backoff(exc)
        except SendError as exc:  # a refused token or request: retrying fast would not help
            self.failures += 1
            logger.error("zalo getUpdates refused (%s); next poll in %.0f s", exc, self.max_backoff)
            return self.max_backoff
        self.failures = 0
        for update in updates:
            await self.handle(update)
        return self.interval

    def _backoff(self, exc: SendError, at_least: float = 0.0) -> float:
        """The next wait after a failed poll: doubling from the interval, capped."""
        self.failures += 1
        wait = min(self.max_backoff, self.interval * 2 ** (self.failures - 1))
        wait = max(wait, at_least)
        logger.warning("zalo getUpdates failed (%s); next poll in %.1f s", exc, wait)
        return wait


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


def build_api(settings: Settings) -> ZaloApi:
    """A client on the configured API URL (the token is appended)."""
    assert settings.zalo_bot_token is not None
    return ZaloApi(
        settings.zalo_bot_token.get_secret_value(),
        base_url=settings.zalo_api_url,
        timeout=settings.zalo_timeout,
    )


async def open_sender(settings: Settings, stack: AsyncExitStack) -> ZaloSender:
    """A sender for one-shot commands, closed when the stack closes."""
    api = await stack.enter_async_context(build_api(settings))
    return ZaloSender(api)


@dataclass(frozen=True)
class RunningZalo:
    """The started channel: its sender for the dispatcher and how to stop it."""

    sender: ZaloSender
    stop: Callable[[], Awaitable[None]]


async def start(settings: Settings, inbox: Inbox) -> RunningZalo:
    """Check the token, then receive updates by webhook (when a URL is set) or by polling."""
    api = build_api(settings)
    try:
        me = await api.get_me()
        logger.info("zalo bot %s ready", me.get("account_name") or me.get("id") or "?")
        sender = ZaloSender(api)
        conversation = ZaloConversation(inbox.engine, sender, inbox=inbox)
        if settings.zalo_webhook_url:
            stop_receiving = await start_webhook(settings, api, conversation.accept)
        else:
            if (await api.get_webhook_info()).get("url"):
                await api.delete_webhook()  # getUpdates does not work while a webhook is set
            poller = ZaloPoller(
                api,
                conversation.handle_update,
                interval=settings.zalo_poll_interval,
                long_poll=settings.zalo_poll_timeout,
            )
            stop_receiving = _cancel_on_stop(asyncio.create_task(poller.run()))
    except BaseException:
        await api.aclose()
        raise

    async def stop() -> None:
        """Stop receiving, then close the client."""
        await stop_receiving()
        await api.aclose()

    return RunningZalo(sender=sender, stop=stop)


def _cancel_on_stop(task: asyncio.Task[None]) -> Callable[[], Awaitable[None]]:
    """A stop coroutine that cancels a background task and waits for it."""

    async def stop() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return stop

"""Zalo Bot Platform's HTTP API: a thin client, its answers read and its errors mapped."""

from __future__ import annotations

from types import TracebackType
from typing import Any

import httpx

from chat.messages import RetryAfter, SendError, TransientSendError, Unreachable

DEFAULT_RETRY_AFTER = 5.0


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
    if not isinstance(value, int | float | str):
        return 0.0
    try:
        return float(value)
    except ValueError:
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

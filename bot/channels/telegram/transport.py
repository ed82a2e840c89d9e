"""A python-telegram-bot request backend on aiohttp.

python-telegram-bot's default transport (httpx) costs ~1.7 ms of CPU per request on our 2-core
machine, which made the HTTP client the largest cost of dispatching a reminder; aiohttp does the
same request for a fraction of that. The library documents `BaseRequest` as the place to plug in
another HTTP client; this is that, and nothing else changes.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData


class AiohttpRequest(BaseRequest):
    """Bot API requests over one pooled aiohttp session."""

    def __init__(
        self,
        *,
        connection_pool_size: int = 16,
        read_timeout: float | None = 15.0,
        write_timeout: float | None = 15.0,
        connect_timeout: float | None = 5.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout (python-telegram-bot adds it to long-polling timeouts)."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Open the session."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},
                cookie_jar=aiohttp.DummyCookieJar(),  # the Bot API sets none
            )

    async def shutdown(self) -> None:
        """Close the session."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send one request; timeouts and connection failures become the library's errors."""
        await self.initialize()  # like httpx's client, usable before an explicit initialize()
        assert self._session is not None
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = (
            self._connect_timeout if isinstance(connect_timeout, DefaultValue) else connect_timeout
        )
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=connect, sock_read=read)
        try:
            async with self._session.request(
                method,
                url,
                data=_body(request_data),
                headers=_headers(request_data),
                timeout=timeout,
            ) as response:
                return response.status, await response.read()
        except TimeoutError as err:
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{type(err).__name__}: {err}") from err


JSON_HEADERS = {"Content-Type": "application/json"}


def _headers(request_data: RequestData | None) -> dict[str, str] | None:
    """JSON content type for a request without files."""
    return JSON_HEADERS if request_data is not None and not request_data.contains_files else None


def _body(request_data: RequestData | None) -> Any:
    """The library's JSON payload, or a multipart form when the request uploads files.

    JSON rather than a urlencoded form: percent-encoding a long Vietnamese text cost more CPU
    than the rest of the request. The Bot API takes both.
    """
    if request_data is None:
        return None
    if not request_data.contains_files:
        return request_data.json_payload
    fields = request_data.json_parameters
    files = request_data.multipart_data
    form = aiohttp.FormData()
    for name, value in fields.items():
        form.add_field(name, value)
    for name, (filename, content, mimetype) in files.items():
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form

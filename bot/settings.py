"""Configuration from the environment or `.env` (the README's table of variables)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from plans.clock import set_timezone
from plans.errors import DondocError
from plans.redact import set_secrets

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
PLACEHOLDERS = {"changeme", "change-me", "your-token-here", "xxx", "token"}
# Why a value was refused, by pydantic's error type; the value itself is never repeated.
REASONS = {
    "int_parsing": "phải là số nguyên",
    "int_from_float": "phải là số nguyên",
    "float_parsing": "phải là số",
    "bool_parsing": "phải là true hoặc false",
    "greater_than": "phải lớn hơn {gt}",
    "greater_than_equal": "phải từ {ge} trở lên",
    "less_than": "phải nhỏ hơn {lt}",
    "less_than_equal": "phải từ {le} trở xuống",
}
UNKNOWN_REASON = "có giá trị không hợp lệ"


class SettingsError(DondocError):
    """Bad values in the environment: one line each, naming the variable, never the value."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class Settings(BaseSettings):
    """Everything dondoc reads from its environment; a channel without a token is off."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )

    dondoc_database_url: str = "sqlite:///dondoc.db"
    dondoc_timezone: str = "Asia/Ho_Chi_Minh"
    dondoc_log_level: str = "INFO"
    dondoc_scheduler: bool = True  # off: this process only serves chats; ticks run elsewhere
    # How long a question the bot asked (a note, a return reason) waits for its answer.
    dondoc_pending_minutes: int = Field(default=30, gt=0)
    telegram_bot_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org/bot"
    telegram_bot_username: str = "dondoc_bot"
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_poll_interval: float = 1.0
    telegram_timeout: float = 15.0
    zalo_bot_token: SecretStr | None = None
    zalo_api_url: str = "https://bot-api.zaloplatforms.com/bot"
    zalo_webhook_secret: SecretStr | None = None
    zalo_monthly_quota: int | None = None
    # Zalo channel (bot/channels/zalo/): webhook mode when a URL is set, polling otherwise.
    zalo_webhook_url: str | None = None
    zalo_webhook_port: int | None = None  # default: webhook_port
    zalo_poll_interval: float = 1.0  # seconds between getUpdates calls (never below 1)
    zalo_poll_timeout: int = 30  # getUpdates long-poll seconds
    zalo_timeout: float = 15.0  # HTTP timeout of the other Zalo API calls
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    send_rate_per_second: float = 25.0
    send_rate_per_chat: float = 1.0
    # Messages in flight; a crash may repeat at most this many. None: rate × 0.2 s (5 at 25/s).
    send_concurrency: int | None = Field(default=None, gt=0)

    @field_validator(
        "telegram_bot_token",
        "zalo_bot_token",
        "telegram_webhook_secret",
        "zalo_webhook_secret",
        mode="before",
    )
    @classmethod
    def _no_placeholder(cls, value: object) -> object:
        """Refuse example values left in place; an empty value means the channel is off."""
        if isinstance(value, str):
            if not value.strip():
                return None
            if value.strip().lower() in PLACEHOLDERS:
                raise ValueError("vẫn là giá trị mẫu của .env.example")
        return value

    @field_validator("dondoc_log_level")
    @classmethod
    def _level_name(cls, value: str) -> str:
        """A logging level name, in any case."""
        if value.strip().upper() not in LOG_LEVELS:
            raise ValueError(f"phải là {', '.join(LOG_LEVELS[:-1])} hoặc {LOG_LEVELS[-1]}")
        return value.strip().upper()

    @field_validator("dondoc_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        """An IANA zone name this machine knows."""
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ValueError("không phải tên múi giờ IANA, ví dụ Asia/Ho_Chi_Minh") from None
        return value

    @field_validator("dondoc_database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        """A URL SQLAlchemy can read (its own error would quote the password)."""
        try:
            make_url(value)
        except ArgumentError:
            raise ValueError("không phải URL cơ sở dữ liệu, ví dụ sqlite:///dondoc.db") from None
        return value

    @model_validator(mode="after")
    def _webhooks_need_secrets(self) -> Settings:
        """A webhook without a secret would accept updates from anyone who finds the URL."""
        if self.telegram_webhook_url and self.telegram_webhook_secret is None:
            raise ValueError("TELEGRAM_WEBHOOK_URL cần có TELEGRAM_WEBHOOK_SECRET")
        if self.zalo_webhook_url and self.zalo_webhook_secret is None:
            raise ValueError("ZALO_WEBHOOK_URL cần có ZALO_WEBHOOK_SECRET")
        return self

    @property
    def pending_ttl(self) -> timedelta:
        """How long a pending conversation step lasts (DONDOC_PENDING_MINUTES)."""
        return timedelta(minutes=self.dondoc_pending_minutes)

    @property
    def monthly_quotas(self) -> dict[str, int]:
        """Channel → its monthly message quota, for the channels that have one."""
        return {"zalo": self.zalo_monthly_quota} if self.zalo_monthly_quota else {}

    @property
    def telegram_enabled(self) -> bool:
        """Whether a Telegram token is configured."""
        return self.telegram_bot_token is not None

    @property
    def zalo_enabled(self) -> bool:
        """Whether a Zalo token is configured."""
        return self.zalo_bot_token is not None

    def secret_values(self) -> list[str]:
        """Every configured secret value: tokens, webhook secrets, the database password."""
        found = [
            secret.get_secret_value()
            for secret in (
                self.telegram_bot_token,
                self.zalo_bot_token,
                self.telegram_webhook_secret,
                self.zalo_webhook_secret,
            )
            if secret is not None
        ]
        password = make_url(self.dondoc_database_url).password
        return [*found, str(password)] if password else found


def load_settings(**overrides: Any) -> Settings:
    """Build settings at start-up (never at import time): the local zone and secrets follow them."""
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError([_problem(error) for error in exc.errors(include_url=False)]) from None
    set_timezone(settings.dondoc_timezone)
    set_secrets(settings.secret_values())
    return settings


def _problem(error: ErrorDetails) -> str:
    """One line for a refused value: the variable and the reason, in Vietnamese."""
    variable = ".".join(str(part) for part in error["loc"]).upper()
    context = error.get("ctx") or {}
    if error["type"] == "value_error":  # our validators' own words
        reason = str(context.get("error", UNKNOWN_REASON))
    else:
        reason = REASONS.get(error["type"], UNKNOWN_REASON).format(**context)
    return f"Cấu hình sai: {variable} {reason}." if variable else f"Cấu hình sai: {reason}."

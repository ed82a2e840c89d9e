"""Configuration from the environment or `.env` (SPEC §9)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDERS = {"changeme", "change-me", "your-token-here", "xxx", "token"}


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
    # Zalo channel (bot/zalo_channel.py): webhook mode when a URL is set, polling otherwise.
    zalo_webhook_url: str | None = None
    zalo_webhook_port: int | None = None  # default: webhook_port
    zalo_poll_interval: float = 1.0  # seconds between getUpdates calls (never below 1)
    zalo_poll_timeout: int = 30  # getUpdates long-poll seconds
    zalo_timeout: float = 15.0  # HTTP timeout of the other Zalo API calls
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    send_rate_per_second: float = 25.0
    send_rate_per_chat: float = 1.0
    send_concurrency: int = 1  # messages in flight; a crash may repeat at most this many

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
                raise ValueError("is still the placeholder from .env.example")
        return value

    @model_validator(mode="after")
    def _webhooks_need_secrets(self) -> Settings:
        """A webhook without a secret would accept updates from anyone who finds the URL."""
        if self.telegram_webhook_url and self.telegram_webhook_secret is None:
            raise ValueError("TELEGRAM_WEBHOOK_URL needs TELEGRAM_WEBHOOK_SECRET")
        if self.zalo_webhook_url and self.zalo_webhook_secret is None:
            raise ValueError("ZALO_WEBHOOK_URL needs ZALO_WEBHOOK_SECRET")
        return self

    @property
    def pending_ttl(self) -> timedelta:
        """How long a pending conversation step lasts (DONDOC_PENDING_MINUTES)."""
        return timedelta(minutes=self.dondoc_pending_minutes)

    @property
    def telegram_enabled(self) -> bool:
        """Whether a Telegram token is configured."""
        return self.telegram_bot_token is not None

    @property
    def zalo_enabled(self) -> bool:
        """Whether a Zalo token is configured."""
        return self.zalo_bot_token is not None


def load_settings(**overrides: object) -> Settings:
    """Build settings at start-up (never at import time)."""
    return Settings(**overrides)  # type: ignore[arg-type]

"""Secrets never leave the process: every text dondoc logs, prints or stores passes `redact`.

bot/settings.py registers the configured secrets when it builds the settings; bot/cli.py installs
`RedactingFilter` on the log handlers and redacts uncaught errors; scheduler/dispatcher.py redacts
the error texts it stores. A secret's URL-encoded forms are masked too: API URLs carry tokens.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

MASK = "***"
_secrets: re.Pattern[str] | None = None  # the one process-wide setting: see set_secrets
_traceback = logging.Formatter()


def set_secrets(values: Iterable[str | None]) -> None:
    """Mask these values (empty ones ignored) from now on, replacing any set before."""
    global _secrets
    forms = {form for value in values if value for form in _written_forms(value)}
    # Longest first: a secret that contains another is masked whole.
    ordered = sorted(forms, key=len, reverse=True)
    _secrets = re.compile("|".join(map(re.escape, ordered))) if ordered else None


def _written_forms(secret: str) -> set[str]:
    """A secret as written and as URL encoders write it (path, query string)."""
    return {secret, quote(secret), quote(secret, safe=""), quote_plus(secret)}


def redact(text: str) -> str:
    """The text with every configured secret replaced by ***."""
    return text if _secrets is None else _secrets.sub(MASK, text)


class RedactingFilter(logging.Filter):
    """Masks secrets in a record's message, traceback and stack before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Format the message and traceback once, redacted; the record keeps only the text."""
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = _traceback.formatException(record.exc_info)
        record.exc_info = None  # formatters use exc_text; the live exception holds the secret
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install_filter(handlers: Iterable[logging.Handler]) -> None:
    """Put the redacting filter on every handler that lacks one."""
    for handler in handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())

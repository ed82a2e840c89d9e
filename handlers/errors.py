"""Errors of the conversation use-cases; the edge turns them into user messages."""

from __future__ import annotations

from plans.errors import DondocError, UnknownUnitError

__all__ = ["HandlerError", "InvalidRoleError", "UnknownUnitError"]


class HandlerError(DondocError):
    """Base class for conversation errors."""


class InvalidRoleError(HandlerError):
    """A role other than contact, head or coordinator."""

"""Errors of the conversation use-cases; the edge turns them into user messages."""

from __future__ import annotations


class HandlerError(Exception):
    """Base class for conversation errors."""


class UnknownUnitError(HandlerError):
    """A unit code that is not in the directory."""

    def __init__(self, code: str) -> None:
        super().__init__(f"Không có đơn vị mã {code}")
        self.code = code


class InvalidRoleError(HandlerError):
    """A role other than contact, head or coordinator."""

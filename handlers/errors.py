"""Errors of the conversation use-cases; each carries the Vietnamese text the user reads."""

from __future__ import annotations

from collections.abc import Iterable

from plans.errors import DondocError, UnknownUnitError

__all__ = [
    "AlreadyConfirmedError",
    "HandlerError",
    "InvalidRoleError",
    "NotYourUnitError",
    "ReportRefused",
    "RetiredOccurrenceError",
    "UnknownUnitError",
]


class HandlerError(DondocError):
    """Base class for conversation errors."""


class InvalidRoleError(HandlerError):
    """A role other than contact, head or coordinator."""

    def __init__(self, roles: Iterable[str]) -> None:
        super().__init__(f"Vai trò phải là một trong: {', '.join(roles)}")


class ReportRefused(HandlerError):
    """A reply that may not be recorded; nothing was written."""


class NotYourUnitError(ReportRefused):
    """A reply on another unit's task, or from a chat that does not report."""

    def __init__(self) -> None:
        super().__init__("Bạn chỉ báo cáo được cho nhiệm vụ của đơn vị mình.")


class AlreadyConfirmedError(ReportRefused):
    """A correction after the coordinator confirmed the work done."""

    def __init__(self) -> None:
        super().__init__("Báo cáo này đã được xác nhận, không sửa được nữa.")


class RetiredOccurrenceError(ReportRefused):
    """A reply on a due date that a re-import of its plan retired (plans/importer.py)."""

    def __init__(self) -> None:
        super().__init__(
            "Kỳ hạn này không còn được theo dõi vì kế hoạch đã thay đổi; "
            "hãy báo cáo theo nhắc việc mới."
        )

"""Invite codes: random, single use, expiring, stored only as a hash."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

from handlers.errors import InvalidRoleError, UnknownUnitError
from storage.enums import Role
from storage.models import Invite, Unit

ROLES = tuple(Role)
INVITE_TTL = timedelta(days=14)


@dataclass(frozen=True)
class IssuedInvite:
    """A fresh invite: the plain code exists only here, never in the database."""

    code: str
    unit: Unit
    role: Role
    expires_at: datetime

    def telegram_link(self, bot_username: str) -> str:
        """The deep link that starts registration on Telegram."""
        return f"https://t.me/{bot_username}?start={self.code}"

    @property
    def zalo_text(self) -> str:
        """The text to send the bot on Zalo."""
        return f"DK {self.code}"


def hash_code(code: str) -> str:
    """The stored form of an invite code."""
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def create_invite(session: Session, *, unit_code: str, role: str, now: datetime) -> IssuedInvite:
    """Issue a single-use invite for a unit and role."""
    if role not in ROLES:
        raise InvalidRoleError(ROLES)
    unit = session.exec(select(Unit).where(Unit.code == unit_code, Unit.active)).first()
    if unit is None or unit.id is None:
        raise UnknownUnitError(unit_code)
    code = secrets.token_urlsafe(18)  # 24 chars of A-Z a-z 0-9 _ -, within Telegram's 64
    expires_at = now + INVITE_TTL
    session.add(
        Invite(
            code_hash=hash_code(code),
            unit_id=unit.id,
            role=Role(role),
            created_at=now,
            expires_at=expires_at,
        )
    )
    return IssuedInvite(code=code, unit=unit, role=Role(role), expires_at=expires_at)

"""Members, their cards, profile consents and the once-ever welcome bonus registry."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.base import Base


class MemberStatus(enum.StrEnum):
    ACTIVE = "active"
    DELETED = "deleted"


class RegistrationChannel(enum.StrEnum):
    APP = "app"
    MICROSITE = "microsite"
    KIOSK = "kiosk"
    USSD = "ussd"
    POS = "pos"


class Gender(enum.StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNDISCLOSED = "undisclosed"


class MarketingChannel(enum.StrEnum):
    SMS = "sms"
    VIBER = "viber"
    EMAIL = "email"
    PUSH = "push"


class CardKind(enum.StrEnum):
    DIGITAL = "digital"
    PLASTIC = "plastic"


class CardStatus(enum.StrEnum):
    UNASSIGNED = "unassigned"  # a pre-issued plastic card not yet linked
    ACTIVE = "active"
    CLOSED = "closed"


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class Member(Base):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    # NULL once the account is deleted, so the number can register again.
    phone_e164: Mapped[str | None] = mapped_column(String(16), unique=True)
    status: Mapped[MemberStatus] = mapped_column(_enum(MemberStatus), default=MemberStatus.ACTIVE)
    first_name: Mapped[str | None] = mapped_column(String(80))
    last_name: Mapped[str | None] = mapped_column(String(80))
    birth_date: Mapped[date | None]
    gender: Mapped[Gender | None] = mapped_column(_enum(Gender))
    city: Mapped[str | None] = mapped_column(String(80))
    email: Mapped[str | None] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(2))
    registration_channel: Mapped[RegistrationChannel] = mapped_column(_enum(RegistrationChannel))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]


class Card(Base):
    __tablename__ = "cards"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(19), unique=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    kind: Mapped[CardKind] = mapped_column(_enum(CardKind))
    status: Mapped[CardStatus] = mapped_column(_enum(CardStatus))
    batch: Mapped[str | None] = mapped_column(String(40), index=True)
    created_at: Mapped[datetime]
    linked_at: Mapped[datetime | None]


class CardBatch(Base):
    """A batch of plastic cards the operator issued for print (``happy card batch create``);
    its cards carry ``Card.batch = CardBatch.public_id``."""

    __tablename__ = "card_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    count: Mapped[int]
    prefix: Mapped[str] = mapped_column(String(8))
    operator: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime]


class WelcomeBonusGrant(Base):
    """Every phone number that ever got the welcome bonus (hashed); the primary key makes
    the bonus once per number, ever, whatever happens to the account."""

    __tablename__ = "welcome_bonus_grants"

    phone_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    granted_at: Mapped[datetime]


class MarketingConsent(Base):
    __tablename__ = "marketing_consents"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    channel: Mapped[MarketingChannel] = mapped_column(_enum(MarketingChannel), primary_key=True)
    granted: Mapped[bool]
    changed_at: Mapped[datetime]

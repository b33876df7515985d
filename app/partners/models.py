"""Partner companies, their brands and their stores."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.base import Base


class Partner(Base):
    __tablename__ = "partners"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    sector: Mapped[str] = mapped_column(String(60))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    # The partner's logo for the public directory: an https URL, or a path on this server
    # (``/microsite/img/partners/spar.svg``) that the directory makes absolute.
    logo_url: Mapped[str | None] = mapped_column(String(500), default=None)


class Brand(Base):
    __tablename__ = "brands"
    __table_args__ = (UniqueConstraint("partner_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(120))


class Store(Base):
    __tablename__ = "stores"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"), index=True)
    name: Mapped[str] = mapped_column(String(160))
    city: Mapped[str] = mapped_column(String(80))
    country: Mapped[str] = mapped_column(String(2))  # ISO 3166-1 alpha-2 (XK for Kosovo)
    currency: Mapped[str] = mapped_column(String(3))  # ISO 4217
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    address: Mapped[str | None] = mapped_column(
        String(200), default=None
    )  # street, for the directory
    # Set by ``happy store close``: the store is inactive for good (keys, kiosks refused).
    closed_at: Mapped[datetime | None] = mapped_column(default=None)


class DirectoryVersion(Base):
    """One row counting changes to partners, brands and stores: every process's cached
    public directory (``app.partners.directory``) compares it before serving."""

    __tablename__ = "directory_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)

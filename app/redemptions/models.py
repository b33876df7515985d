"""A large redemption waiting for the member's SMS code (issue 14)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from app.base import Base


class VoucherConfirmation(Base):
    """The one pending confirmation of a voucher: which store asked (only that store may
    confirm) and until when the code sent for it is valid. Locked while a code is checked,
    so two confirmations of one voucher are checked one after the other."""

    __tablename__ = "voucher_confirmations"

    voucher_id: Mapped[int] = mapped_column(ForeignKey("vouchers.id"), primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    requested_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    confirmed_at: Mapped[datetime | None]

"""The voucher status as both doors show it (member: ``me.vouchers``; partner: a till's
``validateVoucher``)."""

from __future__ import annotations

from enum import StrEnum

import strawberry


class VoucherStatusFilter(StrEnum):
    ACTIVE = "active"
    USED = "used"
    EXPIRED = "expired"


VoucherStatusEnum = strawberry.enum(VoucherStatusFilter, name="VoucherStatus")

"""The voucher status as both doors show it (member: ``me.vouchers``; partner: a till's
``validateVoucher``): the core's one definition, exposed to GraphQL."""

from __future__ import annotations

import strawberry

from app.rewards.service import MemberVoucherStatus

# The doors' name for the core enum (one definition of voucher statuses, in app/rewards).
VoucherStatusFilter = MemberVoucherStatus
VoucherStatusEnum = strawberry.enum(MemberVoucherStatus, name="VoucherStatus")

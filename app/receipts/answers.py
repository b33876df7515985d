"""What the receipts service answers: a credited receipt, a refund, a batch file's lines.

The first answer to a receipt or a refund is stored (JSON) and returned again to every
retry; ``to_json``/``from_json`` keep the stored shape of rows written before these
classes existed (camelCase keys, ISO 8601 time).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from app.fraud.service import LimitWarning
from app.receipts.scoring import BreakdownItem


@dataclass(frozen=True)
class ReceiptAnswer:
    receipt_id: str  # the partner's own receipt id
    points_earned: int
    balance: int  # the member's available points after the receipt
    breakdown: tuple[BreakdownItem, ...]
    processed_at: datetime
    # Soft fraud limits this receipt went over (stored: a retry shows the same ones).
    warnings: tuple[LimitWarning, ...] = ()

    def to_json(self) -> dict[str, Any]:
        stored = {
            "receiptId": self.receipt_id,
            "pointsEarned": self.points_earned,
            "balance": self.balance,
            "breakdown": [item.to_json() for item in self.breakdown],
            "processedAt": self.processed_at.isoformat(),
        }
        if self.warnings:
            stored["warnings"] = [warning.to_json() for warning in self.warnings]
        return stored

    @classmethod
    def from_json(cls, stored: Mapping[str, Any]) -> ReceiptAnswer:
        return cls(
            receipt_id=str(stored["receiptId"]),
            points_earned=int(stored["pointsEarned"]),
            balance=int(stored["balance"]),
            breakdown=tuple(BreakdownItem.from_json(item) for item in stored["breakdown"]),
            processed_at=datetime.fromisoformat(stored["processedAt"]),
            warnings=tuple(LimitWarning.from_json(w) for w in stored.get("warnings", ())),
        )


@dataclass(frozen=True)
class RefundAnswer:
    receipt_id: str
    refund_id: str
    refunded_amount: int  # minor units
    points_reversed: int  # taken from the member's balance
    points_uncollected: int  # due back but already spent (never a negative balance)
    balance: int

    def to_json(self) -> dict[str, Any]:
        return {
            "receiptId": self.receipt_id,
            "refundId": self.refund_id,
            "refundedAmount": self.refunded_amount,
            "pointsReversed": self.points_reversed,
            "pointsUncollected": self.points_uncollected,
            "balance": self.balance,
        }

    @classmethod
    def from_json(cls, stored: Mapping[str, Any]) -> RefundAnswer:
        return cls(
            receipt_id=str(stored["receiptId"]),
            refund_id=str(stored["refundId"]),
            refunded_amount=int(stored["refundedAmount"]),
            points_reversed=int(stored["pointsReversed"]),
            points_uncollected=int(stored["pointsUncollected"]),
            balance=int(stored["balance"]),
        )


class BatchLineStatus(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"  # the receipt id was already credited: nothing more credited
    REJECTED = "rejected"


@dataclass(frozen=True)
class BatchLineReport:
    line: int  # 1-based line number in the file
    receipt_id: str | None
    status: BatchLineStatus
    reason: str | None  # the error code of a rejected line
    points_earned: int | None

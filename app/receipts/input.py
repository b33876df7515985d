"""A receipt as a POS sends it, parsed and checked before anything is written.

Money is integer minor units. ``quantity`` is a decimal with at most 3 places (weighed
goods: 0.735 kg); ``amount`` must be ``quantity x unitPrice`` rounded half up, within
``WEIGHED_TOLERANCE`` minor units when the quantity is not whole, exactly otherwise.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from app.clock import as_utc
from app.errors import ErrorCode, InvalidInput
from app.text import require_clean_text

MAX_LINES = 500
MAX_AMOUNT = 10**12
WEIGHED_TOLERANCE = 1  # minor units
FUTURE_LEEWAY = timedelta(minutes=10)  # till clocks drift
# No till receipt is older than this: anything before is a broken clock or a typo (and
# dates near year 1 cannot even be converted to UTC).
EARLIEST_ISSUED_AT = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class LineInput:
    sku: str
    name: str
    brand: str | None
    category: str | None
    quantity_milli: int
    unit_price: int
    amount: int


@dataclass(frozen=True)
class ReceiptInput:
    receipt_id: str
    issued_at: datetime
    currency: str
    total: int
    cashier_id: str | None
    card_number: str | None
    phone: str | None
    lines: tuple[LineInput, ...]

    def fingerprint(self, store_id: int) -> str:
        """SHA-256 of the canonical body: a retry has the same, another receipt not."""
        body = asdict(self)
        body["issued_at"] = self.issued_at.isoformat()
        body["store_id"] = store_id
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        return hashlib.sha256(canonical.encode()).hexdigest()


def _text(value: Any, field: str, maximum: int, *, required: bool = True) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InvalidInput(field=field)
        return None
    if not isinstance(value, str) or len(value.strip()) > maximum:
        raise InvalidInput(field=field)
    return require_clean_text(value.strip(), field)


def _money(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(field=field)
    if value < 0:
        raise InvalidInput(ErrorCode.NEGATIVE_AMOUNT, field=field)
    if value > MAX_AMOUNT:
        raise InvalidInput(field=field)
    return value


def _quantity_milli(value: Any, field: str) -> int:
    try:
        quantity = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise InvalidInput(field=field) from exc
    if not quantity.is_finite():
        raise InvalidInput(field=field)
    if quantity <= 0:
        raise InvalidInput(ErrorCode.NEGATIVE_AMOUNT, field=field)
    milli = quantity * 1000
    if milli != milli.to_integral_value() or milli > MAX_AMOUNT:
        raise InvalidInput(field=field)
    return int(milli)


def expected_amount(quantity_milli: int, unit_price: int) -> int:
    """``quantity x unitPrice`` in minor units, rounded half up."""
    return (quantity_milli * unit_price + 500) // 1000


def parse_line(raw: dict[str, Any], index: int) -> LineInput:
    field = f"lines.{index}"
    line = LineInput(
        sku=_text(raw.get("sku"), f"{field}.sku", 64) or "",
        name=_text(raw.get("name"), f"{field}.name", 200) or "",
        brand=_text(raw.get("brand"), f"{field}.brand", 60, required=False),
        category=_text(raw.get("category"), f"{field}.category", 60, required=False),
        quantity_milli=_quantity_milli(raw.get("quantity"), f"{field}.quantity"),
        unit_price=_money(raw.get("unitPrice"), f"{field}.unitPrice"),
        amount=_money(raw.get("amount"), f"{field}.amount"),
    )
    tolerance = 0 if line.quantity_milli % 1000 == 0 else WEIGHED_TOLERANCE
    if abs(line.amount - expected_amount(line.quantity_milli, line.unit_price)) > tolerance:
        raise InvalidInput(ErrorCode.LINE_AMOUNT_MISMATCH, field=f"{field}.amount")
    return line


def _issued_at(value: Any, now: datetime) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError as exc:
            raise InvalidInput(field="issuedAt") from exc
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise InvalidInput(field="issuedAt")
    try:
        issued = as_utc(value)
    except OverflowError as exc:
        raise InvalidInput(field="issuedAt") from exc
    if issued > now + FUTURE_LEEWAY or issued < EARLIEST_ISSUED_AT:
        raise InvalidInput(field="issuedAt")
    return issued


def parse_receipt(raw: dict[str, Any], now: datetime) -> ReceiptInput:
    """Check a receipt body (camelCase keys, as in the API and batch files).

    Raises :class:`InvalidInput` with a specific code and field: nothing is written for a
    receipt that fails here.
    """
    receipt_id = _text(raw.get("receiptId"), "receiptId", 64) or ""
    currency = _text(raw.get("currency"), "currency", 3) or ""
    if len(currency) != 3 or not currency.isalpha():
        raise InvalidInput(field="currency")
    lines_raw = raw.get("lines")
    if not isinstance(lines_raw, list) or not lines_raw or len(lines_raw) > MAX_LINES:
        raise InvalidInput(field="lines", maximum=MAX_LINES)
    if not all(isinstance(line, dict) for line in lines_raw):
        raise InvalidInput(field="lines")
    card = _text(raw.get("cardNumber"), "cardNumber", 200, required=False)
    phone = _text(raw.get("phone"), "phone", 32, required=False)
    if (card is None) == (phone is None):
        raise InvalidInput(field="cardNumber")
    receipt = ReceiptInput(
        receipt_id=receipt_id,
        issued_at=_issued_at(raw.get("issuedAt"), now),
        currency=currency.upper(),
        total=_money(raw.get("total"), "total"),
        cashier_id=_text(raw.get("cashierId"), "cashierId", 40, required=False),
        card_number=card,
        phone=phone,
        lines=tuple(parse_line(line, i) for i, line in enumerate(lines_raw)),
    )
    if sum(line.amount for line in receipt.lines) != receipt.total:
        raise InvalidInput(ErrorCode.TOTAL_MISMATCH, field="total")
    return receipt

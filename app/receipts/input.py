"""A receipt as a POS sends it, and the checks it passes before anything is written.

Each door builds a :class:`ReceiptInput` from its own request (the partner GraphQL door
from its input type); a batch file line is a JSON object with the same camelCase keys,
read by :func:`parse_receipt` (the batch file format belongs to the core).
:func:`check_receipt` then checks and normalises the values, whatever door they came from.

Money is integer minor units. ``quantity`` is a decimal with at most 3 places (weighed
goods: 0.735 kg); ``amount`` must be ``quantity x unitPrice`` rounded half up, within
``WEIGHED_TOLERANCE`` minor units when the quantity is not whole, exactly otherwise.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
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
    quantity: Decimal
    unit_price: int
    amount: int

    @property
    def quantity_milli(self) -> int:
        """The quantity x 1000 (whole once checked: at most 3 decimals)."""
        return int(self.quantity * 1000)


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
        """SHA-256 of the canonical checked body: a retry has the same, another receipt not.

        The canonical form is stored with every receipt: it must not change (a till's retry
        of a receipt sent before a change would otherwise be refused as a conflict).
        """
        body = {
            "receipt_id": self.receipt_id,
            "issued_at": self.issued_at.isoformat(),
            "currency": self.currency,
            "total": self.total,
            "cashier_id": self.cashier_id,
            "card_number": self.card_number,
            "phone": self.phone,
            "lines": [
                {
                    "sku": line.sku,
                    "name": line.name,
                    "brand": line.brand,
                    "category": line.category,
                    "quantity_milli": line.quantity_milli,
                    "unit_price": line.unit_price,
                    "amount": line.amount,
                }
                for line in self.lines
            ],
            "store_id": store_id,
        }
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        return hashlib.sha256(canonical.encode()).hexdigest()


# --- checks (every door) ----------------------------------------------------------------


def _text(value: str, field: str, maximum: int) -> str:
    if not value.strip() or len(value.strip()) > maximum:
        raise InvalidInput(field=field)
    return require_clean_text(value.strip(), field)


def _optional_text(value: str | None, field: str, maximum: int) -> str | None:
    if value is None or not value.strip():
        return None
    return _text(value, field, maximum)


def _money(value: int, field: str) -> int:
    if value < 0:
        raise InvalidInput(ErrorCode.NEGATIVE_AMOUNT, field=field)
    if value > MAX_AMOUNT:
        raise InvalidInput(field=field)
    return value


def _quantity(value: Decimal, field: str) -> Decimal:
    if not value.is_finite():
        raise InvalidInput(field=field)
    if value <= 0:
        raise InvalidInput(ErrorCode.NEGATIVE_AMOUNT, field=field)
    milli = value * 1000
    if milli != milli.to_integral_value() or milli > MAX_AMOUNT:
        raise InvalidInput(field=field)
    return value


def expected_amount(quantity_milli: int, unit_price: int) -> int:
    """``quantity x unitPrice`` in minor units, rounded half up."""
    return (quantity_milli * unit_price + 500) // 1000


def check_line(line: LineInput, index: int) -> LineInput:
    field = f"lines.{index}"
    checked = LineInput(
        sku=_text(line.sku, f"{field}.sku", 64),
        name=_text(line.name, f"{field}.name", 200),
        brand=_optional_text(line.brand, f"{field}.brand", 60),
        category=_optional_text(line.category, f"{field}.category", 60),
        quantity=_quantity(line.quantity, f"{field}.quantity"),
        unit_price=_money(line.unit_price, f"{field}.unitPrice"),
        amount=_money(line.amount, f"{field}.amount"),
    )
    tolerance = 0 if checked.quantity_milli % 1000 == 0 else WEIGHED_TOLERANCE
    expected = expected_amount(checked.quantity_milli, checked.unit_price)
    if abs(checked.amount - expected) > tolerance:
        raise InvalidInput(ErrorCode.LINE_AMOUNT_MISMATCH, field=f"{field}.amount")
    return checked


def _issued_at(value: datetime, now: datetime) -> datetime:
    if value.tzinfo is None:
        raise InvalidInput(field="issuedAt")
    try:
        issued = as_utc(value)
    except OverflowError as exc:
        raise InvalidInput(field="issuedAt") from exc
    if issued > now + FUTURE_LEEWAY or issued < EARLIEST_ISSUED_AT:
        raise InvalidInput(field="issuedAt")
    return issued


def check_receipt(data: ReceiptInput, now: datetime) -> ReceiptInput:
    """The receipt checked and normalised (trimmed text, upper-case currency, UTC time).

    Raises :class:`InvalidInput` with a specific code and field: nothing is written for a
    receipt that fails here.
    """
    receipt_id = _text(data.receipt_id, "receiptId", 64)
    currency = _text(data.currency, "currency", 3)
    if len(currency) != 3 or not currency.isalpha():
        raise InvalidInput(field="currency")
    if not data.lines or len(data.lines) > MAX_LINES:
        raise InvalidInput(field="lines", maximum=MAX_LINES)
    card = _optional_text(data.card_number, "cardNumber", 200)
    phone = _optional_text(data.phone, "phone", 32)
    if (card is None) == (phone is None):
        raise InvalidInput(field="cardNumber")
    receipt = replace(
        data,
        receipt_id=receipt_id,
        issued_at=_issued_at(data.issued_at, now),
        currency=currency.upper(),
        total=_money(data.total, "total"),
        cashier_id=_optional_text(data.cashier_id, "cashierId", 40),
        card_number=card,
        phone=phone,
        lines=tuple(check_line(line, i) for i, line in enumerate(data.lines)),
    )
    if sum(line.amount for line in receipt.lines) != receipt.total:
        raise InvalidInput(ErrorCode.TOTAL_MISMATCH, field="total")
    return receipt


# --- the batch file format (JSON, camelCase) --------------------------------------------


def _json_text(value: Any, field: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise InvalidInput(field=field)
    return value


def _json_int(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(field=field)
    return value


def _json_decimal(value: Any, field: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise InvalidInput(field=field)
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise InvalidInput(field=field) from exc


def _json_datetime(value: Any, field: str) -> datetime:
    if not isinstance(value, str):
        raise InvalidInput(field=field)
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(field=field) from exc


def _json_line(raw: Mapping[str, Any], index: int) -> LineInput:
    field = f"lines.{index}"
    return LineInput(
        sku=_json_text(raw.get("sku"), f"{field}.sku") or "",
        name=_json_text(raw.get("name"), f"{field}.name") or "",
        brand=_json_text(raw.get("brand"), f"{field}.brand"),
        category=_json_text(raw.get("category"), f"{field}.category"),
        quantity=_json_decimal(raw.get("quantity"), f"{field}.quantity"),
        unit_price=_json_int(raw.get("unitPrice"), f"{field}.unitPrice"),
        amount=_json_int(raw.get("amount"), f"{field}.amount"),
    )


def parse_receipt(raw: Mapping[str, Any]) -> ReceiptInput:
    """A batch file line (one ``submitReceipt`` input as a JSON object) as a
    :class:`ReceiptInput`; only the JSON types are checked here, the values by
    :func:`check_receipt`. Raises :class:`InvalidInput` for a value of the wrong type."""
    lines_raw = raw.get("lines")
    if not isinstance(lines_raw, list):
        raise InvalidInput(field="lines", maximum=MAX_LINES)
    if not all(isinstance(line, dict) for line in lines_raw):
        raise InvalidInput(field="lines")
    return ReceiptInput(
        receipt_id=_json_text(raw.get("receiptId"), "receiptId") or "",
        issued_at=_json_datetime(raw.get("issuedAt"), "issuedAt"),
        currency=_json_text(raw.get("currency"), "currency") or "",
        total=_json_int(raw.get("total"), "total"),
        cashier_id=_json_text(raw.get("cashierId"), "cashierId"),
        card_number=_json_text(raw.get("cardNumber"), "cardNumber"),
        phone=_json_text(raw.get("phone"), "phone"),
        lines=tuple(_json_line(line, i) for i, line in enumerate(lines_raw)),
    )

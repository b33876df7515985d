"""Receipt input: the batch file format, the checks every door's input passes, the
fingerprint stored with every receipt, and the stored first answers."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from app.errors import ErrorCode, InvalidInput
from app.receipts.answers import ReceiptAnswer, RefundAnswer
from app.receipts.input import LineInput, ReceiptInput, check_receipt, parse_receipt
from app.receipts.scoring import BreakdownItem, BreakdownKind

NOW = datetime(2025, 3, 2, tzinfo=UTC)


def body(**changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "receiptId": " R-1 ",
        "issuedAt": "2025-03-01T10:00:00+01:00",
        "currency": "eur",
        "total": 1735,
        "cashierId": "c1",
        "cardNumber": "7001 0000",
        "lines": [
            {
                "sku": "A",
                "name": "Bread",
                "brand": "Spar",
                "category": "food",
                "quantity": "0.735",
                "unitPrice": 1000,
                "amount": 735,
            },
            {"sku": "B", "name": "X", "quantity": 2, "unitPrice": 500, "amount": 1000},
        ],
    }
    raw.update(changes)
    return raw


def test_the_fingerprint_of_a_receipt_never_changes() -> None:
    # Stored with every receipt since the first release: a till's retry of an old receipt
    # must still match it (this value was computed by the code before the typed input).
    checked = check_receipt(parse_receipt(body()), NOW)
    assert checked.fingerprint(7) == (
        "53d92a784ed272f9aa4b9874041d928d47cff5335430616651bc540e5bf1e653"
    )
    assert checked.fingerprint(8) != checked.fingerprint(7)


def test_a_door_built_input_is_checked_like_a_batch_line() -> None:
    typed = ReceiptInput(
        receipt_id="R-1",
        issued_at=datetime(2025, 3, 1, 10, tzinfo=UTC),
        currency="EUR",
        total=735,
        cashier_id="  ",
        card_number=None,
        phone=" +355 69 123 4567 ",
        lines=(LineInput("A", "Bread", " Spar ", None, Decimal("0.7350"), 1000, 735),),
    )
    checked = check_receipt(typed, NOW)
    assert checked.cashier_id is None
    assert checked.phone == "+355 69 123 4567"
    assert checked.lines[0].brand == "Spar"
    assert checked.lines[0].quantity_milli == 735
    json_line = {
        "receiptId": "R-1",
        "issuedAt": "2025-03-01T10:00:00Z",
        "currency": "EUR",
        "total": 735,
        "cashierId": "  ",
        "phone": " +355 69 123 4567 ",
        "lines": [
            {
                "sku": "A",
                "name": "Bread",
                "brand": " Spar ",
                "quantity": 0.735,
                "unitPrice": 1000,
                "amount": 735,
            }
        ],
    }
    assert check_receipt(parse_receipt(json_line), NOW).fingerprint(1) == checked.fingerprint(1)


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"total": "1735"}, ErrorCode.INVALID_INPUT, "total"),
        ({"total": True}, ErrorCode.INVALID_INPUT, "total"),
        ({"issuedAt": 1740819600}, ErrorCode.INVALID_INPUT, "issuedAt"),
        ({"issuedAt": "yesterday"}, ErrorCode.INVALID_INPUT, "issuedAt"),
        ({"receiptId": 12}, ErrorCode.INVALID_INPUT, "receiptId"),
        ({"lines": "none"}, ErrorCode.INVALID_INPUT, "lines"),
        ({"lines": [1]}, ErrorCode.INVALID_INPUT, "lines"),
    ],
)
def test_a_batch_line_with_a_wrong_json_type_is_invalid(
    changes: dict[str, Any], code: ErrorCode, field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_receipt(body(**changes))
    assert (caught.value.code, caught.value.field) == (code, field)


def _line(**changes: Any) -> dict[str, Any]:
    line = {"sku": "A", "name": "Bread", "quantity": "1", "unitPrice": 1735, "amount": 1735}
    line.update(changes)
    return line


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"receiptId": "  "}, ErrorCode.INVALID_INPUT, "receiptId"),
        ({"receiptId": "R" * 65}, ErrorCode.INVALID_INPUT, "receiptId"),
        ({"currency": "EURO"}, ErrorCode.INVALID_INPUT, "currency"),
        ({"lines": []}, ErrorCode.INVALID_INPUT, "lines"),
        ({"phone": "+355691234567"}, ErrorCode.INVALID_INPUT, "cardNumber"),
        ({"cardNumber": None}, ErrorCode.INVALID_INPUT, "cardNumber"),
        ({"issuedAt": "2025-03-01T10:00:00"}, ErrorCode.INVALID_INPUT, "issuedAt"),
        ({"issuedAt": "1999-12-31T23:00:00Z"}, ErrorCode.INVALID_INPUT, "issuedAt"),
        ({"issuedAt": "2025-03-02T00:11:00Z"}, ErrorCode.INVALID_INPUT, "issuedAt"),
        ({"total": -1}, ErrorCode.NEGATIVE_AMOUNT, "total"),
        ({"total": 1736}, ErrorCode.TOTAL_MISMATCH, "total"),
        ({"lines": [_line(sku=" ")]}, ErrorCode.INVALID_INPUT, "lines.0.sku"),
        ({"lines": [_line(quantity="0")]}, ErrorCode.NEGATIVE_AMOUNT, "lines.0.quantity"),
        ({"lines": [_line(quantity="1.0005")]}, ErrorCode.INVALID_INPUT, "lines.0.quantity"),
        ({"lines": [_line(quantity="NaN")]}, ErrorCode.INVALID_INPUT, "lines.0.quantity"),
        ({"lines": [_line(amount=1734)]}, ErrorCode.LINE_AMOUNT_MISMATCH, "lines.0.amount"),
    ],
)
def test_bad_values_are_refused_with_a_code_and_field(
    changes: dict[str, Any], code: ErrorCode, field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_receipt(parse_receipt(body(**changes)), NOW)
    assert (caught.value.code, caught.value.field) == (code, field)


def test_stored_first_answers_keep_their_json_shape() -> None:
    # Exactly as rows written before the typed answers hold them.
    stored_receipt = {
        "receiptId": "R-1",
        "pointsEarned": 11,
        "balance": 91,
        "breakdown": [
            {"kind": "BASE", "rule": None, "multiplierPercent": 100, "amount": 68000, "points": 7},
            {
                "kind": "EXCLUDED",
                "rule": "category:tobacco",
                "multiplierPercent": 0,
                "amount": 50000,
                "points": 0,
            },
        ],
        "processedAt": "2025-03-01T09:00:00.123456+00:00",
    }
    answer = ReceiptAnswer.from_json(stored_receipt)
    assert answer.breakdown[1] == BreakdownItem(
        BreakdownKind.EXCLUDED, "category:tobacco", 0, 50000, 0
    )
    assert answer.processed_at == datetime(2025, 3, 1, 9, 0, 0, 123456, tzinfo=UTC)
    assert answer.to_json() == stored_receipt
    stored_refund = {
        "receiptId": "R-1",
        "refundId": "F-1",
        "refundedAmount": 45000,
        "pointsReversed": 7,
        "pointsUncollected": 2,
        "balance": 0,
    }
    refund = RefundAnswer.from_json(stored_refund)
    assert (refund.points_reversed, refund.points_uncollected) == (7, 2)
    assert refund.to_json() == stored_refund

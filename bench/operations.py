"""The operations measured, and how one request of each is made (bench/wrk/*.lua)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Operation:
    name: str
    label: str  # as in the results table
    script: str  # bench/wrk/<script>
    door: str  # member (tokens) | partner (API key)
    items: str  # tokens | cards | vouchers
    database: str = "main"  # main | big
    one_client: bool = False  # wrk -c1 -t1 whatever the connections option


OPERATIONS = (
    Operation("me_balance", "`me { balance }`", "me_balance.lua", "member", "tokens"),
    Operation(
        "me_card_activity",
        "`me` with card and activity",
        "me_card_activity.lua",
        "member",
        "tokens",
    ),
    Operation(
        "submit_receipt", "`submitReceipt`, 3 lines", "submit_receipt.lua", "partner", "cards"
    ),
    Operation(
        "redeem_voucher",
        "`redeemVoucher`, one client",
        "redeem_voucher.lua",
        "partner",
        "vouchers",
        one_client=True,
    ),
    Operation(
        "me_receipts",
        "`me.receipts(first: 50)` with lines, big database",
        "me_receipts.lua",
        "member",
        "tokens",
        database="big",
    ),
)
BY_NAME = {operation.name: operation for operation in OPERATIONS}

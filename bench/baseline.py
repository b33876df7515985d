"""The bare baseline: Starlette + asyncpg doing what Happy does for the benchmark's
operations, and nothing else.

For each operation it checks the same credential the same way (member access tokens with
Happy's own ``auth.tokens.decode_access_token``: HS256, issuer, audience, expiry; partner
keys by prefix and a keyed hash compared in constant time, in a read transaction of their
own as Happy's key gate and context each do), sends Happy's SQL statement for statement
(``bench/baseline_sql.py``, one transaction where Happy has one) and scores receipts with
Happy's pure scoring function (``app.receipts.scoring.score_receipt``). No GraphQL, no ORM:
it recognises the benchmark's documents (bench/wrk/*.lua) by name and answers JSON shaped
like Happy's answer. What is left between the two is what Happy's stack costs.

``python -m bench.baseline --port P --workers N``: uvicorn with the settings
``happy serve`` uses (the listener bound as TCP so accepted sockets keep TCP_NODELAY with
several workers; uvicorn picks uvloop and httptools when they are installed, as for Happy).
The database is ``HAPPY_DATABASE_URL``; the pool holds up to ``HAPPY_DATABASE_POOL_SIZE``
times 3 connections per process, as Happy's engine (pool size plus twice its overflow).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.errors import AuthenticationRequired
from app.keys import Keys
from app.partners.earn_rule_models import ModifierKind
from app.partners.earn_rules import PartnerRules
from app.receipts.scoring import NO_MODIFIERS, score_receipt
from app.rewards.codes import normalise
from app.settings import Settings
from auth.tokens import decode_access_token
from bench import baseline_sql as sql

KEY_KIND, KEY_SCOPE = "hpk", "partner-api-key"  # auth/api_keys.py
GUESS_SCOPE = "voucher-code-guesses"
QUALIFYING_KINDS = ("earn", "offer_bonus", "reversal")  # app/tiers/service.py


@dataclass(frozen=True)
class Line:
    """A receipt line as scoring reads it (``app.receipts.scoring.LineToScore``)."""

    sku: str
    name: str
    brand: str | None
    category: str | None
    quantity_milli: int
    unit_price: int
    amount: int


@dataclass(frozen=True)
class Store:
    key_id: int
    store_id: int
    partner_id: int
    partner_name: str
    currency: str


class Refused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def gql_error(code: str, message: str) -> JSONResponse:
    return JSONResponse(
        {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}
    )


class Baseline:
    def __init__(self) -> None:
        self.settings = Settings()  # issuer and audience: Happy's defaults
        self.keys = Keys(
            jwt_secret=os.environ["HAPPY_JWT_SECRET"].encode(),
            hash_secret=os.environ["HAPPY_HASH_SECRET"].encode(),
        )
        url = os.environ["HAPPY_DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")
        self.dsn = url
        self.pool_size = int(os.environ.get("HAPPY_DATABASE_POOL_SIZE", "10")) * 3
        self._pool: asyncpg.Pool | None = None

    @property
    def pool(self) -> asyncpg.Pool:
        assert self._pool is not None
        return self._pool

    async def start(self) -> None:
        # No reset query on release (asyncpg's default is a round trip of its own): every
        # transaction here ends itself, as SQLAlchemy's do.
        self._pool = await asyncpg.create_pool(
            self.dsn, min_size=1, max_size=self.pool_size, reset=_no_reset
        )

    async def stop(self) -> None:
        if self._pool is not None:
            await self._pool.close()

    # --- transactions as Happy has them -----------------------------------------------

    async def read(self, work: Callable[[asyncpg.Connection], Awaitable[Any]]) -> Any:
        """One read session: BEGIN, the statements, ROLLBACK (as SQLAlchemy ends it)."""
        async with self.pool.acquire() as connection:
            transaction = connection.transaction()
            await transaction.start()
            try:
                return await work(connection)
            finally:
                await transaction.rollback()

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[asyncpg.Connection]:
        async with self.pool.acquire() as connection, connection.transaction():
            yield connection

    # --- credentials ------------------------------------------------------------------

    def bearer(self, request: Request) -> str | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None

    async def member(self, request: Request) -> asyncpg.Record:
        token = self.bearer(request)
        if token is None:
            raise Refused("UNAUTHENTICATED", "sign in first")
        try:
            claims = decode_access_token(self.keys, self.settings, token)
        except AuthenticationRequired as exc:
            raise Refused("UNAUTHENTICATED", "sign in first") from exc

        async def lookup(connection: asyncpg.Connection) -> asyncpg.Record | None:
            row = await connection.fetchrow(
                sql.MEMBER_WITH_ACCOUNT, claims.member_public_id, "active"
            )
            if row is not None and not await connection.fetchval(
                sql.SESSION_IS_LIVE, claims.session_id, row["id"]
            ):
                return None
            return row

        row = await self.read(lookup)
        if row is None:
            raise Refused("UNAUTHENTICATED", "sign in first")
        return row

    def _key_parts(self, request: Request) -> tuple[str, str]:
        token = self.bearer(request) or ""
        head, _, rest = token.partition("_")
        prefix, _, secret = rest.partition("_")
        if head != KEY_KIND or len(prefix) != 10 or not secret:
            raise Refused("UNAUTHENTICATED", "a valid API key is required")
        return prefix, secret

    def _key_matches(self, row: asyncpg.Record | None, secret: str) -> bool:
        if row is None or row["revoked_at"] is not None:
            return False
        expected = self.keys.hash_code(KEY_SCOPE, secret)
        return hmac.compare_digest(row["secret_hash"], expected)

    async def store(self, request: Request) -> Store:
        """Happy's key gate (one read session), then its context (another)."""
        prefix, secret = self._key_parts(request)

        async def gate(connection: asyncpg.Connection) -> asyncpg.Record | None:
            return await connection.fetchrow(sql.API_KEY_BY_PREFIX, prefix)

        if not self._key_matches(await self.read(gate), secret):
            raise Refused("UNAUTHENTICATED", "a valid API key is required")

        async def context(connection: asyncpg.Connection) -> tuple[Any, Any]:
            key = await connection.fetchrow(sql.API_KEY_BY_PREFIX, prefix)
            if not self._key_matches(key, secret):
                return None, None
            return key, await connection.fetchrow(sql.STORE_WITH_PARTNER, key["store_id"])

        key, store = await self.read(context)
        if key is None or store is None or not store["active"] or not store["active_1"]:
            raise Refused("UNAUTHENTICATED", "a valid API key is required")
        return Store(
            key["id"], store["id"], store["partner_id"], store["name_1"], store["currency"]
        )

    # --- the member door ----------------------------------------------------------------

    async def member_door(self, request: Request) -> Response:
        body = json.loads(await request.body())
        query = body.get("query", "")
        try:
            member = await self.member(request)
        except Refused as refused:
            return gql_error(refused.code, str(refused))
        if "receipts(first" in query:
            return JSONResponse({"data": {"me": {"receipts": await self.receipts(member)}}})
        if "activity" in query:
            return JSONResponse({"data": {"me": await self.card_and_activity(member)}})
        return JSONResponse({"data": {"me": {"balance": {"available": member["available"]}}}})

    async def card_and_activity(self, member: asyncpg.Record) -> dict[str, Any]:
        """Happy's two DataLoader batches, each in its own read session, concurrently."""
        member_id = member["id"]

        async def cards(connection: asyncpg.Connection) -> list[asyncpg.Record]:
            return list(await connection.fetch(sql.SHOWN_CARDS, "active", member_id))

        async def activity(connection: asyncpg.Connection) -> list[asyncpg.Record]:
            return list(await connection.fetch(sql.ACTIVITY_PAGE, member_id, 11))

        found_cards, entries = await asyncio.gather(self.read(cards), self.read(activity))
        return {
            "phone": member["phone_e164"],
            "card": {"number": found_cards[0]["number"]} if found_cards else None,
            "balance": {
                "available": member["available"],
                "pending": member["pending"],
                "lifetime": member["lifetime"],
            },
            "activity": {
                "edges": [
                    {
                        "node": {
                            "kind": e["kind"].upper(),
                            "points": e["delta"],
                            "balanceAfter": e["balance_after"],
                        }
                    }
                    for e in entries[:10]
                ]
            },
        }

    async def receipts(self, member: asyncpg.Record) -> dict[str, Any]:
        """A page of 50 receipts newest first, then Happy's three DataLoader batches
        (partners, stores, lines), each in its own read session, concurrently."""

        async def page(connection: asyncpg.Connection) -> list[asyncpg.Record]:
            return list(await connection.fetch(sql.RECEIPT_PAGE, member["id"], 51))

        found = await self.read(page)
        rows, more = found[:50], len(found) > 50

        def batch(template: str, ids: list[int]) -> Callable[[asyncpg.Connection], Any]:
            async def load(connection: asyncpg.Connection) -> list[asyncpg.Record]:
                return list(await connection.fetch(sql.in_list(template, len(ids)), *ids))

            return load

        partner_ids = sorted({r["partner_id"] for r in rows})
        store_ids = sorted({r["store_id"] for r in rows})
        receipt_ids = [r["id"] for r in rows]
        partners, stores, lines = await asyncio.gather(
            self.read(batch(sql.PARTNERS_BY_ID, partner_ids)),
            self.read(batch(sql.STORES_BY_ID, store_ids)),
            self.read(batch(sql.LINES_BY_RECEIPT_ID, receipt_ids)),
        )
        partner_names = {p["id"]: p["name"] for p in partners}
        store_by_id = {s["id"]: s for s in stores}
        lines_by_receipt: dict[int, list[dict[str, Any]]] = {}
        for line in lines:
            lines_by_receipt.setdefault(line["receipt_id"], []).append(
                {
                    "lineNumber": line["line_no"],
                    "sku": line["sku"],
                    "name": line["name"],
                    "brand": line["brand"],
                    "category": line["category"],
                    "quantity": str(Decimal(line["quantity_milli"]) / 1000),
                    "unitPrice": line["unit_price"],
                    "amount": line["amount"],
                    "points": line["points"],
                }
            )
        edges = []
        for r in rows:
            cursor = base64.b64encode(f"{r['issued_at'].isoformat()}|{r['id']}".encode())
            store = store_by_id[r["store_id"]]
            edges.append(
                {
                    "cursor": cursor.decode(),
                    "node": {
                        "id": base64.b64encode(f"Receipt:{r['id']}".encode()).decode(),
                        "receiptId": r["external_id"],
                        "issuedAt": r["issued_at"].isoformat(),
                        "total": {"amount": r["total"], "currency": r["currency"]},
                        "pointsEarned": r["points_earned"] + r["bonus_points"],
                        "breakdown": [
                            {"kind": b["kind"], "rule": b["rule"], "points": b["points"]}
                            for b in json.loads(r["breakdown"])
                        ],
                        "partner": {"name": partner_names[r["partner_id"]]},
                        "store": {"name": store["name"], "city": store["city"]},
                        "lines": lines_by_receipt.get(r["id"], []),
                    },
                }
            )
        end = edges[-1]["cursor"] if edges else None
        return {"edges": edges, "pageInfo": {"hasNextPage": more, "endCursor": end}}

    # --- the partner door ---------------------------------------------------------------

    async def partner_door(self, request: Request) -> Response:
        try:
            store = await self.store(request)
        except Refused as refused:
            return gql_error(refused.code, str(refused))
        body = json.loads(await request.body())
        query, variables = body.get("query", ""), body.get("variables") or {}
        if "submitReceipt" in query:
            answer = await self.submit_receipt(store, variables["input"])
            return JSONResponse({"data": {"submitReceipt": answer}})
        if "redeemVoucher" in query:
            answer = await self.redeem_voucher(store, variables["code"], variables["receipt"])
            return JSONResponse({"data": {"redeemVoucher": answer}})
        return gql_error("BAD_REQUEST", "the baseline knows the benchmark's operations only")

    async def submit_receipt(self, store: Store, data: dict[str, Any]) -> dict[str, Any]:
        now = datetime.now(UTC)
        issued_at = datetime.fromisoformat(data["issuedAt"].replace("Z", "+00:00"))
        lines = [
            Line(
                sku=line["sku"],
                name=line["name"],
                brand=line.get("brand"),
                category=line.get("category"),
                quantity_milli=int(Decimal(line["quantity"]) * 1000),
                unit_price=int(line["unitPrice"]),
                amount=int(line["amount"]),
            )
            for line in data["lines"]
        ]
        if sum(line.amount for line in lines) != data["total"]:
            return input_error("TOTAL_MISMATCH", "total")
        if data["currency"] != store.currency:
            return input_error("WRONG_CURRENCY", "currency")
        fingerprint = hashlib.sha256(
            json.dumps(
                {
                    "store_id": store.store_id,
                    "receipt_id": data["receiptId"],
                    "issued_at": issued_at.isoformat(),
                    "currency": data["currency"],
                    "total": data["total"],
                    "cashier_id": data.get("cashierId"),
                    "card_number": data.get("cardNumber"),
                    "phone": data.get("phone"),
                    "lines": [line.__dict__ for line in lines],
                },
                sort_keys=True,
                separators=(",", ":"),
            ).encode()
        ).hexdigest()
        async with self.unit_of_work() as db:
            previous = await db.fetchrow(
                sql.RECEIPT_BY_EXTERNAL_ID, store.partner_id, data["receiptId"]
            )
            if previous is not None:
                if previous["fingerprint"] != fingerprint or previous["answer"] is None:
                    return {"__typename": "ConflictError", "code": "RECEIPT_CONFLICT"}
                return {"__typename": "ReceiptAccepted", **json.loads(previous["answer"])}
            member = await db.fetchrow(sql.MEMBER_BY_CARD, data["cardNumber"], "active", "active")
            if member is None:
                return {"__typename": "MemberNotIdentifiedError", "code": "CARD_NOT_FOUND"}
            member_id = member["id"]
            rate = await db.fetchrow(sql.EARN_RATE, store.partner_id, data["currency"])
            modifiers = await db.fetch(sql.EARN_MODIFIERS, store.partner_id)
            rules = PartnerRules(
                partner_id=store.partner_id,
                currency=data["currency"],
                rate_points=rate["points"],
                rate_per_amount=rate["per_amount"],
                modifiers={
                    (ModifierKind(m["kind"]), m["match"]): m["multiplier_pct"] for m in modifiers
                },
            )
            await db.fetchrow(
                sql.MEMBER_FACTS, member_id, 0, 1, 1, 0, 1, 1, 0, 1, 1, member_id, "earn"
            )
            await db.fetch(sql.ACTIVE_OFFERS, member_id, "active", now, now)
            score = score_receipt(rules, lines, NO_MODIFIERS)
            breakdown = json.dumps([item.to_json() for item in score.breakdown])
            receipt_id = await db.fetchval(
                sql.INSERT_RECEIPT,
                store.partner_id,
                store.store_id,
                member_id,
                data["receiptId"],
                issued_at,
                data["currency"],
                data["total"],
                data.get("cashierId"),
                "realtime",
                fingerprint,
                rules.rate_points,
                rules.rate_per_amount,
                score.points,
                0,
                0,
                0,
                0,
                breakdown,
                None,
                now,
            )
            if receipt_id is None:
                return {"__typename": "ConflictError", "code": "RECEIPT_CONFLICT"}
            score = score_receipt(rules, lines, NO_MODIFIERS)  # Happy scores again, settled
            values: list[Any] = []
            for number, (line, scored) in enumerate(zip(lines, score.lines, strict=True), 1):
                values += [
                    receipt_id,
                    number,
                    line.sku,
                    line.name,
                    line.brand,
                    line.category,
                    line.quantity_milli,
                    line.unit_price,
                    line.amount,
                    scored.multiplier_pct,
                    scored.rule,
                    scored.points,
                    0,
                ]
            await db.fetch(sql.INSERT_RECEIPT_LINES, *values)
            programme = await db.fetchrow(sql.PROGRAMME, 1)
            expires_at = issued_at + timedelta(days=30 * programme["points_expiry_months"])
            points = score.points
            balance = member_available = await db.fetchval(
                sql.CREDIT_ACCOUNT, points, points, now, member_id
            )
            entry_id = await db.fetchval(
                sql.INSERT_ENTRY,
                member_id,
                "earn",
                points,
                member_available,
                "receipt",
                str(receipt_id),
                store.partner_name,
                f"receipt:{store.partner_id}:{data['receiptId']}",
                now,
                expires_at,
            )
            await db.fetchval(sql.INSERT_LOT, member_id, entry_id, points, points, now, expires_at)
            await db.fetchrow(sql.WALLET_PASS_FOR_UPDATE, member_id)
            await db.fetchval(sql.WALLET_REGISTRATION_EXISTS, member_id, 1)
            await db.fetchval(sql.WALLET_PASS_EXISTS, member_id, 1)
            answer = {
                "receiptId": data["receiptId"],
                "pointsEarned": score.total,
                "balance": balance,
                "breakdown": [item.to_json() for item in score.breakdown],
                "processedAt": now.isoformat(),
            }
            await db.fetchrow(sql.RECEIPT_BY_ID, receipt_id)
            await db.execute(sql.STORE_ANSWER, json.dumps(answer), receipt_id)
            tiers = await db.fetch(sql.TIERS)
            held = await db.fetchrow(sql.MEMBER_TIER_FOR_UPDATE, member_id)
            top = tiers[-1]["id"] if tiers else None
            if len(tiers) >= 2 and (held is None or held["tier_id"] != top):
                since = now - timedelta(days=365)
                await db.fetchval(sql.QUALIFYING_POINTS, 0, member_id, since, *QUALIFYING_KINDS)
                await db.fetchval(sql.UNCOLLECTED_RECEIPT_POINTS, 0, member_id, since)
                await db.fetchval(sql.UNCOLLECTED_OFFER_POINTS, 0, member_id, since)
            payload = json.dumps(
                {
                    "at": now.isoformat(),
                    "receipt_id": receipt_id,
                    "member_id": member_id,
                    "partner_id": store.partner_id,
                    "store_id": store.store_id,
                    "points": score.total,
                }
            )
            # Happy's statement, but written as delivered: the baseline delivers nothing
            # after commit, and Happy's outbox poller (same database) must not deliver its
            # rows either (that would be Happy's CPU spent on the baseline's receipts).
            await db.fetchval(
                sql.INSERT_OUTBOX,
                "messages.points_earned",
                "ReceiptAccepted",
                payload,
                None,
                "done",
                0,
                None,
                now,
                now,
                now,
            )
        return {
            "__typename": "ReceiptAccepted",
            "pointsEarned": score.total,
            "balance": balance,
            "breakdown": [
                {"kind": item.kind.value, "points": item.points} for item in score.breakdown
            ],
        }

    async def redeem_voucher(self, store: Store, text: str, receipt: str) -> dict[str, Any]:
        now = datetime.now(UTC)
        if not receipt or len(receipt) > 64:
            return input_error("INVALID_INPUT", "receiptId")
        window = int(now.timestamp()) // 3600 * 3600
        async with self.unit_of_work() as db:
            await db.fetchval(sql.RATE_LIMIT_COUNT, 0, GUESS_SCOPE, f"key:{store.key_id}", window)
            code = normalise(text)
            voucher = None if code is None else await db.fetchrow(sql.VOUCHER_BY_CODE, code)
            if voucher is None:
                return voucher_error("VOUCHER_NOT_FOUND")
            redeemed = await db.fetchval(
                sql.REDEEM_VOUCHER,
                "redeemed",
                now,
                store.partner_id,
                store.store_id,
                receipt,
                voucher["id"],
                "issued",
                now,
                store.partner_id,
            )
            if redeemed is None:
                return voucher_error("VOUCHER_ALREADY_REDEEMED")
            await db.fetchval(
                sql.INSERT_REDEMPTION,
                voucher["id"],
                store.partner_id,
                store.store_id,
                receipt,
                voucher["value_amount"],
                voucher["currency"],
                now,
                None,
            )
            voucher = await db.fetchrow(sql.VOUCHER_BY_ID, voucher["id"])
        return {
            "__typename": "VoucherRedeemed",
            "receiptId": receipt,
            "redeemedAt": voucher["redeemed_at"].isoformat(),
            "voucher": {
                "code": voucher["code"],
                "status": voucher["status"].upper(),
                "value": {"amount": voucher["value_amount"], "currency": voucher["currency"]},
            },
        }


async def _no_reset(_connection: asyncpg.Connection) -> None:
    return None


def input_error(code: str, field: str) -> dict[str, Any]:
    return {"__typename": "InputError", "code": code, "message": code, "field": field}


def voucher_error(code: str) -> dict[str, Any]:
    return {"__typename": "VoucherError", "code": code, "message": code, "field": "code"}


def create_app() -> Starlette:
    baseline = Baseline()

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await baseline.start()
        yield
        await baseline.stop()

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/graphql", baseline.member_door, methods=["POST"]),
            Route("/partner/graphql", baseline.partner_door, methods=["POST"]),
        ],
        lifespan=lifespan,
    )


class NoDelayConfig(uvicorn.Config):
    """As ``cli/serve.py``: the listener bound as a TCP socket, so connections accepted by
    several workers keep TCP_NODELAY (uvicorn issue #3149)."""

    def bind_socket(self) -> socket.socket:
        sock = super().bind_socket()
        if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.proto != socket.IPPROTO_TCP:
            family, kind = sock.family, sock.type
            sock = socket.socket(family, kind, socket.IPPROTO_TCP, fileno=sock.detach())
        return sock


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.baseline")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    config = NoDelayConfig(
        "bench.baseline:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="warning",
        access_log=False,
        proxy_headers=False,
    )
    if args.workers == 1:
        uvicorn.Server(config).run()
        return
    from uvicorn.supervisors import Multiprocess

    Multiprocess(config, sockets=[config.bind_socket()]).run()


if __name__ == "__main__":
    main()

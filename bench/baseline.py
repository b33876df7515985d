"""The bare baseline: Starlette + asyncpg doing what Happy does for the benchmark's
operations, and nothing else.

For each operation it checks the same credential the same way (member access tokens with
Happy's own ``auth.tokens.decode_access_token``, then the member with their account and
live session in one statement; partner keys with their store in one statement and a keyed
hash compared in constant time), sends Happy's SQL statement for statement in the same
transaction shape (``bench/baseline_sql.py``: no transaction where Happy reads without
one, ``BEGIN ISOLATION LEVEL READ COMMITTED`` ... ``COMMIT`` for its unit of work) and
uses Happy's pure rules (receipt checks and fingerprint, scoring with the tier modifier,
offer filters, fraud counter keys, tier check, currency conversion). It mirrors the common
path only: anything else raises :class:`NotMirrored` (HTTP 500). No GraphQL, no ORM: it
recognises the benchmark's documents (bench/wrk/*.lua) by name and answers JSON shaped like
Happy's answer. What is left between the two is what Happy's stack costs.

``python -m bench.baseline --port P --workers N``: uvicorn with the settings
``happy serve`` uses (the listener bound as TCP so accepted sockets keep TCP_NODELAY with
several workers; uvicorn picks uvloop and httptools when they are installed, as for Happy).
The database is ``HAPPY_DATABASE_URL``; the pool holds up to ``HAPPY_DATABASE_POOL_SIZE``
times 3 connections per process, as Happy's engine (no overflow).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo

import asyncpg
import uvicorn
from dateutil.relativedelta import relativedelta
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.db import ARRAY_TYPES
from app.errors import AuthenticationRequired, DomainError
from app.events import ReceiptAccepted, to_json
from app.fraud.models import LimitKind, Severity
from app.fraud.service import (
    _ORDER,
    RECEIPT_KINDS,
    REDEMPTION_KINDS,
    Activity,
    LimitRule,
    _amount,
    _counter_subject,
    _period,
    _subject,
)
from app.fx.service import BASE_CURRENCY, convert, programme_day
from app.keys import Keys
from app.limits.service import VOUCHER_CODE_GUESSES
from app.offers.service import LiveOffer, applies_at, facts_from, in_segment
from app.partners.earn_rule_models import ModifierKind
from app.partners.earn_rules import PartnerRules
from app.programme_cache import STALE_AFTER_SECONDS
from app.receipts.answers import ReceiptAnswer
from app.receipts.input import LineInput, ReceiptInput, check_receipt
from app.receipts.offers import TierModifier, TillOffers
from app.receipts.scoring import NO_MODIFIERS, score_receipt
from app.rewards.codes import normalise
from app.rewards.redemption_rules import needs_confirmation
from app.settings import Settings
from app.tiers.service import QUALIFYING_KINDS, WINDOW_MONTHS, TierRule, base_tier, qualified_for
from app.wallet.scan import scanned_card_number
from auth import prefixed_tokens
from auth.api_keys import KEY_SCOPE, KIND, LAST_USED_RESOLUTION
from auth.tokens import decode_access_token
from bench import baseline_sql as sql

T = TypeVar("T")
OFFER_JSON_COLUMNS = ("titles", "descriptions", "partner_ids", "store_ids", "scope_values")
TIER_BASE = (1,)  # coalesce(held tier, base tier ... LIMIT 1) (member_facts_columns)


@dataclass(frozen=True)
class Store:
    """The key's store and partner (``app.callers.StoreCaller`` as the gate builds it)."""

    key_id: int
    store_id: int
    partner_id: int
    partner_name: str
    currency: str

    @property
    def limit_key(self) -> str:
        return f"api-key:{self.key_id}"  # ApiKeyCredential.limit_key


class Refused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class NotMirrored(RuntimeError):
    """Happy would take a path the baseline does not mirror (an offer at the till, a fraud
    limit crossed, a tier crossed, a wallet pass to bump...): the request fails (HTTP 500)
    so the run shows it instead of comparing different work."""


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
        # Programme data as Happy caches it per process (app/programme_cache.py).
        self._cache: dict[Hashable, tuple[float, Any]] = {}
        self._fraud_rules: tuple[Any, tuple[LimitRule, ...]] | None = None

    @property
    def pool(self) -> asyncpg.Pool:
        assert self._pool is not None
        return self._pool

    async def start(self) -> None:
        # No reset query on release (asyncpg's default is a round trip of its own): every
        # transaction here ends itself, as SQLAlchemy's do. The pool keeps what it opened
        # (Happy's engine: pool size x 3, no overflow).
        self._pool = await asyncpg.create_pool(
            self.dsn, min_size=1, max_size=self.pool_size, reset=_no_reset, init=_learn_arrays
        )

    async def stop(self) -> None:
        if self._pool is not None:
            await self._pool.close()

    # --- transactions as Happy has them -----------------------------------------------

    async def single(self, method: str, statement: str, *args: Any) -> Any:
        """One statement without a transaction (Happy's autocommit reads)."""
        async with self.pool.acquire() as connection:
            return await getattr(connection, method)(statement, *args)

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[asyncpg.Connection]:
        """``BEGIN ISOLATION LEVEL READ COMMITTED`` ... ``COMMIT`` (rolled back on error)."""
        async with (
            self.pool.acquire() as connection,
            connection.transaction(isolation="read_committed"),
        ):
            yield connection

    async def cached(self, key: Hashable, load: Callable[[], Awaitable[T]]) -> T:
        """``load()``'s value, kept up to ``STALE_AFTER_SECONDS`` (Happy's staleness)."""
        now = time.monotonic()
        entry = self._cache.get(key)
        if entry is not None and now - entry[0] < STALE_AFTER_SECONDS:
            value: T = entry[1]
            return value
        value = await load()
        self._cache[key] = (now, value)
        return value

    # --- programme data (cached like Happy's) -----------------------------------------

    async def programme(self, db: asyncpg.Connection) -> asyncpg.Record:
        return await self.cached("programme", lambda: db.fetchrow(sql.PROGRAMME, 1))

    async def earn_rules(self, db: asyncpg.Connection, partner_id: int, currency: str) -> Any:
        async def load() -> PartnerRules:
            rate = await db.fetchrow(sql.EARN_RATE, partner_id, currency)
            modifiers = await db.fetch(sql.EARN_MODIFIERS, partner_id)
            return PartnerRules(
                partner_id=partner_id,
                currency=currency,
                rate_points=rate["points"] if rate else 0,
                rate_per_amount=rate["per_amount"] if rate else 1,
                modifiers={
                    (ModifierKind(m["kind"]), m["match"]): m["multiplier_pct"] for m in modifiers
                },
            )

        return await self.cached(("earn_rules", partner_id, currency), load)

    async def tiers(self, db: asyncpg.Connection) -> list[TierRule]:
        async def load() -> tuple[TierRule, ...]:
            return tuple(
                TierRule(
                    id=t["id"],
                    code=t["code"],
                    name=t["name"],
                    threshold=t["threshold"],
                    earn_bonus_pct=t["earn_bonus_pct"],
                    background_colour=t["background_colour"],
                    foreground_colour=t["foreground_colour"],
                    label_colour=t["label_colour"],
                )
                for t in await db.fetch(sql.TIERS)
            )

        return list(await self.cached("tiers", load))

    async def fraud_rules(
        self, db: asyncpg.Connection, programme: asyncpg.Record
    ) -> tuple[LimitRule, ...]:
        """``app.fraud.service.rules_in_force``: reloaded when ``limits_version`` moved."""
        version = programme["limits_version"]
        if not version:
            return ()
        if self._fraud_rules is not None and self._fraud_rules[0] == version:
            return self._fraud_rules[1]
        rules = tuple(
            LimitRule(
                id=row["id"],
                kind=LimitKind(row["kind"]),
                severity=Severity(row["severity"]),
                value=row["value"],
                partner_id=row["partner_id"],
                store_id=row["store_id"],
            )
            for row in await db.fetch(sql.FRAUD_LIMITS)
        )
        self._fraud_rules = (version, rules)
        return rules

    async def count_fraud(
        self,
        db: asyncpg.Connection,
        programme: asyncpg.Record,
        activity: Activity,
        now: datetime,
    ) -> None:
        """``app.fraud.service._check`` on its common path: every counter in one upsert;
        a limit crossed (alerts, refusals) is not mirrored."""
        rules = [
            rule
            for rule in await self.fraud_rules(db, programme)
            if rule.kind in activity.kinds
            and rule.applies_to(activity.partner_id, activity.store_id)
        ]
        if not rules:
            return
        zone = ZoneInfo(programme["timezone"])
        observed: dict[tuple[LimitKind, str], int] = {}
        by_subject: dict[tuple[str, str], tuple[LimitKind, str]] = {}
        increments: list[tuple[str, str, str, int]] = []
        for key in sorted({(r.kind, r.scope) for r in rules}, key=lambda k: (_ORDER[k[0]], k[1])):
            kind, scope = key
            if kind is LimitKind.POINTS_PER_RECEIPT:
                observed[key] = activity.points
                continue
            amount = _amount(kind, activity)
            if amount > 0:
                subject = _counter_subject(_subject(kind, activity), scope)
                by_subject[(kind.value, subject)] = key
                increments.append((kind.value, subject, _period(kind, now, zone), amount))
        if increments:
            increments.sort(key=lambda row: (row[0], row[1], row[2]))
            arrays = [list(column) for column in zip(*increments, strict=True)]
            for row in await db.fetch(sql.fraud_counters(len(increments)), *arrays):
                observed[by_subject[(row["kind"], row["subject"])]] = int(row["value"])
        crossed = [r for r in rules if observed.get((r.kind, r.scope), 0) > r.value]
        if crossed:
            raise NotMirrored(f"fraud limit crossed: {crossed[0]}")

    # --- credentials ------------------------------------------------------------------

    def bearer(self, request: Request) -> str | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None

    async def member(self, request: Request) -> asyncpg.Record:
        """Happy's signed-in member: the token decoded, then one statement (member, points
        account and live session), no transaction."""
        token = self.bearer(request)
        if token is None:
            raise Refused("UNAUTHENTICATED", "sign in first")
        try:
            claims = decode_access_token(self.keys, self.settings, token)
        except AuthenticationRequired as exc:
            raise Refused("UNAUTHENTICATED", "sign in first") from exc
        row = await self.single(
            "fetchrow",
            sql.SIGNED_IN_MEMBER,
            claims.member_public_id,
            "active",
            claims.session_id,
        )
        if row is None:
            raise Refused("UNAUTHENTICATED", "sign in first")
        return row

    async def store(self, request: Request) -> Store:
        """Happy's key gate: the key with its store and partner in one statement (no
        transaction), the secret's keyed hash compared in constant time; then, at most once
        a minute per key, its last use recorded in a unit of work of its own."""
        parts = prefixed_tokens.split(self.bearer(request) or "", KIND)
        if parts is None:
            raise Refused("UNAUTHENTICATED", "a valid API key is required")
        prefix, secret = parts
        row = await self.single("fetchrow", sql.KEY_WITH_STORE, prefix)
        if (
            row is None
            or not prefixed_tokens.secret_matches(
                self.keys, KEY_SCOPE, secret, row["key_secret_hash"]
            )
            or row["key_revoked_at"] is not None
            or not row["store_active"]
            or not row["partner_active"]
        ):
            raise Refused("UNAUTHENTICATED", "a valid API key is required")
        now = datetime.now(UTC)
        last_used = row["key_last_used_at"]
        if last_used is None or now - last_used > LAST_USED_RESOLUTION:
            async with self.unit_of_work() as db:
                await db.execute(sql.TOUCH_KEY, now, row["key_id"], now - LAST_USED_RESOLUTION)
        return Store(
            row["key_id"],
            row["store_id"],
            row["partner_id"],
            row["partner_name"],
            row["store_currency"],
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
        return JSONResponse(
            {"data": {"me": {"balance": {"available": member["account_available"]}}}}
        )

    async def card_and_activity(self, member: asyncpg.Record) -> dict[str, Any]:
        """Happy's card loader and activity page: concurrent, each one statement on its own
        connection, no transaction (the balance came with the member)."""
        member_id = member["id"]
        # Happy's activity resolver reads at once; the card loader's batch runs a tick later.
        entries, found_cards = await asyncio.gather(
            self.single("fetch", sql.ACTIVITY_PAGE, member_id, 11),
            self.single("fetch", sql.SHOWN_CARDS, "active", member_id),
        )
        return {
            "phone": member["phone_e164"],
            "card": {"number": found_cards[0]["number"]} if found_cards else None,
            "balance": {
                "available": member["account_available"],
                "pending": member["account_pending"],
                "lifetime": member["account_lifetime"],
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
        """A page of 50 receipts newest first with partner and store (one statement), then
        the lines of every receipt read (one statement), on one connection, no
        transaction (``app.receipts.history.member_page``)."""
        async with self.pool.acquire() as connection:
            found = list(await connection.fetch(sql.RECEIPT_PAGE, member["id"], 51))
            ids = [r["id"] for r in found]
            lines = (
                await connection.fetch(sql.in_list(sql.LINES_OF_RECEIPTS, len(ids)), *ids)
                if ids
                else []
            )
        rows, more = found[:50], len(found) > 50
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
                            for b in json.loads(r["breakdown"] or "[]")
                        ],
                        "partner": {"name": r["name"]},
                        "store": {"name": r["name_1"], "city": r["city"]},
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

    async def submit_receipt(self, store: Store, raw: dict[str, Any]) -> dict[str, Any]:
        """``app.receipts.service.submit_receipt`` on its common path (a new receipt by
        card number, no offer at the till, no limit or tier crossed, no wallet pass), with
        its in-transaction subscribers and its outbox row, statement for statement
        (``bench/baseline_sql.py``, the ``submitReceipt`` block, in this order)."""
        now = datetime.now(UTC)
        try:
            data = check_receipt(receipt_input(raw), now)
            if data.currency != store.currency:
                return input_error("WRONG_CURRENCY", "currency")
            if data.card_number is None:
                raise NotMirrored("receipts by phone")
            number = scanned_card_number(self.keys, data.card_number, data.issued_at)
        except DomainError as exc:
            return input_error(str(getattr(exc, "code", "INVALID_INPUT")), "input")
        fingerprint = data.fingerprint(store.store_id)
        async with self.unit_of_work() as db:
            # The member by card, with their block and the offers' segment facts.
            member = await db.fetchrow(
                sql.MEMBER_BY_CARD, *TIER_BASE * 3, "earn", number, "active", "active"
            )
            if member is None:
                return {"__typename": "MemberNotIdentifiedError", "code": "CARD_NOT_FOUND"}
            if member["anon_1"]:
                return {"__typename": "MemberBlockedError", "code": "MEMBER_BLOCKED"}
            member_id = member["id"]
            rules = await self.earn_rules(db, store.partner_id, data.currency)  # cached
            # The offers live at the receipt's time, with the member's state; Happy's own
            # filters (duck-typed: they read attributes) keep those that may apply.
            facts = facts_from(
                cast(Any, SimpleNamespace(**dict(member))),
                tuple(member[c] for c in ("coalesce_1", "coalesce_2", "coalesce_3", "anon_2")),
            )
            code, bonus = facts.tier_code, facts.tier_bonus_pct
            tier = TierModifier(code, facts.tier_name or code, bonus) if code and bonus else None
            for row in await db.fetch(
                sql.OFFERS_AT_TILL, member_id, "active", data.issued_at, data.issued_at
            ):
                values = dict(row)
                for name in OFFER_JSON_COLUMNS:  # as SQLAlchemy's JSON type reads them
                    if isinstance(values[name], str):
                        values[name] = json.loads(values[name])
                offer = cast(Any, SimpleNamespace(**values))
                live = LiveOffer(offer, offer if row["offer_id"] is not None else None)
                if (
                    applies_at(offer, store.partner_id, store.store_id)
                    and (offer.currency is None or offer.currency == data.currency)
                    and in_segment(offer, facts, data.issued_at)
                    and live.usable()
                ):
                    raise NotMirrored("an offer that may apply at the till")
            till = TillOffers(member_id, member["language"], tier, [])
            score = score_receipt(rules, data.lines, NO_MODIFIERS)
            breakdown = json.dumps([item.to_json() for item in score.breakdown])
            receipt_id = await db.fetchval(
                sql.INSERT_RECEIPT,
                store.partner_id,
                store.store_id,
                member_id,
                data.receipt_id,
                data.issued_at,
                data.currency,
                data.total,
                data.cashier_id,
                "realtime",
                fingerprint,
                rules.rate_points,
                rules.rate_per_amount,
                score.points,
                0,  # bonus_points (the column's default)
                0,
                0,
                0,
                breakdown,
                None,
                now,
            )
            if receipt_id is None:
                raise NotMirrored("a receipt id already used (Happy replays its answer)")
            score = till.provisional(rules, data.lines)  # settled: the tier, no offers
            points = score.points
            rows = [
                (
                    receipt_id,
                    number_,
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
                )
                for number_, (line, scored) in enumerate(
                    zip(data.lines, score.lines, strict=True), start=1
                )
            ]
            # One array per column, sent at commit (DEFERRED_WRITES) as Happy's
            # app/deferred.py does.
            lines = [list(column) for column in zip(*rows, strict=True)]
            programme = await self.programme(db)  # cached
            activity = Activity(
                member_id=member_id,
                partner_id=store.partner_id,
                store_id=store.store_id,
                cashier_id=data.cashier_id,
                points=score.total,
                kinds=RECEIPT_KINDS,
                reference=f"receipt:{store.partner_id}:{data.receipt_id}",
            )
            await self.count_fraud(db, programme, activity, now)
            expires_at = data.issued_at + relativedelta(months=programme["points_expiry_months"])
            if points <= 0:
                raise NotMirrored("a receipt without points")
            # The ledger credit: account, entry and lot in one statement.
            entry = await db.fetchrow(
                sql.CREDIT_EARN,
                member_id,  # the lot
                points,
                points,
                now,
                expires_at,
                store.partner_id,
                member_id,  # the entry
                "earn",
                points,
                "receipt",
                str(receipt_id),
                store.partner_name,
                f"receipt:{store.partner_id}:{data.receipt_id}",
                now,
                expires_at,
                points,  # the account
                points,
                now,
                member_id,
            )
            if entry is None:
                raise NotMirrored("a member without a points account")
            balance = entry["balance_after"]
            # BalanceChanged, in the transaction: the wallet passes' update tag (and the
            # lifetime points kept for the tier check).
            if await db.fetch(sql.WALLET_PASSES_FOR_UPDATE, member_id):
                raise NotMirrored("a member with a wallet pass")
            answer = ReceiptAnswer(
                receipt_id=data.receipt_id,
                points_earned=score.total,
                balance=balance,
                breakdown=score.breakdown,
                processed_at=now,
            )
            event = ReceiptAccepted(
                at=now,
                receipt_id=receipt_id,
                member_id=member_id,
                partner_id=store.partner_id,
                store_id=store.store_id,
                points=score.total,
            )
            # ReceiptAccepted, in the transaction: does this receipt move the member up?
            await self.tier_check(db, member_id, score.total, entry["account_lifetime"], now)
            # At commit, one statement: the lines, the stored answer and the outbox row of
            # ReceiptAccepted's "points earned" message. That row is written as delivered:
            # the baseline delivers nothing after commit, and Happy's outbox poller (same
            # database) must not deliver it either (Happy's CPU spent on the baseline's
            # receipts). Same statement, two values differ (status, done_at).
            await db.execute(
                sql.DEFERRED_WRITES,
                *lines,
                points,
                score.bonus_points,
                json.dumps([item.to_json() for item in score.breakdown]),
                json.dumps(answer.to_json()),
                receipt_id,
                ["messages.points_earned"],
                [ReceiptAccepted.event_name()],
                [to_json(event)],
                [None],
                ["done"],
                [0],
                [None],
                [now],
                [now],
                [now],
            )
        return {
            "__typename": "ReceiptAccepted",
            "pointsEarned": score.total,
            "balance": balance,
            "breakdown": [
                {"kind": item.kind.value, "points": item.points} for item in score.breakdown
            ],
        }

    async def tier_check(
        self, db: asyncpg.Connection, member_id: int, points: int, lifetime: int, now: datetime
    ) -> None:
        """``app.tiers.service.on_receipt_accepted`` while nothing is crossed."""
        if points <= 0:
            return
        tiers = await self.tiers(db)  # cached
        if len(tiers) < 2:
            return
        if lifetime < tiers[1].threshold:  # qualifying points never exceed lifetime points
            return
        since = now - relativedelta(months=WINDOW_MONTHS)
        kinds = [kind.value for kind in QUALIFYING_KINDS]
        row = await db.fetchrow(
            sql.TIER_CHECK, member_id, 0, member_id, since, 0, member_id, since, 0, member_id,
            since, *kinds,
        )  # fmt: skip
        held_id, total, *uncollected = row
        current = next((t for t in tiers if t.id == held_id), base_tier(tiers))
        if current is not None and current == tiers[-1]:
            return
        net = max(0, int(total or 0) - sum(int(u or 0) for u in uncollected))
        reached = qualified_for(tiers, net)
        if reached is None or current is None or reached.threshold <= current.threshold:
            return
        raise NotMirrored("a tier crossed")

    async def redeem_voucher(self, store: Store, text: str, receipt: str) -> dict[str, Any]:
        """``app.rewards.service.redeem_voucher`` on its common path (an issued voucher,
        unblocked owner, no confirmation needed, no limit crossed)."""
        now = datetime.now(UTC)
        if not receipt or len(receipt) > 64:
            return input_error("INVALID_INPUT", "receiptId")
        guesses = VOUCHER_CODE_GUESSES
        epoch = int(now.timestamp())
        window_start = epoch - epoch % guesses.window_seconds
        async with self.unit_of_work() as db:
            used = await db.fetchval(
                sql.GUESSES_USED, 0, guesses.scope, store.limit_key, window_start
            )
            if used >= guesses.attempts:
                return voucher_error("RATE_LIMITED")
            code = normalise(text)
            voucher = None if code is None else await db.fetchrow(sql.VOUCHER_WITH_BLOCK, code)
            if voucher is None:
                raise NotMirrored("an unknown voucher code (Happy counts the miss)")
            if voucher["blocked"]:
                return {"__typename": "MemberBlockedError", "code": "MEMBER_BLOCKED"}
            if voucher["status"] != "issued":
                raise NotMirrored("a voucher not issued (Happy reads it again)")
            if voucher["expires_at"] <= now:
                return voucher_error("VOUCHER_EXPIRED")
            if voucher["partner_id"] is not None and voucher["partner_id"] != store.partner_id:
                return voucher_error("VOUCHER_NOT_VALID_HERE")
            programme = await db.fetchrow(sql.PROGRAMME, 1)  # read now, never cached
            day = programme_day(now, programme["timezone"])
            rates = await self.rates_of_day(
                db, {voucher["currency"].upper(), store.currency.upper()} - {BASE_CURRENCY}, day
            )
            if rates is None:
                return voucher_error("EXCHANGE_RATE_MISSING")
            amount, currency = voucher["value_amount"], voucher["currency"]
            eur = convert(amount, currency, BASE_CURRENCY, rates)
            store_amount = convert(amount, currency, store.currency, rates)
            target = store.currency.upper()
            rate = Decimal(1) if target == BASE_CURRENCY else rates[target]
            if needs_confirmation(eur, programme["redemption_confirmation_eur"]):
                return voucher_error("CONFIRMATION_REQUIRED")
            redeemed = await db.fetchrow(
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
                raise NotMirrored("a voucher redeemed meanwhile (Happy reads it again)")
            activity = Activity(
                member_id=voucher["member_id"],
                partner_id=store.partner_id,
                store_id=store.store_id,
                cashier_id=None,
                points=0,
                kinds=REDEMPTION_KINDS,
                reference=f"voucher:{voucher['id']}:{receipt}",
            )
            await self.count_fraud(db, programme, activity, now)
            await db.fetchval(
                sql.INSERT_REDEMPTION,
                voucher["id"],
                store.partner_id,
                store.store_id,
                receipt,
                amount,
                currency,
                now,
                None,
                eur,
                store_amount,
                target,
                rate,
            )
        return {
            "__typename": "VoucherRedeemed",
            "receiptId": receipt,
            "redeemedAt": redeemed["redeemed_at"].isoformat(),
            "voucher": {
                "code": redeemed["code"],
                "status": redeemed["status"].upper(),
                "value": {"amount": redeemed["value_amount"], "currency": redeemed["currency"]},
            },
        }

    async def rates_of_day(
        self, db: asyncpg.Connection, currencies: set[str], day: date
    ) -> dict[str, Decimal] | None:
        """``app.fx.service.rates_of_day``: one statement per non-EUR currency, sorted."""
        rates: dict[str, Decimal] = {}
        for code in sorted(currencies):
            rate = await db.fetchval(sql.RATE_OF_DAY, code, day, 1)
            if rate is None:
                return None
            rates[code] = rate
        return rates


def receipt_input(raw: dict[str, Any]) -> ReceiptInput:
    """The GraphQL ``ReceiptInput`` variables as the core's input (``to_core``)."""
    return ReceiptInput(
        receipt_id=raw["receiptId"],
        issued_at=datetime.fromisoformat(raw["issuedAt"].replace("Z", "+00:00")),
        currency=raw["currency"],
        total=int(raw["total"]),
        cashier_id=raw.get("cashierId"),
        card_number=raw.get("cardNumber"),
        phone=raw.get("phone"),
        lines=tuple(
            LineInput(
                sku=line["sku"],
                name=line["name"],
                brand=line.get("brand"),
                category=line.get("category"),
                quantity=Decimal(str(line["quantity"])),
                unit_price=int(line["unitPrice"]),
                amount=int(line["amount"]),
            )
            for line in raw["lines"]
        ),
    )


async def _learn_arrays(connection: asyncpg.Connection) -> None:
    """As Happy's engine does on every new connection (app/db.py): asyncpg's introspection
    of the array types the unnest inserts send, once per connection, not on a request."""
    await connection.fetchval(ARRAY_TYPES, None, None, None, None)


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

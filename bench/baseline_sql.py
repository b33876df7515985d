"""The SQL the bare baseline sends: Happy's own statements, verbatim.

Captured on 2026-12-01 from commit ecc31c0 (PostgreSQL 127.0.0.1:5432, one worker) with
``python -m bench.run --capture-sql --no-big`` and ``--capture-sql --only me_receipts``;
the programme-data reloads (``# cached`` below: Happy reads them at most every 5 s per
process, so one captured request rarely shows them) compiled from Happy's own queries with
SQLAlchemy's asyncpg dialect, which renders them as sent.

What ``bench.run`` compares (its "same SQL" column, and ``make bench`` refuses a
mismatch): one request's statements as a multiset, up to its unit of work's ``COMMIT``,
less what is left out by design: pool pre-pings (``BEGIN``, an empty statement,
``ROLLBACK``), Happy's outbox poller (a transaction that takes ``pg_advisory_xact_lock``)
and the outbox delivery after a receipt's commit (the "points earned" message), which is
follow-up work, not the request's. Transaction shape counts: a ``BEGIN ISOLATION LEVEL
READ COMMITTED`` is compared like any statement, and Happy's reads send none.

How to refresh submitReceipt after Happy's receipt path changed (the others alike):

1. ``.venv/bin/python -m bench.run --capture-sql --no-big --only submit_receipt
   --as-python`` prints, per server, the statements of one request in order and then
   Happy's statements up to its COMMIT as Python constants (``S1 = (...)``, ``S2``...).
2. Replace the constants between ``# >>> submitReceipt`` and ``# <<< submitReceipt`` below
   with those (less ``S1``, the key lookup, the ``BEGIN``/``COMMIT`` and the fraud
   counters' upsert, built by ``fraud_counters``), named after what they do; one that is
   gone goes from here and from ``Baseline.submit_receipt``; update the capture note.
3. In ``bench/baseline.py`` ``Baseline.submit_receipt`` each statement has one call, in
   Happy's order, with its parameters in ``$n`` order: follow the new order, give a new
   statement its parameters (read them in Happy's service code, ``app/receipts/
   service.py`` and the in-transaction subscribers of ``ReceiptAccepted`` and
   ``BalanceChanged`` in ``app/main.py``) and use its ``RETURNING`` values as Happy does.
4. ``make bench SMOKE=1``: it fails unless every operation says "same SQL: yes"; then
   ``--capture-sql --no-big`` again to see the two lists side by side.
"""

# --- member door: the signed-in member (graphql_schema/context.py), one statement -------
# Parameters: member public id, member status 'active', session id (the token's).
SIGNED_IN_MEMBER = (
    "SELECT members.id, members.public_id, members.phone_e164, members.status, "
    "members.first_name, members.last_name, members.birth_date, members.gender, "
    "members.city, members.email, members.language, members.registration_channel, "
    "members.created_at, members.updated_at, members.deleted_at, points_accounts.member_id "
    "AS account_member_id, points_accounts.available AS account_available, "
    "points_accounts.pending AS account_pending, points_accounts.lifetime AS "
    "account_lifetime, points_accounts.updated_at AS account_updated_at FROM members LEFT "
    "OUTER JOIN points_accounts ON points_accounts.member_id = members.id WHERE "
    "members.public_id = $1::VARCHAR AND members.status = $2 AND (EXISTS (SELECT * FROM "
    "member_sessions WHERE member_sessions.id = $3::VARCHAR AND member_sessions.member_id ="
    " members.id AND member_sessions.revoked_at IS NULL))"
)

# --- me: card and activity: two DataLoader reads, concurrent, no transaction -------
SHOWN_CARDS = (
    "SELECT cards.id, cards.number, cards.member_id, cards.kind, cards.status, cards.batch,"
    " cards.created_at, cards.linked_at FROM cards WHERE cards.member_id IN ($2::INTEGER) "
    "AND cards.status = $1 ORDER BY cards.linked_at, cards.id"
)
ACTIVITY_PAGE = (
    "SELECT points_entries.id, points_entries.member_id, points_entries.kind, "
    "points_entries.delta, points_entries.balance_after, points_entries.reference_type, "
    "points_entries.reference_id, points_entries.description, "
    "points_entries.idempotency_key, points_entries.created_at, points_entries.expires_at "
    "FROM points_entries WHERE points_entries.member_id = $1::INTEGER ORDER BY "
    "points_entries.id DESC LIMIT $2::INTEGER"
)

# --- partner door: the key with its store and partner (graphql_schema/partner/gate.py) ---
KEY_WITH_STORE = (
    "SELECT partner_api_keys.id AS key_id, partner_api_keys.prefix AS key_prefix, "
    "partner_api_keys.secret_hash AS key_secret_hash, partner_api_keys.store_id AS "
    "key_store_id, partner_api_keys.revoked_at AS key_revoked_at, "
    "partner_api_keys.last_used_at AS key_last_used_at, stores.id AS store_id, stores.code "
    "AS store_code, stores.currency AS store_currency, stores.active AS store_active, "
    "partners.id AS partner_id, partners.code AS partner_code, partners.name AS "
    "partner_name, partners.active AS partner_active FROM partner_api_keys JOIN stores ON "
    "stores.id = partner_api_keys.store_id JOIN partners ON partners.id = stores.partner_id"
    " WHERE partner_api_keys.prefix = $1::VARCHAR"
)
TOUCH_KEY = (
    "UPDATE partner_api_keys SET last_used_at=$1::TIMESTAMP WITH TIME ZONE WHERE "
    "partner_api_keys.id = $2::INTEGER AND (partner_api_keys.last_used_at IS NULL OR "
    "partner_api_keys.last_used_at < $3::TIMESTAMP WITH TIME ZONE)"
)  # at most once a minute per key, in a unit of work of its own (auth/api_keys.py touch)

# --- cached programme data (app/programme_cache.py: reloaded when 5 s old) -----------------
# get_programme and current_programme (redeemVoucher reads it every time) send the same.
PROGRAMME = (
    "SELECT programmes.id, programmes.name, programmes.welcome_bonus_points, "
    "programmes.points_expiry_months, programmes.timezone, programmes.default_language, "
    "programmes.card_prefix, programmes.redemption_confirmation_eur, "
    "programmes.limits_version, programmes.point_value_micro_eur, programmes.updated_at FROM "
    "programmes WHERE programmes.id = $1::INTEGER"
)
EARN_RATE = (
    "SELECT earn_rates.id, earn_rates.partner_id, earn_rates.currency, earn_rates.points, "
    "earn_rates.per_amount, earn_rates.updated_at FROM earn_rates WHERE "
    "earn_rates.partner_id = $1::INTEGER AND earn_rates.currency = $2::VARCHAR"
)
EARN_MODIFIERS = (
    "SELECT earn_modifiers.id, earn_modifiers.partner_id, earn_modifiers.kind, "
    "earn_modifiers.match, earn_modifiers.multiplier_pct, earn_modifiers.updated_at FROM "
    "earn_modifiers WHERE earn_modifiers.partner_id = $1::INTEGER"
)
TIERS = (
    "SELECT tiers.id, tiers.code, tiers.name, tiers.threshold, tiers.earn_bonus_pct, "
    "tiers.background_colour, tiers.foreground_colour, tiers.label_colour, tiers.created_at, "
    "tiers.updated_at FROM tiers ORDER BY tiers.threshold, tiers.id"
)
# Reloaded when the programme row's limits_version moved (app/fraud/service.py).
FRAUD_LIMITS = (
    "SELECT fraud_limits.id, fraud_limits.kind, fraud_limits.severity, fraud_limits.value, "
    "fraud_limits.scope, fraud_limits.partner_id, fraud_limits.store_id, "
    "fraud_limits.created_at, fraud_limits.updated_at FROM fraud_limits ORDER BY "
    "fraud_limits.id"
)

# --- fraud counters (app/fraud/service.py _check): one row per counter, sorted ---------------
FRAUD_COUNTERS = (
    "INSERT INTO fraud_counters (kind, subject, period, value) SELECT anon_1.kind, "
    "anon_1.subject, anon_1.period, anon_1.value FROM unnest($1::VARCHAR[], $2::VARCHAR[], "
    "$3::VARCHAR[], $4::BIGINT[]) AS anon_1(kind, subject, period, value) ON CONFLICT "
    "(kind, subject, period) DO UPDATE SET value = (fraud_counters.value + excluded.value) "
    "RETURNING fraud_counters.kind, fraud_counters.subject, fraud_counters.value"
)


def fraud_counters(rows: int) -> str:
    """Happy's upsert of ``rows`` fraud counters (a receipt counts 4, a redemption 1): one
    statement whatever the number, one array per column (kind, subject, period, value)."""
    return FRAUD_COUNTERS


# >>> submitReceipt (app/receipts/service.py submit_receipt; replace as one block) ---------
# Captured on 2026-12-01 from commit fe96b76 (main after a0fbd3c, "submitReceipt in 10
# round trips"). In Happy's order, between BEGIN and COMMIT: MEMBER_BY_CARD,
# OFFERS_AT_TILL, INSERT_RECEIPT, fraud_counters(4), CREDIT_EARN, WALLET_PASSES_FOR_UPDATE,
# TIER_CHECK (only when the lifetime points CREDIT_EARN returns reach the lowest tier above
# the base one), DEFERRED_WRITES (sent at commit: app/deferred.py); the cached reloads
# wherever a cache is stale. MEMBER_BY_CARD re-captured after the tier fix (the held tier
# as coalesce(held, base): the receipt reads its own member's tier).
MEMBER_BY_CARD = (
    "SELECT members.id, members.public_id, members.phone_e164, members.status, "
    "members.first_name, members.last_name, members.birth_date, members.gender, "
    "members.city, members.email, members.language, members.registration_channel, "
    "members.created_at, members.updated_at, members.deleted_at, EXISTS (SELECT * FROM "
    "member_blocks WHERE member_blocks.member_id = members.id) AS anon_1, coalesce((SELECT "
    "tiers.code FROM member_tiers JOIN tiers ON tiers.id = member_tiers.tier_id WHERE "
    "member_tiers.member_id = members.id), (SELECT tiers.code FROM tiers ORDER BY "
    "tiers.threshold, tiers.id LIMIT $1::INTEGER)) AS coalesce_1, coalesce((SELECT "
    "tiers.name FROM member_tiers JOIN tiers ON tiers.id = member_tiers.tier_id WHERE "
    "member_tiers.member_id = members.id), (SELECT tiers.name FROM tiers ORDER BY "
    "tiers.threshold, tiers.id LIMIT $2::INTEGER)) AS coalesce_2, coalesce((SELECT "
    "tiers.earn_bonus_pct FROM member_tiers JOIN tiers ON tiers.id = member_tiers.tier_id "
    "WHERE member_tiers.member_id = members.id), (SELECT tiers.earn_bonus_pct FROM tiers "
    "ORDER BY tiers.threshold, tiers.id LIMIT $3::INTEGER)) AS coalesce_3, (SELECT "
    "max(points_entries.created_at) AS max_1 FROM points_entries WHERE "
    "points_entries.member_id = members.id AND points_entries.kind = $4) AS anon_2 FROM "
    "members JOIN cards ON cards.member_id = members.id WHERE cards.number = $5::VARCHAR "
    "AND cards.status = $6 AND members.status = $7"
)
OFFERS_AT_TILL = (
    "SELECT offers.id, offers.funder_partner_id, offers.titles, offers.descriptions, "
    "offers.image_url, offers.starts_at, offers.ends_at, offers.partner_ids, "
    "offers.store_ids, offers.segment, offers.segment_value, offers.mechanic, offers.scope,"
    " offers.scope_values, offers.points, offers.multiplier_pct, offers.min_spend, "
    "offers.currency, offers.activation_required, offers.uses_per_member, "
    "offers.budget_points, offers.budget_left, offers.status, offers.created_at, "
    "offers.updated_at, offer_members.offer_id, offer_members.member_id, "
    "offer_members.activated_at, offer_members.uses, offer_members.progress, "
    "offer_members.completed_at, offer_members.updated_at AS updated_at_1 FROM offers LEFT "
    "OUTER JOIN offer_members ON offer_members.offer_id = offers.id AND "
    "offer_members.member_id = $1::INTEGER WHERE offers.status = $2 AND offers.starts_at <="
    " $3::TIMESTAMP WITH TIME ZONE AND offers.ends_at > $4::TIMESTAMP WITH TIME ZONE ORDER "
    "BY offers.id"
)
INSERT_RECEIPT = (
    "INSERT INTO receipts (partner_id, store_id, member_id, external_id, issued_at, "
    "currency, total, cashier_id, source, fingerprint, rate_points, rate_per_amount, "
    "points_earned, bonus_points, points_reversed, points_uncollected, refunded_amount, "
    "breakdown, answer, created_at) VALUES ($1::INTEGER, $2::INTEGER, $3::INTEGER, "
    "$4::VARCHAR, $5::TIMESTAMP WITH TIME ZONE, $6::VARCHAR, $7::BIGINT, $8::VARCHAR, "
    "$9::VARCHAR, $10::VARCHAR, $11::INTEGER, $12::BIGINT, $13::BIGINT, $14::BIGINT, "
    "$15::BIGINT, $16::BIGINT, $17::BIGINT, $18::JSON, $19::JSON, $20::TIMESTAMP WITH TIME "
    "ZONE) ON CONFLICT (partner_id, external_id) DO NOTHING RETURNING receipts.id"
)
CREDIT_EARN = (
    "WITH account AS (UPDATE points_accounts SET available=(points_accounts.available + "
    "$16::BIGINT), lifetime=(points_accounts.lifetime + $17::BIGINT), "
    "updated_at=$18::TIMESTAMP WITH TIME ZONE WHERE points_accounts.member_id = "
    "$19::INTEGER RETURNING points_accounts.available, points_accounts.lifetime), entry AS "
    "(INSERT INTO points_entries (member_id, kind, delta, reference_type, reference_id, "
    "description, idempotency_key, created_at, expires_at, balance_after) SELECT "
    "$7::INTEGER AS anon_7, $8 AS anon_8, $9::BIGINT AS anon_9, $10::VARCHAR AS anon_10, "
    "$11::VARCHAR AS anon_11, $12::VARCHAR AS anon_12, $13::VARCHAR AS anon_13, "
    "$14::TIMESTAMP WITH TIME ZONE AS anon_14, $15::TIMESTAMP WITH TIME ZONE AS anon_15, "
    "account.available AS available FROM account RETURNING points_entries.id, "
    "points_entries.member_id, points_entries.kind, points_entries.delta, "
    "points_entries.balance_after, points_entries.reference_type, "
    "points_entries.reference_id, points_entries.description, "
    "points_entries.idempotency_key, points_entries.created_at, points_entries.expires_at),"
    " lot AS (INSERT INTO points_lots (member_id, points, remaining, earned_at, expires_at,"
    " funded_by_partner_id, entry_id) SELECT $1::INTEGER AS anon_1, $2::BIGINT AS anon_2, "
    "$3::BIGINT AS anon_3, $4::TIMESTAMP WITH TIME ZONE AS anon_4, $5::TIMESTAMP WITH TIME "
    "ZONE AS anon_5, $6::INTEGER AS anon_6, entry.id AS id FROM entry) SELECT entry.id, "
    "entry.member_id, entry.kind, entry.delta, entry.balance_after, entry.reference_type, "
    "entry.reference_id, entry.description, entry.idempotency_key, entry.created_at, "
    "entry.expires_at, (SELECT account.lifetime FROM account) AS account_lifetime FROM "
    "entry"
)
WALLET_PASSES_FOR_UPDATE = (
    "SELECT wallet_passes.id, wallet_passes.card_id, wallet_passes.member_id, "
    "wallet_passes.serial_number, wallet_passes.version, wallet_passes.created_at, "
    "wallet_passes.updated_at FROM wallet_passes WHERE wallet_passes.member_id = "
    "$1::INTEGER FOR UPDATE"
)
TIER_CHECK = (
    "SELECT (SELECT member_tiers.tier_id FROM member_tiers WHERE member_tiers.member_id = "
    "$1::INTEGER) AS anon_1, (SELECT coalesce(sum(points_entries.delta), $2::INTEGER) AS "
    "coalesce_1 FROM points_entries WHERE points_entries.member_id = $3::INTEGER AND "
    "points_entries.kind IN ($11, $12, $13) AND points_entries.created_at >= $4::TIMESTAMP "
    "WITH TIME ZONE) AS anon_2, (SELECT coalesce(sum(receipts.points_uncollected), "
    "$5::INTEGER) AS coalesce_3 FROM receipts WHERE receipts.member_id = $6::INTEGER AND "
    "receipts.created_at >= $7::TIMESTAMP WITH TIME ZONE) AS anon_3, (SELECT "
    "coalesce(sum(offer_receipts.points_uncollected), $8::INTEGER) AS coalesce_5 FROM "
    "offer_receipts WHERE offer_receipts.member_id = $9::INTEGER AND "
    "offer_receipts.created_at >= $10::TIMESTAMP WITH TIME ZONE) AS anon_4"
)
# The receipt's lines (one INSERT from unnest: one array per column), its stored answer and
# the "points earned" outbox row (unnest too), as data-modifying CTEs of one statement.
DEFERRED_WRITES = (
    "WITH deferred_0 AS (INSERT INTO receipt_lines (receipt_id, line_no, sku, name, brand, "
    "category, quantity_milli, unit_price, amount, multiplier_pct, rule, points, "
    "refunded_amount) SELECT anon_1.receipt_id AS receipt_id, anon_1.line_no AS line_no, "
    "anon_1.sku AS sku, anon_1.name AS name, anon_1.brand AS brand, anon_1.category AS "
    "category, anon_1.quantity_milli AS quantity_milli, anon_1.unit_price AS unit_price, "
    "anon_1.amount AS amount, anon_1.multiplier_pct AS multiplier_pct, anon_1.rule AS rule,"
    " anon_1.points AS points, anon_1.refunded_amount AS refunded_amount FROM "
    "unnest($1::INTEGER[], $2::INTEGER[], $3::VARCHAR[], $4::VARCHAR[], $5::VARCHAR[], "
    "$6::VARCHAR[], $7::BIGINT[], $8::BIGINT[], $9::BIGINT[], $10::INTEGER[], "
    "$11::VARCHAR[], $12::BIGINT[], $13::BIGINT[]) AS anon_1(receipt_id, line_no, sku, "
    "name, brand, category, quantity_milli, unit_price, amount, multiplier_pct, rule, "
    "points, refunded_amount)), deferred_1 AS (UPDATE receipts SET "
    "points_earned=$14::BIGINT, bonus_points=$15::BIGINT, breakdown=$16::JSON, "
    "answer=$17::JSON WHERE receipts.id = $18::INTEGER), deferred_2 AS (INSERT INTO "
    "outbox_messages (subscriber, event_type, payload, coalesce_key, status, attempts, "
    "last_error, created_at, next_attempt_at, done_at) SELECT anon_2.subscriber AS "
    "subscriber, anon_2.event_type AS event_type, anon_2.payload AS payload, "
    "anon_2.coalesce_key AS coalesce_key, anon_2.status AS status, anon_2.attempts AS "
    "attempts, anon_2.last_error AS last_error, anon_2.created_at AS created_at, "
    "anon_2.next_attempt_at AS next_attempt_at, anon_2.done_at AS done_at FROM "
    "unnest($19::VARCHAR[], $20::VARCHAR[], $21::TEXT[], $22::VARCHAR[], "
    "$23::VARCHAR(20)[], $24::INTEGER[], $25::VARCHAR[], $26::TIMESTAMP WITH TIME ZONE[], "
    "$27::TIMESTAMP WITH TIME ZONE[], $28::TIMESTAMP WITH TIME ZONE[]) AS "
    "anon_2(subscriber, event_type, payload, coalesce_key, status, attempts, last_error, "
    "created_at, next_attempt_at, done_at)) SELECT 1"
)
# <<< submitReceipt

# --- redeemVoucher (app/rewards/service.py redeem_voucher), in this order -------------------
# BEGIN ISOLATION LEVEL READ COMMITTED; GUESSES_USED; VOUCHER_WITH_BLOCK; PROGRAMME (read
# now, not cached); RATE_OF_DAY per non-EUR currency; REDEEM_VOUCHER; fraud_counters(1);
# INSERT_REDEMPTION; COMMIT.
GUESSES_USED = (
    "SELECT coalesce(sum(rate_limit_counters.count), $1::INTEGER) AS coalesce_1 FROM "
    "rate_limit_counters WHERE rate_limit_counters.scope = $2::VARCHAR AND "
    "rate_limit_counters.key = $3::VARCHAR AND rate_limit_counters.window_start = "
    "$4::BIGINT"
)

VOUCHER_WITH_BLOCK = (
    "SELECT vouchers.id, vouchers.code, vouchers.member_id, vouchers.claim_id, "
    "vouchers.value_amount, vouchers.currency, vouchers.status, vouchers.partner_id, "
    "vouchers.issued_at, vouchers.expires_at, vouchers.redeemed_at, "
    "vouchers.redeemed_partner_id, vouchers.redeemed_store_id, "
    "vouchers.redeemed_receipt_id, EXISTS (SELECT * FROM member_blocks WHERE "
    "member_blocks.member_id = vouchers.member_id) AS blocked FROM vouchers WHERE "
    "vouchers.code = $1::VARCHAR"
)

RATE_OF_DAY = (
    "SELECT exchange_rates.rate FROM exchange_rates WHERE exchange_rates.currency = "
    "$1::VARCHAR AND exchange_rates.valid_from <= $2::DATE ORDER BY "
    "exchange_rates.valid_from DESC LIMIT $3::INTEGER"
)

REDEEM_VOUCHER = (
    "UPDATE vouchers SET status=$1, redeemed_at=$2::TIMESTAMP WITH TIME ZONE, "
    "redeemed_partner_id=$3::INTEGER, redeemed_store_id=$4::INTEGER, "
    "redeemed_receipt_id=$5::VARCHAR WHERE vouchers.id = $6::INTEGER AND vouchers.status = "
    "$7 AND vouchers.expires_at > $8::TIMESTAMP WITH TIME ZONE AND (vouchers.partner_id IS "
    "NULL OR vouchers.partner_id = $9::INTEGER) RETURNING vouchers.id, vouchers.code, "
    "vouchers.member_id, vouchers.claim_id, vouchers.value_amount, vouchers.currency, "
    "vouchers.status, vouchers.partner_id, vouchers.issued_at, vouchers.expires_at, "
    "vouchers.redeemed_at, vouchers.redeemed_partner_id, vouchers.redeemed_store_id, "
    "vouchers.redeemed_receipt_id"
)

INSERT_REDEMPTION = (
    "INSERT INTO voucher_redemptions (voucher_id, partner_id, store_id, receipt_id, "
    "value_amount, currency, redeemed_at, voided_at, eur_amount, store_amount, "
    "store_currency, fx_rate) VALUES ($1::INTEGER, $2::INTEGER, $3::INTEGER, $4::VARCHAR, "
    "$5::BIGINT, $6::VARCHAR, $7::TIMESTAMP WITH TIME ZONE, $8::TIMESTAMP WITH TIME ZONE, "
    "$9::BIGINT, $10::BIGINT, $11::VARCHAR, $12::NUMERIC(18, 6)) RETURNING "
    "voucher_redemptions.id"
)

# --- me.receipts(first: 50) with lines (app/receipts/history.py): two statements on one
# connection, no transaction. The lines' IN list has one parameter per receipt of the page
# (the 51st included), as SQLAlchemy expands it: ``in_list`` does the same.
RECEIPT_PAGE = (
    "SELECT receipts.id, receipts.external_id, receipts.issued_at, receipts.currency, "
    "receipts.total, receipts.points_earned, receipts.bonus_points, "
    "receipts.points_reversed, receipts.points_uncollected, receipts.refunded_amount, "
    "receipts.breakdown, partners.code, partners.name, stores.code AS code_1, stores.name "
    "AS name_1, stores.city FROM receipts JOIN partners ON partners.id = "
    "receipts.partner_id JOIN stores ON stores.id = receipts.store_id WHERE "
    "receipts.member_id = $1::INTEGER ORDER BY receipts.issued_at DESC, receipts.id DESC "
    "LIMIT $2::INTEGER"
)
LINES_OF_RECEIPTS = (
    "SELECT receipt_lines.receipt_id, receipt_lines.line_no, receipt_lines.sku, "
    "receipt_lines.name, receipt_lines.brand, receipt_lines.category, "
    "receipt_lines.quantity_milli, receipt_lines.unit_price, receipt_lines.amount, "
    "receipt_lines.refunded_amount, receipt_lines.points FROM receipt_lines WHERE "
    "receipt_lines.receipt_id IN ({ids}) ORDER BY receipt_lines.receipt_id, "
    "receipt_lines.line_no"
)


def in_list(template: str, count: int) -> str:
    """``template`` with ``{ids}`` expanded to ``$1::INTEGER, ..., $count::INTEGER``."""
    return template.replace("{ids}", ", ".join(f"${n}::INTEGER" for n in range(1, count + 1)))

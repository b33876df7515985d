"""The SQL the bare baseline sends: Happy's own statements, verbatim.

How they were captured (and how to refresh them when Happy's SQL changes): run
``python -m bench.run --capture-sql --no-big`` (``--only me_receipts`` for the big
database's page). It starts Happy and the baseline behind the counting proxy
(``bench/pgproxy.py``), sends a few requests of each operation and prints every statement
each server sent for one request, in order, as PostgreSQL received it (SQLAlchemy's asyncpg
dialect renders parameters as ``$n::TYPE``). Copy Happy's statements here, keep the order in
``bench/baseline.py`` (one transaction where Happy has one: ``BEGIN`` ... ``ROLLBACK`` for
its read sessions, ``BEGIN`` ... ``COMMIT`` for its unit of work) and run ``make bench``:
its "same SQL" column compares the two servers' statements for one request of each
operation and says where they differ.

Not mirrored, by design: the connection pool's pre-ping (``BEGIN; ;  ROLLBACK`` before each
checkout: pool behaviour, not the operation's SQL; its round trips are counted for Happy)
and the outbox delivery Happy runs after a receipt's commit (the "points earned" member
message), which is follow-up work, not the request's. Both are left out of the comparison
and shown separately in the results.

Captured on 2026-12-01 from commit a9abc83 (before issue 15's hot-path changes).
"""

# --- credentials: member door (auth/sessions.py, app/members/service.py) -----------------
MEMBER_WITH_ACCOUNT = (
    "SELECT members.id, members.public_id, members.phone_e164, members.status, "
    "members.first_name, members.last_name, members.birth_date, members.gender, members.city,"
    " members.email, members.language, members.registration_channel, members.created_at, "
    "members.updated_at, members.deleted_at, points_accounts.member_id, "
    "points_accounts.available, points_accounts.pending, points_accounts.lifetime, "
    "points_accounts.updated_at AS updated_at_1 FROM members LEFT OUTER JOIN points_accounts "
    "ON points_accounts.member_id = members.id WHERE members.public_id = $1::VARCHAR AND "
    "members.status = $2"
)
SESSION_IS_LIVE = (
    "SELECT member_sessions.id FROM member_sessions WHERE member_sessions.id = $1::VARCHAR "
    "AND member_sessions.member_id = $2::INTEGER AND member_sessions.revoked_at IS NULL"
)

# --- me: card and activity (graphql_schema/dataloaders.py) ---------------------------------
SHOWN_CARDS = (
    "SELECT cards.id, cards.number, cards.member_id, cards.kind, cards.status, cards.batch, "
    "cards.created_at, cards.linked_at FROM cards WHERE cards.member_id IN ($2::INTEGER) AND "
    "cards.status = $1 ORDER BY cards.linked_at, cards.id"
)
ACTIVITY_PAGE = (
    "SELECT points_entries.id, points_entries.member_id, points_entries.kind, "
    "points_entries.delta, points_entries.balance_after, points_entries.reference_type, "
    "points_entries.reference_id, points_entries.description, points_entries.idempotency_key,"
    " points_entries.created_at, points_entries.expires_at FROM points_entries WHERE "
    "points_entries.member_id = $1::INTEGER ORDER BY points_entries.id DESC LIMIT $2::INTEGER"
)

# --- credentials: partner door (auth/api_keys.py, graphql_schema/partner/context.py) --------
API_KEY_BY_PREFIX = (
    "SELECT partner_api_keys.id, partner_api_keys.prefix, partner_api_keys.secret_hash, "
    "partner_api_keys.store_id, partner_api_keys.label, partner_api_keys.created_at, "
    "partner_api_keys.revoked_at, partner_api_keys.last_used_at FROM partner_api_keys WHERE "
    "partner_api_keys.prefix = $1::VARCHAR"
)
STORE_WITH_PARTNER = (
    "SELECT stores.id, stores.code, stores.partner_id, stores.name, stores.city, "
    "stores.country, stores.currency, stores.active, stores.created_at, stores.address, "
    "partners.id AS id_1, partners.code AS code_1, partners.name AS name_1, partners.sector, "
    "partners.active AS active_1, partners.created_at AS created_at_1, partners.logo_url FROM"
    " stores JOIN partners ON partners.id = stores.partner_id WHERE stores.id = $1::INTEGER"
)

# --- submitReceipt (app/receipts/service.py submit_receipt, in this order) ------------------
RECEIPT_BY_EXTERNAL_ID = (
    "SELECT receipts.id, receipts.partner_id, receipts.store_id, receipts.member_id, "
    "receipts.external_id, receipts.issued_at, receipts.currency, receipts.total, "
    "receipts.cashier_id, receipts.source, receipts.fingerprint, receipts.rate_points, "
    "receipts.rate_per_amount, receipts.points_earned, receipts.bonus_points, "
    "receipts.points_reversed, receipts.points_uncollected, receipts.refunded_amount, "
    "receipts.breakdown, receipts.answer, receipts.created_at FROM receipts WHERE "
    "receipts.partner_id = $1::INTEGER AND receipts.external_id = $2::VARCHAR"
)
MEMBER_BY_CARD = (
    "SELECT members.id, members.public_id, members.phone_e164, members.status, "
    "members.first_name, members.last_name, members.birth_date, members.gender, members.city,"
    " members.email, members.language, members.registration_channel, members.created_at, "
    "members.updated_at, members.deleted_at FROM members JOIN cards ON cards.member_id = "
    "members.id WHERE cards.number = $1::VARCHAR AND cards.status = $2 AND members.status = "
    "$3"
)
EARN_RATE = (
    "SELECT earn_rates.id, earn_rates.partner_id, earn_rates.currency, earn_rates.points, "
    "earn_rates.per_amount, earn_rates.updated_at FROM earn_rates WHERE earn_rates.partner_id"
    " = $1::INTEGER AND earn_rates.currency = $2::VARCHAR"
)
EARN_MODIFIERS = (
    "SELECT earn_modifiers.id, earn_modifiers.partner_id, earn_modifiers.kind, "
    "earn_modifiers.match, earn_modifiers.multiplier_pct, earn_modifiers.updated_at FROM "
    "earn_modifiers WHERE earn_modifiers.partner_id = $1::INTEGER"
)
MEMBER_FACTS = (
    "SELECT (SELECT tiers.code FROM tiers ORDER BY CASE WHEN (tiers.id = (SELECT "
    "member_tiers.tier_id FROM member_tiers WHERE member_tiers.member_id = $1::INTEGER)) THEN"
    " $2::INTEGER ELSE $3::INTEGER END, tiers.threshold LIMIT $4::INTEGER) AS anon_1, (SELECT"
    " tiers.name FROM tiers ORDER BY CASE WHEN (tiers.id = (SELECT member_tiers.tier_id FROM "
    "member_tiers WHERE member_tiers.member_id = $1::INTEGER)) THEN $5::INTEGER ELSE "
    "$6::INTEGER END, tiers.threshold LIMIT $7::INTEGER) AS anon_2, (SELECT "
    "tiers.earn_bonus_pct FROM tiers ORDER BY CASE WHEN (tiers.id = (SELECT "
    "member_tiers.tier_id FROM member_tiers WHERE member_tiers.member_id = $1::INTEGER)) THEN"
    " $8::INTEGER ELSE $9::INTEGER END, tiers.threshold LIMIT $10::INTEGER) AS anon_3, "
    "(SELECT max(points_entries.created_at) AS max_1 FROM points_entries WHERE "
    "points_entries.member_id = $11::INTEGER AND points_entries.kind = $12) AS anon_4"
)
ACTIVE_OFFERS = (
    "SELECT offers.id, offers.funder_partner_id, offers.titles, offers.descriptions, "
    "offers.image_url, offers.starts_at, offers.ends_at, offers.partner_ids, "
    "offers.store_ids, offers.segment, offers.segment_value, offers.mechanic, offers.scope, "
    "offers.scope_values, offers.points, offers.multiplier_pct, offers.min_spend, "
    "offers.currency, offers.activation_required, offers.uses_per_member, "
    "offers.budget_points, offers.budget_left, offers.status, offers.created_at, "
    "offers.updated_at, offer_members.offer_id, offer_members.member_id, "
    "offer_members.activated_at, offer_members.uses, offer_members.progress, "
    "offer_members.completed_at, offer_members.updated_at AS updated_at_1 FROM offers LEFT "
    "OUTER JOIN offer_members ON offer_members.offer_id = offers.id AND "
    "offer_members.member_id = $1::INTEGER WHERE offers.status = $2 AND offers.starts_at <= "
    "$3::TIMESTAMP WITH TIME ZONE AND offers.ends_at > $4::TIMESTAMP WITH TIME ZONE ORDER BY "
    "offers.id"
)
INSERT_RECEIPT = (
    "INSERT INTO receipts (partner_id, store_id, member_id, external_id, issued_at, currency,"
    " total, cashier_id, source, fingerprint, rate_points, rate_per_amount, points_earned, "
    "bonus_points, points_reversed, points_uncollected, refunded_amount, breakdown, answer, "
    "created_at) VALUES ($1::INTEGER, $2::INTEGER, $3::INTEGER, $4::VARCHAR, $5::TIMESTAMP "
    "WITH TIME ZONE, $6::VARCHAR, $7::BIGINT, $8::VARCHAR, $9::VARCHAR, $10::VARCHAR, "
    "$11::INTEGER, $12::BIGINT, $13::BIGINT, $14::BIGINT, $15::BIGINT, $16::BIGINT, "
    "$17::BIGINT, $18::JSON, $19::JSON, $20::TIMESTAMP WITH TIME ZONE) ON CONFLICT "
    "(partner_id, external_id) DO NOTHING RETURNING receipts.id"
)
INSERT_RECEIPT_LINES = (
    "INSERT INTO receipt_lines (receipt_id, line_no, sku, name, brand, category, "
    "quantity_milli, unit_price, amount, multiplier_pct, rule, points, refunded_amount) "
    "SELECT p0::INTEGER, p1::INTEGER, p2::VARCHAR, p3::VARCHAR, p4::VARCHAR, p5::VARCHAR, "
    "p6::BIGINT, p7::BIGINT, p8::BIGINT, p9::INTEGER, p10::VARCHAR, p11::BIGINT, p12::BIGINT "
    "FROM (VALUES ($1::INTEGER, $2::INTEGER, $3::VARCHAR, $4::VARCHAR, $5::VARCHAR, "
    "$6::VARCHAR, $7::BIGINT, $8::BIGINT, $9::BIGINT, $10::INTEGER, $11::VARCHAR, "
    "$12::BIGINT, $13::BIGINT, 0), ($14::INTEGER, $15::INTEGER, $16::VARCHAR, $17::VARCHAR, "
    "$18::VARCHAR, $19::VARCHAR, $20::BIGINT, $21::BIGINT, $22::BIGINT, $23::INTEGER, "
    "$24::VARCHAR, $25::BIGINT, $26::BIGINT, 1), ($27::INTEGER, $28::INTEGER, $29::VARCHAR, "
    "$30::VARCHAR, $31::VARCHAR, $32::VARCHAR, $33::BIGINT, $34::BIGINT, $35::BIGINT, "
    "$36::INTEGER, $37::VARCHAR, $38::BIGINT, $39::BIGINT, 2)) AS imp_sen(p0, p1, p2, p3, p4,"
    " p5, p6, p7, p8, p9, p10, p11, p12, sen_counter) ORDER BY sen_counter RETURNING "
    "receipt_lines.id, receipt_lines.id AS id__1"
)
PROGRAMME = (
    "SELECT programmes.id, programmes.name, programmes.welcome_bonus_points, "
    "programmes.points_expiry_months, programmes.timezone, programmes.default_language, "
    "programmes.card_prefix, programmes.updated_at FROM programmes WHERE programmes.id = "
    "$1::INTEGER"
)
CREDIT_ACCOUNT = (
    "UPDATE points_accounts SET available=(points_accounts.available + $1::BIGINT), "
    "lifetime=(points_accounts.lifetime + $2::BIGINT), updated_at=$3::TIMESTAMP WITH TIME "
    "ZONE WHERE points_accounts.member_id = $4::INTEGER RETURNING points_accounts.available"
)
INSERT_ENTRY = (
    "INSERT INTO points_entries (member_id, kind, delta, balance_after, reference_type, "
    "reference_id, description, idempotency_key, created_at, expires_at) VALUES ($1::INTEGER,"
    " $2, $3::BIGINT, $4::BIGINT, $5::VARCHAR, $6::VARCHAR, $7::VARCHAR, $8::VARCHAR, "
    "$9::TIMESTAMP WITH TIME ZONE, $10::TIMESTAMP WITH TIME ZONE) RETURNING points_entries.id"
)
INSERT_LOT = (
    "INSERT INTO points_lots (member_id, entry_id, points, remaining, earned_at, expires_at) "
    "VALUES ($1::INTEGER, $2::BIGINT, $3::BIGINT, $4::BIGINT, $5::TIMESTAMP WITH TIME ZONE, "
    "$6::TIMESTAMP WITH TIME ZONE) RETURNING points_lots.id"
)
WALLET_PASS_FOR_UPDATE = (
    "SELECT wallet_passes.id, wallet_passes.card_id, wallet_passes.member_id, "
    "wallet_passes.serial_number, wallet_passes.version, wallet_passes.created_at, "
    "wallet_passes.updated_at FROM wallet_passes WHERE wallet_passes.member_id = $1::INTEGER "
    "FOR UPDATE"
)
WALLET_REGISTRATION_EXISTS = (
    "SELECT wallet_device_registrations.id FROM wallet_device_registrations JOIN "
    "wallet_passes ON wallet_passes.id = wallet_device_registrations.pass_id WHERE "
    "wallet_passes.member_id = $1::INTEGER LIMIT $2::INTEGER"
)
WALLET_PASS_EXISTS = (
    "SELECT wallet_passes.id FROM wallet_passes WHERE wallet_passes.member_id = $1::INTEGER "
    "LIMIT $2::INTEGER"
)
RECEIPT_BY_ID = (
    "SELECT receipts.id, receipts.partner_id, receipts.store_id, receipts.member_id, "
    "receipts.external_id, receipts.issued_at, receipts.currency, receipts.total, "
    "receipts.cashier_id, receipts.source, receipts.fingerprint, receipts.rate_points, "
    "receipts.rate_per_amount, receipts.points_earned, receipts.bonus_points, "
    "receipts.points_reversed, receipts.points_uncollected, receipts.refunded_amount, "
    "receipts.breakdown, receipts.answer, receipts.created_at FROM receipts WHERE receipts.id"
    " = $1::INTEGER"
)
STORE_ANSWER = "UPDATE receipts SET answer=$1::JSON WHERE receipts.id = $2::INTEGER"
TIERS = (
    "SELECT tiers.id, tiers.code, tiers.name, tiers.threshold, tiers.earn_bonus_pct, "
    "tiers.background_colour, tiers.foreground_colour, tiers.label_colour, tiers.created_at, "
    "tiers.updated_at FROM tiers ORDER BY tiers.threshold, tiers.id"
)
MEMBER_TIER_FOR_UPDATE = (
    "SELECT member_tiers.member_id, member_tiers.tier_id, member_tiers.since, "
    "member_tiers.kept_until, member_tiers.updated_at FROM member_tiers WHERE "
    "member_tiers.member_id = $1::INTEGER FOR UPDATE"
)
QUALIFYING_POINTS = (
    "SELECT coalesce(sum(points_entries.delta), $1::INTEGER) AS coalesce_1 FROM "
    "points_entries WHERE points_entries.member_id = $2::INTEGER AND points_entries.kind IN "
    "($4, $5, $6) AND points_entries.created_at >= $3::TIMESTAMP WITH TIME ZONE"
)
UNCOLLECTED_RECEIPT_POINTS = (
    "SELECT coalesce(sum(receipts.points_uncollected), $1::INTEGER) AS coalesce_1 FROM "
    "receipts WHERE receipts.member_id = $2::INTEGER AND receipts.created_at >= $3::TIMESTAMP"
    " WITH TIME ZONE"
)
UNCOLLECTED_OFFER_POINTS = (
    "SELECT coalesce(sum(offer_receipts.points_uncollected), $1::INTEGER) AS coalesce_1 FROM "
    "offer_receipts WHERE offer_receipts.member_id = $2::INTEGER AND "
    "offer_receipts.created_at >= $3::TIMESTAMP WITH TIME ZONE"
)
INSERT_OUTBOX = (
    "INSERT INTO outbox_messages (subscriber, event_type, payload, coalesce_key, status, "
    "attempts, last_error, created_at, next_attempt_at, done_at) VALUES ($1::VARCHAR, "
    "$2::VARCHAR, $3::VARCHAR, $4::VARCHAR, $5, $6::INTEGER, $7::VARCHAR, $8::TIMESTAMP WITH "
    "TIME ZONE, $9::TIMESTAMP WITH TIME ZONE, $10::TIMESTAMP WITH TIME ZONE) RETURNING "
    "outbox_messages.id"
)

# --- redeemVoucher (app/rewards/service.py redeem_voucher, in this order) -------------------
RATE_LIMIT_COUNT = (
    "SELECT coalesce(sum(rate_limit_counters.count), $1::INTEGER) AS coalesce_1 FROM "
    "rate_limit_counters WHERE rate_limit_counters.scope = $2::VARCHAR AND "
    "rate_limit_counters.key = $3::VARCHAR AND rate_limit_counters.window_start = $4::BIGINT"
)
VOUCHER_BY_CODE = (
    "SELECT vouchers.id, vouchers.code, vouchers.member_id, vouchers.claim_id, "
    "vouchers.value_amount, vouchers.currency, vouchers.status, vouchers.partner_id, "
    "vouchers.issued_at, vouchers.expires_at, vouchers.redeemed_at, "
    "vouchers.redeemed_partner_id, vouchers.redeemed_store_id, vouchers.redeemed_receipt_id "
    "FROM vouchers WHERE vouchers.code = $1::VARCHAR"
)
REDEEM_VOUCHER = (
    "UPDATE vouchers SET status=$1, redeemed_at=$2::TIMESTAMP WITH TIME ZONE, "
    "redeemed_partner_id=$3::INTEGER, redeemed_store_id=$4::INTEGER, "
    "redeemed_receipt_id=$5::VARCHAR WHERE vouchers.id = $6::INTEGER AND vouchers.status = $7"
    " AND vouchers.expires_at > $8::TIMESTAMP WITH TIME ZONE AND (vouchers.partner_id IS NULL"
    " OR vouchers.partner_id = $9::INTEGER) RETURNING vouchers.id"
)
INSERT_REDEMPTION = (
    "INSERT INTO voucher_redemptions (voucher_id, partner_id, store_id, receipt_id, "
    "value_amount, currency, redeemed_at, voided_at) VALUES ($1::INTEGER, $2::INTEGER, "
    "$3::INTEGER, $4::VARCHAR, $5::BIGINT, $6::VARCHAR, $7::TIMESTAMP WITH TIME ZONE, "
    "$8::TIMESTAMP WITH TIME ZONE) RETURNING voucher_redemptions.id"
)
VOUCHER_BY_ID = (
    "SELECT vouchers.id, vouchers.code, vouchers.member_id, vouchers.claim_id, "
    "vouchers.value_amount, vouchers.currency, vouchers.status, vouchers.partner_id, "
    "vouchers.issued_at, vouchers.expires_at, vouchers.redeemed_at, "
    "vouchers.redeemed_partner_id, vouchers.redeemed_store_id, vouchers.redeemed_receipt_id "
    "FROM vouchers WHERE vouchers.id = $1::INTEGER"
)

# --- me.receipts(first: 50) with lines (graphql_schema/member/receipts.py, dataloaders.py) ---
# The receipts page in its own read session, then the DataLoader batches concurrently, each
# in its own. SQLAlchemy expands `IN` to one parameter per id: ``in_list`` does the same.

RECEIPT_PAGE = (
    "SELECT receipts.id, receipts.partner_id, receipts.store_id, receipts.member_id, "
    "receipts.external_id, receipts.issued_at, receipts.currency, receipts.total, "
    "receipts.cashier_id, receipts.source, receipts.fingerprint, receipts.rate_points, "
    "receipts.rate_per_amount, receipts.points_earned, receipts.bonus_points, "
    "receipts.points_reversed, receipts.points_uncollected, receipts.refunded_amount, "
    "receipts.breakdown, receipts.answer, receipts.created_at FROM receipts WHERE "
    "receipts.member_id = $1::INTEGER ORDER BY receipts.issued_at DESC, receipts.id DESC "
    "LIMIT $2::INTEGER"
)
PARTNERS_BY_ID = (
    "SELECT partners.id, partners.code, partners.name, partners.sector, partners.active, "
    "partners.created_at, partners.logo_url FROM partners WHERE partners.id IN ({ids})"
)
LINES_BY_RECEIPT_ID = (
    "SELECT receipt_lines.id, receipt_lines.receipt_id, receipt_lines.line_no, "
    "receipt_lines.sku, receipt_lines.name, receipt_lines.brand, receipt_lines.category, "
    "receipt_lines.quantity_milli, receipt_lines.unit_price, receipt_lines.amount, "
    "receipt_lines.multiplier_pct, receipt_lines.rule, receipt_lines.points, "
    "receipt_lines.refunded_amount FROM receipt_lines WHERE receipt_lines.receipt_id IN "
    "({ids}) ORDER BY receipt_lines.receipt_id, receipt_lines.line_no"
)
STORES_BY_ID = (
    "SELECT stores.id, stores.code, stores.partner_id, stores.name, stores.city, "
    "stores.country, stores.currency, stores.active, stores.created_at, stores.address FROM "
    "stores WHERE stores.id IN ({ids})"
)


def in_list(template: str, count: int) -> str:
    """``template`` with ``{ids}`` expanded to ``$1::INTEGER, ..., $count::INTEGER``."""
    return template.replace("{ids}", ", ".join(f"${n}::INTEGER" for n in range(1, count + 1)))

-- The big database of `make bench`: members, cards, points accounts and receipts with 3 lines
-- each, in bulk through generate_series, on a database that `happy db upgrade` and
-- `happy demo` made (partners, stores, earn rates). bench/fixtures.py runs it after setting:
--   bench.members   members (200,000)
--   bench.receipts  receipts (2,000,000; 3 lines each: 6,000,000 lines)
--   bench.pool      members with a live session, whose tokens the benchmark uses; each has
--                   60 receipts (a full first page of 50 and a next page), the others share
--                   the rest
-- Only a benchmark database, and only read (`me.receipts`), so the 8M rows are written the
-- fast way: receipts and receipt_lines are made UNLOGGED (no WAL; reads are the same), their
-- secondary indexes, unique keys and foreign keys are dropped while the rows are written and
-- made again after from their own definitions (pg_get_indexdef/pg_get_constraintdef, so
-- this follows the migrations): one index build instead of 8M index inserts and trigger
-- checks. The foreign keys come back NOT VALID (the rows are right by construction; a
-- validating join would cost as much again), and the two that point at receipts from
-- permanent tables (offer_receipts, receipt_refunds) stay off: PostgreSQL refuses them
-- towards an unlogged table.
-- Timing on a 2-core machine: see bench/RESULTS.md ("seeded in ... s").

SET synchronous_commit = off;
SET maintenance_work_mem = '256MB';
SET client_min_messages = warning;

CREATE TEMP TABLE seed_settings AS
SELECT current_setting('bench.members')::int AS members,
       current_setting('bench.receipts')::int AS receipts,
       current_setting('bench.pool')::int AS pool,
       now() AS seeded_at;

CREATE TEMP TABLE seed_stores AS
SELECT row_number() OVER (ORDER BY s.id)::int - 1 AS n, s.id AS store_id, s.partner_id,
       s.currency, p.name AS partner_name
FROM stores s JOIN partners p ON p.id = s.partner_id;

-- Members: public ids as Happy makes them (32 hex characters), numbers +3556xxxxxxxx.
INSERT INTO members (public_id, phone_e164, status, language, registration_channel,
                     created_at, updated_at)
SELECT md5('bench-member-' || i), '+3556' || lpad(i::text, 8, '0'), 'active', 'sq', 'app',
       seeded_at - interval '2 years', seeded_at - interval '2 years'
FROM seed_settings, generate_series(1, members) AS i;

CREATE TEMP TABLE seed_members AS
SELECT row_number() OVER (ORDER BY id)::int AS n, id
FROM members WHERE public_id = md5('bench-member-' || substr(phone_e164, 6)::int);
CREATE UNIQUE INDEX ON seed_members (n);
ANALYZE seed_members;

INSERT INTO points_accounts (member_id, available, pending, lifetime, updated_at)
SELECT id, 1000 + n % 5000, 0, 2000 + n % 9000, now() FROM seed_members;

-- One digital card each (19-digit numbers in a range Happy's random ones never use).
INSERT INTO cards (number, member_id, kind, status, created_at, linked_at)
SELECT '9999' || lpad(n::text, 15, '0'), id, 'digital', 'active', now(), now()
FROM seed_members;

-- A live session for each pool member (bench/fixtures.py signs their access tokens).
INSERT INTO member_sessions (id, member_id, channel, created_at, last_used_at)
SELECT md5('bench-session-' || n), id, 'app', now(), now()
FROM seed_members, seed_settings WHERE n <= pool;

-- Receipts: pool members get 60 each, the rest go round the other members. Store by
-- receipt number; time spread over the last year, newest for the highest numbers.
CREATE TEMP TABLE seed_saved AS
SELECT 'ALTER TABLE ' || conrelid::regclass || ' ADD CONSTRAINT ' || quote_ident(conname)
       || ' ' || pg_get_constraintdef(oid) || CASE contype WHEN 'f' THEN ' NOT VALID' ELSE ''
       END AS restore,
       'ALTER TABLE ' || conrelid::regclass || ' DROP CONSTRAINT ' || quote_ident(conname)
       AS remove,
       CASE WHEN conrelid NOT IN ('receipts'::regclass, 'receipt_lines'::regclass) THEN 9
            WHEN contype = 'f' THEN 2 ELSE 1 END AS step
FROM pg_constraint
WHERE contype IN ('f', 'u')
  AND (conrelid IN ('receipts'::regclass, 'receipt_lines'::regclass)
       OR confrelid IN ('receipts'::regclass, 'receipt_lines'::regclass))
UNION ALL
SELECT pg_get_indexdef(i.indexrelid), 'DROP INDEX ' || i.indexrelid::regclass, 0
FROM pg_index i
WHERE i.indrelid IN ('receipts'::regclass, 'receipt_lines'::regclass) AND NOT i.indisprimary
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid);

DO $$
DECLARE statement text;
BEGIN
    FOR statement IN SELECT remove FROM seed_saved ORDER BY step DESC LOOP
        EXECUTE statement;
    END LOOP;
END $$;
ALTER TABLE receipt_lines SET UNLOGGED;
ALTER TABLE receipts SET UNLOGGED;

INSERT INTO receipts (partner_id, store_id, member_id, external_id, issued_at, currency, total,
                      cashier_id, source, fingerprint, rate_points, rate_per_amount,
                      points_earned, bonus_points, points_reversed, points_uncollected,
                      refunded_amount, breakdown, answer, created_at)
SELECT s.partner_id, s.store_id, m.id, 'seed-' || r.i, r.issued_at, s.currency,
       90000 + 120000 + 30000, 'c-' || (r.i % 40), 'realtime', md5('seed-' || r.i),
       1, 10000, 22, 0, 0, 0, 0,
       '[{"kind": "BASE", "rule": null, "multiplierPercent": 100, "amount": 210000, '
       '"points": 21}, {"kind": "EXCLUDED", "rule": "category:tobacco", '
       '"multiplierPercent": 0, "amount": 30000, "points": 0}]'::json,
       NULL, r.issued_at
FROM (
    SELECT i,
           CASE WHEN i <= pool * 60 THEN (i - 1) / 60 + 1
                ELSE pool + 1 + (i % greatest(members - pool, 1)) END AS member_n,
           i % (SELECT count(*) FROM seed_stores)::int AS store_n,
           seeded_at - make_interval(secs => (receipts - i) * (31536000.0 / receipts))
               AS issued_at
    FROM seed_settings, generate_series(1, receipts) AS i
) r
JOIN seed_stores s ON s.n = r.store_n
JOIN seed_members m ON m.n = r.member_n;  -- a hash join on 200k rows: cheap

INSERT INTO receipt_lines (receipt_id, line_no, sku, name, brand, category, quantity_milli,
                           unit_price, amount, multiplier_pct, rule, points, refunded_amount)
SELECT r.id, l.line_no, l.sku, l.name, l.brand, l.category, l.quantity_milli, l.unit_price,
       l.amount, l.multiplier_pct, l.rule, l.points, 0
FROM receipts r
CROSS JOIN (VALUES
    (1, '4000001', 'Olive oil 1 l', 'Spar', 'food', 2000, 45000, 90000, 100, NULL, 9),
    (2, '4000002', 'Coffee 500 g', 'Lavazza', 'food', 1000, 120000, 120000, 100, NULL, 12),
    (3, '4000003', 'Cigarettes', NULL, 'tobacco', 1000, 30000, 30000, 0, 'category:tobacco', 0)
) AS l(line_no, sku, name, brand, category, quantity_milli, unit_price, amount,
       multiplier_pct, rule, points)
WHERE r.external_id LIKE 'seed-%';

DO $$
DECLARE statement text;
BEGIN
    FOR statement IN SELECT restore FROM seed_saved WHERE step < 9 ORDER BY step LOOP
        EXECUTE statement;
    END LOOP;
END $$;

ANALYZE members;
ANALYZE cards;
ANALYZE member_sessions;
ANALYZE points_accounts;
ANALYZE receipts;
ANALYZE receipt_lines;

-- Program kinds: points (every program so far), stamps, discount, coupon,
-- gift. Each kind's settings are columns of their own, zero for the other
-- kinds; internal/loyalty says which a kind uses.
ALTER TABLE programs ADD COLUMN kind TEXT NOT NULL DEFAULT 'points';
ALTER TABLE programs ADD COLUMN stamps_required INTEGER NOT NULL DEFAULT 0;
ALTER TABLE programs ADD COLUMN reward TEXT NOT NULL DEFAULT '';
ALTER TABLE programs ADD COLUMN stamp_min_purchase BIGINT NOT NULL DEFAULT 0;
ALTER TABLE programs ADD COLUMN discount_percent INTEGER NOT NULL DEFAULT 0;
ALTER TABLE programs ADD COLUMN offer TEXT NOT NULL DEFAULT '';
ALTER TABLE programs ADD COLUMN valid_days INTEGER NOT NULL DEFAULT 0;
ALTER TABLE programs ADD COLUMN valid_until TIMESTAMP;
ALTER TABLE programs ADD COLUMN currency TEXT NOT NULL DEFAULT '';
ALTER TABLE programs ADD COLUMN point_value BIGINT NOT NULL DEFAULT 0;

-- A stamp card's rewards ready (the sum of its ledger's rewards column, as
-- balance is the sum of points); a coupon's date and when it was used.
ALTER TABLE cards ADD COLUMN rewards BIGINT NOT NULL DEFAULT 0;
ALTER TABLE cards ADD COLUMN valid_until TIMESTAMP;
ALTER TABLE cards ADD COLUMN redeemed_at TIMESTAMP;
ALTER TABLE transactions ADD COLUMN rewards BIGINT NOT NULL DEFAULT 0;

-- A coupon issued to a segment of a program's customers at once: the job,
-- and one work row per customer that the coupon issuer claims (a leased
-- work table; issuing is idempotent per phone, so a row claimed twice
-- issues one coupon). Progress is counted from the rows' statuses.
CREATE TABLE coupon_issues (
    id                TEXT PRIMARY KEY,
    merchant_id       TEXT NOT NULL REFERENCES merchants(id),
    program_id        TEXT NOT NULL REFERENCES programs(id),
    source_program_id TEXT NOT NULL REFERENCES programs(id),
    tier              TEXT NOT NULL,
    inactive_days     INTEGER NOT NULL,
    total             INTEGER NOT NULL,
    created_at        TIMESTAMP NOT NULL
);
CREATE INDEX coupon_issues_merchant ON coupon_issues(merchant_id, created_at);
CREATE TABLE coupon_issue_items (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    issue_id      TEXT NOT NULL REFERENCES coupon_issues(id),
    customer_id   TEXT NOT NULL REFERENCES customers(id),
    phone         TEXT NOT NULL,
    status        TEXT NOT NULL, -- pending, issued, existing, failed
    serial_number TEXT,
    error         TEXT NOT NULL DEFAULT '',
    attempts      INTEGER NOT NULL DEFAULT 0,
    due_at        TIMESTAMP NOT NULL,
    claimed_until TIMESTAMP,
    UNIQUE (issue_id, customer_id)
);
CREATE INDEX coupon_issue_items_due ON coupon_issue_items(status, due_at);

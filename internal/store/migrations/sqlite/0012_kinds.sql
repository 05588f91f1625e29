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

-- The ledger: transactions with idempotency keys, FIFO lots for expiry,
-- tiers, and the outbox that carries changes to devices.
ALTER TABLE programs ADD COLUMN tiers TEXT NOT NULL DEFAULT '[]';
ALTER TABLE programs ADD COLUMN tier_basis TEXT NOT NULL DEFAULT 'points';
ALTER TABLE programs ADD COLUMN tier_downgrade BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE programs ADD COLUMN points_lifetime_days INTEGER NOT NULL DEFAULT 0;

ALTER TABLE cards ADD COLUMN lifetime_points INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cards ADD COLUMN lifetime_spend INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cards ADD COLUMN last_purchase_at TIMESTAMP;

CREATE TABLE transactions (
    id               TEXT PRIMARY KEY,
    merchant_id      TEXT NOT NULL REFERENCES merchants(id),
    program_id       TEXT NOT NULL REFERENCES programs(id),
    customer_id      TEXT NOT NULL REFERENCES customers(id),
    serial_number    TEXT NOT NULL REFERENCES cards(serial_number),
    seq              INTEGER NOT NULL,  -- order of lines within a card
    kind             TEXT NOT NULL,     -- earn, redeem, adjust, welcome, expire, refund
    points           INTEGER NOT NULL,  -- signed
    purchase_amount  INTEGER NOT NULL,  -- minor units; negative for a refund
    reason           TEXT NOT NULL,
    refund_of        TEXT REFERENCES transactions(id),
    refunded_amount  INTEGER NOT NULL DEFAULT 0, -- on an earn: purchase refunded so far
    balance_after    INTEGER NOT NULL,
    -- FIFO lot: what is left of a positive line, and when it expires.
    remaining        INTEGER NOT NULL DEFAULT 0,
    expires_at       TIMESTAMP,
    created_at       TIMESTAMP NOT NULL,
    UNIQUE (serial_number, seq)
);
CREATE INDEX transactions_lots ON transactions(serial_number, expires_at, seq) WHERE remaining > 0;
CREATE INDEX transactions_expiring ON transactions(expires_at) WHERE remaining > 0 AND expires_at IS NOT NULL;
-- The welcome bonus is credited once per customer and program, whatever
-- happens to their cards.
CREATE UNIQUE INDEX transactions_welcome_once ON transactions(program_id, customer_id) WHERE kind = 'welcome';

-- idempotency_keys remembers the answer to a write, so a retry with the
-- same key and body gets it again and writes nothing.
CREATE TABLE idempotency_keys (
    merchant_id   TEXT NOT NULL REFERENCES merchants(id),
    key           TEXT NOT NULL,
    request_hash  BLOB NOT NULL,
    status        INTEGER NOT NULL,
    response      BLOB NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (merchant_id, key)
);

-- outbox carries work that must reach a device or a provider; rows are
-- written in the transaction that causes them.
CREATE TABLE outbox (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id    TEXT NOT NULL,
    topic          TEXT NOT NULL,      -- e.g. card.changed
    serial_number  TEXT,
    card_version   INTEGER,
    payload        TEXT NOT NULL,
    created_at     TIMESTAMP NOT NULL,
    due_at         TIMESTAMP NOT NULL,
    attempts       INTEGER NOT NULL DEFAULT 0,
    claimed_until  TIMESTAMP,
    last_error     TEXT NOT NULL DEFAULT '',
    done_at        TIMESTAMP,
    dead           BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX outbox_due ON outbox(due_at) WHERE done_at IS NULL AND NOT dead;

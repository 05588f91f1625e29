-- The foundation: merchants and their keys, programs, customers and cards,
-- and the cache of signed passes. (PostgreSQL twin of sqlite/0001_init.sql:
-- INTEGER → BIGINT, TIMESTAMP → TIMESTAMPTZ, BLOB → BYTEA.)
CREATE TABLE merchants (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    country     TEXT NOT NULL DEFAULT 'RU',
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    merchant_id  TEXT NOT NULL REFERENCES merchants(id),
    secret_hash  BYTEA NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    revoked_at   TIMESTAMPTZ
);
CREATE INDEX api_keys_merchant ON api_keys(merchant_id);

CREATE TABLE programs (
    id               TEXT PRIMARY KEY,
    merchant_id      TEXT NOT NULL REFERENCES merchants(id),
    name             TEXT NOT NULL,
    currency_label   TEXT NOT NULL,
    earn_rate_bp     BIGINT NOT NULL,
    welcome_bonus    BIGINT NOT NULL,
    terms            TEXT NOT NULL,
    barcode_format   TEXT NOT NULL,
    locale           TEXT NOT NULL,
    background_color TEXT NOT NULL,
    foreground_color TEXT NOT NULL,
    label_color      TEXT NOT NULL,
    logo_text        TEXT NOT NULL,
    version          BIGINT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX programs_merchant ON programs(merchant_id, created_at);

-- program_images holds the scaled variants of an uploaded image
-- ("logo.png", "logo@2x.png", …); kinds without rows use the defaults.
CREATE TABLE program_images (
    program_id  TEXT NOT NULL REFERENCES programs(id),
    kind        TEXT NOT NULL,
    name        TEXT NOT NULL,
    data        BYTEA NOT NULL,
    PRIMARY KEY (program_id, name)
);

CREATE TABLE customers (
    id                  TEXT PRIMARY KEY,
    merchant_id         TEXT NOT NULL REFERENCES merchants(id),
    phone               TEXT NOT NULL,
    name                TEXT NOT NULL,
    email               TEXT NOT NULL,
    sms_consent         BOOLEAN NOT NULL,
    sms_consent_at      TIMESTAMPTZ,
    sms_consent_source  TEXT NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL,
    UNIQUE (merchant_id, phone)
);

CREATE TABLE cards (
    serial_number  TEXT PRIMARY KEY,
    merchant_id    TEXT NOT NULL REFERENCES merchants(id),
    program_id     TEXT NOT NULL REFERENCES programs(id),
    customer_id    TEXT NOT NULL REFERENCES customers(id),
    number         TEXT NOT NULL,
    auth_token     TEXT NOT NULL,
    balance        BIGINT NOT NULL,
    tier           TEXT NOT NULL,
    status         TEXT NOT NULL,
    version        BIGINT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    voided_at      TIMESTAMPTZ,
    UNIQUE (merchant_id, number)
);
-- One active card per customer and program: issuing twice returns the same card.
CREATE UNIQUE INDEX cards_active_customer ON cards(program_id, customer_id) WHERE status = 'active';
CREATE INDEX cards_merchant_created ON cards(merchant_id, created_at, serial_number);

-- pass_files caches the signed package of a card version; a pass is signed
-- once per (card version, program version) and reused until either changes.
CREATE TABLE pass_files (
    serial_number    TEXT PRIMARY KEY REFERENCES cards(serial_number),
    card_version     BIGINT NOT NULL,
    program_version  BIGINT NOT NULL,
    data             BYTEA NOT NULL,
    rendered_at      TIMESTAMPTZ NOT NULL
);

-- settings holds one-off facts about this installation (the demo merchant).
CREATE TABLE settings (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);

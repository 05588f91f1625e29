-- Customers join on their own: the join page's settings and codes,
-- referral terms, links and referrals, consent records with the texts
-- they name, and what a customer's erasure leaves behind.

-- join_code names the program's join page (/j/{code}); join_settings and
-- referral_terms are JSON (loyalty.JoinSettings, loyalty.ReferralTerms).
ALTER TABLE programs ADD COLUMN join_code TEXT NOT NULL DEFAULT '';
ALTER TABLE programs ADD COLUMN join_settings TEXT NOT NULL DEFAULT '{}';
ALTER TABLE programs ADD COLUMN referral_terms TEXT NOT NULL DEFAULT '{}';
UPDATE programs SET join_code = lower(hex(randomblob(5)));
CREATE UNIQUE INDEX programs_join_code ON programs(join_code);

-- birthday is "YYYY-MM-DD" or ""; erased_at marks a customer whose
-- personal data was erased on request (their ledger stays, anonymous).
ALTER TABLE customers ADD COLUMN birthday TEXT NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN erased_at TIMESTAMP;

-- consents: every grant and withdrawal, append-only; the latest record
-- of a channel decides.
CREATE TABLE consents (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id   TEXT NOT NULL REFERENCES merchants(id),
    customer_id   TEXT NOT NULL REFERENCES customers(id),
    channel       TEXT NOT NULL,   -- personal_data, sms, ads
    granted       BOOLEAN NOT NULL,
    source        TEXT NOT NULL,   -- join_page, api, console, pos, paper, sms_stop, optout_page, operator, import
    ip            TEXT NOT NULL DEFAULT '',
    user_agent    TEXT NOT NULL DEFAULT '',
    text_version  TEXT NOT NULL DEFAULT '',
    evidence      TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMP NOT NULL
);
CREATE INDEX consents_customer ON consents(customer_id, channel, created_at);

-- consent_texts keeps every consent text by its version (a hash of it),
-- so a record proves the words that were shown.
CREATE TABLE consent_texts (
    version     TEXT PRIMARY KEY,
    text        TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL
);

-- The SMS consent held on customers so far becomes records.
INSERT INTO consents (merchant_id, customer_id, channel, granted, source, created_at)
    SELECT merchant_id, id, 'sms', TRUE, 'import', sms_consent_at FROM customers
    WHERE sms_consent_at IS NOT NULL AND (sms_consent OR opted_out_at IS NOT NULL);
INSERT INTO consents (merchant_id, customer_id, channel, granted, source, created_at)
    SELECT merchant_id, id, 'sms', FALSE, 'import', sms_consent_at FROM customers
    WHERE sms_consent_at IS NOT NULL AND NOT sms_consent AND opted_out_at IS NULL;
INSERT INTO consents (merchant_id, customer_id, channel, granted, source, created_at)
    SELECT merchant_id, id, 'sms', FALSE, 'import', opted_out_at FROM customers
    WHERE opted_out_at IS NOT NULL;

-- join_codes: the codes the join page texted. The phone is kept only as a
-- hash (for the limits); form holds the pending join (name,
-- birthday, consents, referral) until the code is used, then is cleared.
CREATE TABLE join_codes (
    id          TEXT PRIMARY KEY,
    program_id  TEXT NOT NULL REFERENCES programs(id),
    phone_hash  TEXT NOT NULL,
    code_hash   BLOB NOT NULL,
    ip          TEXT NOT NULL,
    form        TEXT NOT NULL,
    tries       INTEGER NOT NULL DEFAULT 0,
    sent        BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL,
    used_at     TIMESTAMP,
    dead_at     TIMESTAMP
);
CREATE INDEX join_codes_phone ON join_codes(program_id, phone_hash, created_at);
CREATE INDEX join_codes_ip ON join_codes(ip, created_at);
CREATE INDEX join_codes_program ON join_codes(program_id, created_at);

-- referral_codes: every card's own referral link (/r/{code}).
CREATE TABLE referral_codes (
    code           TEXT PRIMARY KEY,
    serial_number  TEXT NOT NULL UNIQUE REFERENCES cards(serial_number),
    program_id     TEXT NOT NULL REFERENCES programs(id),
    created_at     TIMESTAMP NOT NULL
);
INSERT INTO referral_codes (code, serial_number, program_id, created_at)
    SELECT lower(hex(randomblob(6))), serial_number, program_id, created_at FROM cards;

-- referrals: a friend who joined through a referral link, pending until
-- their first purchase of at least the program's minimum pays both.
CREATE TABLE referrals (
    id                 TEXT PRIMARY KEY,
    merchant_id        TEXT NOT NULL REFERENCES merchants(id),
    program_id         TEXT NOT NULL REFERENCES programs(id),
    referrer_serial    TEXT NOT NULL REFERENCES cards(serial_number),
    referrer_customer  TEXT NOT NULL REFERENCES customers(id),
    friend_serial      TEXT NOT NULL UNIQUE REFERENCES cards(serial_number),
    friend_customer    TEXT NOT NULL REFERENCES customers(id),
    status             TEXT NOT NULL,   -- pending, qualified
    referrer_points    INTEGER NOT NULL DEFAULT 0,
    friend_points      INTEGER NOT NULL DEFAULT 0,
    purchase_id        TEXT,
    created_at         TIMESTAMP NOT NULL,
    qualified_at       TIMESTAMP
);
CREATE INDEX referrals_referrer ON referrals(referrer_serial, created_at);
CREATE INDEX referrals_program ON referrals(program_id, status);

-- referral_refusals counts the friends a referral link brought that did
-- not count (self-referral, known phone, monthly limit), for the report.
CREATE TABLE referral_refusals (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    program_id   TEXT NOT NULL REFERENCES programs(id),
    referrer_serial TEXT NOT NULL REFERENCES cards(serial_number),
    reason       TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX referral_refusals_program ON referral_refusals(program_id);

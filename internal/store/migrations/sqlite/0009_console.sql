-- The merchant console: its users (owner, manager, cashier), their
-- sessions, and the audit log of who did what.
CREATE TABLE console_users (
    id             TEXT PRIMARY KEY,
    merchant_id    TEXT NOT NULL REFERENCES merchants(id),
    email          TEXT NOT NULL UNIQUE,   -- lower case; a person signs in with it alone
    role           TEXT NOT NULL,          -- owner, manager, cashier
    password_hash  TEXT NOT NULL,          -- argon2id, PHC string
    failed_logins  INTEGER NOT NULL DEFAULT 0, -- wrong passwords in a row
    locked_until   TIMESTAMP,
    created_at     TIMESTAMP NOT NULL
);
CREATE INDEX console_users_merchant ON console_users(merchant_id, created_at);

-- A session is found by the hash of its cookie; the cookie itself is never
-- stored. Its CSRF token goes into every form the session is shown.
CREATE TABLE console_sessions (
    token_hash  BLOB PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES console_users(id) ON DELETE CASCADE,
    csrf_token  TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL
);
CREATE INDEX console_sessions_expiry ON console_sessions(expires_at);

-- audit_log: one row per thing a person did. ref, when set, names what the
-- row is about uniquely (a ledger transaction, a form): recording it twice
-- is a no-op, so a retried or replayed action is logged once.
CREATE TABLE audit_log (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id  TEXT NOT NULL REFERENCES merchants(id),
    user_id      TEXT NOT NULL,   -- '' for the command line
    user_email   TEXT NOT NULL,
    action       TEXT NOT NULL,
    subject      TEXT NOT NULL,
    detail       TEXT NOT NULL,
    ref          TEXT,
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX audit_log_merchant ON audit_log(merchant_id, id);
CREATE UNIQUE INDEX audit_log_ref ON audit_log(merchant_id, ref) WHERE ref IS NOT NULL;

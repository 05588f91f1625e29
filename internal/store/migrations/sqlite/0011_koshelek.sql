-- «Кошелёк» (Cardsmobile): each program's partner API login and Push API
-- account, the cards issued into the app, the consents it reports and
-- the push messages sent through it.
CREATE TABLE koshelek_programs (
    program_id     TEXT PRIMARY KEY REFERENCES programs(id),
    merchant_id    TEXT NOT NULL REFERENCES merchants(id),
    enabled        BOOLEAN NOT NULL,
    login          TEXT NOT NULL,
    password_hash  TEXT NOT NULL,             -- Argon2id of the password Кошелёк calls us with
    push_login     TEXT NOT NULL DEFAULT '',
    push_password  TEXT NOT NULL DEFAULT '',  -- sealed with the server's key (we send it)
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL
);

CREATE TABLE koshelek_cards (
    serial_number  TEXT PRIMARY KEY REFERENCES cards(serial_number),
    merchant_id    TEXT NOT NULL,
    program_id     TEXT NOT NULL,
    msisdn         TEXT NOT NULL,             -- the verified phone, digits without +
    birth_date     TEXT NOT NULL DEFAULT '',  -- YYYY-MM-DD as Кошелёк sent it
    profile        TEXT NOT NULL DEFAULT '{}',-- the profile Кошелёк sent, as JSON
    issued_at      TIMESTAMP NOT NULL,
    removed_at     TIMESTAMP,                 -- the Push API no longer knows the phone
    sent_version   INTEGER NOT NULL,          -- the card version the holder was last told of
    sent_balance   INTEGER NOT NULL,
    sent_message   TEXT NOT NULL
);
CREATE INDEX koshelek_cards_program ON koshelek_cards(program_id, serial_number);

-- Append-only: every allow or deny of a channel, with the request that said so.
CREATE TABLE koshelek_consents (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id    TEXT NOT NULL,
    customer_id    TEXT NOT NULL,
    serial_number  TEXT NOT NULL,
    channel        TEXT NOT NULL,
    granted        BOOLEAN NOT NULL,
    source         TEXT NOT NULL,
    evidence       TEXT NOT NULL,
    created_at     TIMESTAMP NOT NULL
);
CREATE INDEX koshelek_consents_customer ON koshelek_consents(customer_id, channel, id);

CREATE TABLE koshelek_messages (
    message_id     TEXT PRIMARY KEY,          -- the Push API's messageId
    merchant_id    TEXT NOT NULL,
    program_id     TEXT NOT NULL,
    serial_number  TEXT NOT NULL,
    push_type      TEXT NOT NULL,             -- TRANSACTION, SERVICE, PROMO
    title          TEXT NOT NULL,
    body           TEXT NOT NULL,
    state          TEXT NOT NULL,             -- ENQUEUED, DELIVERED, OPENED, …
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    delivered_at   TIMESTAMP,
    opened_at      TIMESTAMP
);
CREATE INDEX koshelek_messages_card ON koshelek_messages(serial_number, created_at);

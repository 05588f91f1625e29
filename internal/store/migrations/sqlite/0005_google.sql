-- Google Wallet and FCM: the Google objects of cards and what Google shows
-- on them, the classes of programs, the visible notifications that count
-- against Google's 3 per pass and day, the nonces of save/delete callbacks
-- (Google may deliver one twice), and the FCM registration tokens of a
-- merchant's own app.

-- google_classes: one class per program, as last sent to Google.
CREATE TABLE google_classes (
    class_id         TEXT PRIMARY KEY,
    program_id       TEXT NOT NULL REFERENCES programs(id),
    program_version  INTEGER NOT NULL,   -- program version Google holds
    updated_at       TIMESTAMP NOT NULL
);

-- google_objects: a card's object, once inserted at Google (a row is the
-- "inserted" flag). The delivery worker patches it while card_version or
-- program_version lag behind the card and its program.
CREATE TABLE google_objects (
    serial_number    TEXT PRIMARY KEY REFERENCES cards(serial_number),
    object_id        TEXT NOT NULL UNIQUE,
    class_id         TEXT NOT NULL,
    card_version     INTEGER NOT NULL,   -- card version Google shows
    program_version  INTEGER NOT NULL,   -- program version the object was built from
    balance          INTEGER NOT NULL,   -- balance Google shows: a change may notify
    tier             TEXT NOT NULL,
    message          TEXT NOT NULL DEFAULT '',  -- lock-screen message Google shows
    inserted_at      TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL
);

-- google_notifications: when a visible notification went out for a card,
-- kept for 24 hours (gwallet.NotifyQuota).
CREATE TABLE google_notifications (
    serial_number  TEXT NOT NULL REFERENCES cards(serial_number),
    sent_at        TIMESTAMP NOT NULL
);
CREATE INDEX google_notifications_card ON google_notifications(serial_number, sent_at);

-- google_callbacks: nonces of handled save/delete callbacks, kept for a
-- while after their messages expired (a replay is refused by then anyway).
CREATE TABLE google_callbacks (
    nonce        TEXT PRIMARY KEY,
    object_id    TEXT NOT NULL,
    event_type   TEXT NOT NULL,
    received_at  TIMESTAMP NOT NULL
);
CREATE INDEX google_callbacks_received ON google_callbacks(received_at);

-- fcm_tokens: FCM registration tokens of a merchant's app that follow a
-- card; sent_version is the card version last delivered to the token.
CREATE TABLE fcm_tokens (
    serial_number  TEXT NOT NULL REFERENCES cards(serial_number),
    token          TEXT NOT NULL,
    merchant_id    TEXT NOT NULL REFERENCES merchants(id),
    sent_version   INTEGER NOT NULL DEFAULT 0,
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL,   -- latest registration of the token
    PRIMARY KEY (serial_number, token)
);

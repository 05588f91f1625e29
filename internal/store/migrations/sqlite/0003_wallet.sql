-- The pass web service: devices, registrations with their channel, device
-- logs; update tags and Last-Modified per card; lock-screen messages.
ALTER TABLE cards ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cards ADD COLUMN pass_modified INTEGER NOT NULL DEFAULT 0; -- unix seconds, grows with every change
ALTER TABLE cards ADD COLUMN message TEXT NOT NULL DEFAULT '';
CREATE INDEX cards_program ON cards(program_id, status);

-- change_counter hands out update tags. Taking the next value locks the
-- row until commit, so tags commit in the order they are handed out and a
-- device that saw tag N never misses a change numbered below N.
CREATE TABLE change_counter (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    value  INTEGER NOT NULL
);
INSERT INTO change_counter (id, value) VALUES (1, 0);

CREATE TABLE devices (
    id                TEXT PRIMARY KEY,   -- deviceLibraryIdentifier
    push_token        TEXT NOT NULL,
    channel           TEXT NOT NULL,      -- apple, walletpasses, passwallet, …
    push_service_url  TEXT NOT NULL,      -- PassWallet's relay, else empty
    user_agent        TEXT NOT NULL,
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL
);

CREATE TABLE registrations (
    device_id        TEXT NOT NULL REFERENCES devices(id),
    serial_number    TEXT NOT NULL REFERENCES cards(serial_number),
    pass_type_id     TEXT NOT NULL,
    channel          TEXT NOT NULL,
    pushed_seq       INTEGER NOT NULL DEFAULT 0, -- update tag last pushed to this device
    created_at       TIMESTAMP NOT NULL,  -- first registration: the install
    registered_at    TIMESTAMP NOT NULL,  -- latest registration
    unregistered_at  TIMESTAMP,           -- set on unregister or a dead token: the uninstall
    PRIMARY KEY (device_id, serial_number)
);
CREATE INDEX registrations_card ON registrations(serial_number) WHERE unregistered_at IS NULL;

CREATE TABLE device_logs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    message     TEXT NOT NULL,
    user_agent  TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL
);

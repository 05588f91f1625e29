-- Win-back: short links, consent and opt-out, campaigns and their
-- recipients.
ALTER TABLE customers ADD COLUMN opted_out_at TIMESTAMP;
ALTER TABLE customers ADD COLUMN phone_invalid_at TIMESTAMP;
ALTER TABLE customers ADD COLUMN last_texted_at TIMESTAMP;
-- holdout_seed is drawn once per customer; a campaign puts the customer in
-- its holdout when (seed + campaign salt) mod 10000 < share, so the choice
-- is random, stable for the customer within a campaign, and new per campaign.
ALTER TABLE customers ADD COLUMN holdout_seed INTEGER NOT NULL DEFAULT 0;
UPDATE customers SET holdout_seed = abs(random()) % 10000;

ALTER TABLE cards ADD COLUMN link_token TEXT;
CREATE UNIQUE INDEX cards_link_token ON cards(link_token);
CREATE INDEX cards_lapsed ON cards(program_id, status, last_purchase_at);

-- short_links: every card has one; every campaign recipient gets its own,
-- so opens and installs are attributed to the message that carried it.
CREATE TABLE short_links (
    token            TEXT PRIMARY KEY,
    serial_number    TEXT NOT NULL REFERENCES cards(serial_number),
    recipient_id     INTEGER,
    opens            INTEGER NOT NULL DEFAULT 0,
    first_opened_at  TIMESTAMP,
    created_at       TIMESTAMP NOT NULL
);

CREATE TABLE campaigns (
    id                    TEXT PRIMARY KEY,
    merchant_id           TEXT NOT NULL REFERENCES merchants(id),
    program_id            TEXT NOT NULL REFERENCES programs(id),
    name                  TEXT NOT NULL,
    status                TEXT NOT NULL,     -- draft, running, paused, cancelled, finished
    lapsed_days           INTEGER NOT NULL,
    tier                  TEXT NOT NULL,     -- '' = any
    installed             TEXT NOT NULL,     -- any, installed, not_installed
    bonus_points          INTEGER NOT NULL,
    bonus_on              TEXT NOT NULL,     -- open, install
    template              TEXT NOT NULL,
    holdout_bp            INTEGER NOT NULL,  -- holdout share in basis points
    salt                  INTEGER NOT NULL,
    quiet_start           INTEGER NOT NULL,  -- local hour quiet hours begin
    quiet_end             INTEGER NOT NULL,  -- local hour they end
    timezone              TEXT NOT NULL,
    send_rate             INTEGER NOT NULL,  -- messages per minute
    frequency_cap_days    INTEGER NOT NULL,
    purchase_window_days  INTEGER NOT NULL,
    provider              TEXT NOT NULL,
    audience              INTEGER NOT NULL DEFAULT 0,
    holdout               INTEGER NOT NULL DEFAULT 0,
    created_at            TIMESTAMP NOT NULL,
    started_at            TIMESTAMP,
    finished_at           TIMESTAMP
);
CREATE INDEX campaigns_status ON campaigns(status);

CREATE TABLE campaign_recipients (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id    TEXT NOT NULL REFERENCES campaigns(id),
    customer_id    TEXT NOT NULL REFERENCES customers(id),
    serial_number  TEXT NOT NULL REFERENCES cards(serial_number),
    holdout        BOOLEAN NOT NULL,
    status         TEXT NOT NULL,  -- pending, sending, sent, delivered, failed, skipped, holdout
    reason         TEXT NOT NULL DEFAULT '',
    attempts       INTEGER NOT NULL DEFAULT 0,
    due_at         TIMESTAMP,
    provider_id    TEXT NOT NULL DEFAULT '',
    segments       INTEGER NOT NULL DEFAULT 0,
    link_token     TEXT,
    sent_at        TIMESTAMP,
    delivered_at   TIMESTAMP,
    clicked_at     TIMESTAMP,
    installed_at   TIMESTAMP,
    bonus_at       TIMESTAMP,
    UNIQUE (campaign_id, customer_id)
);
CREATE INDEX campaign_recipients_due ON campaign_recipients(campaign_id, status, due_at);
CREATE INDEX campaign_recipients_provider ON campaign_recipients(provider_id);
CREATE INDEX campaign_recipients_serial ON campaign_recipients(serial_number);

-- Automations: triggers that message customers on the cheapest channel
-- that reaches them, each with a stable holdout and A/B variants; the
-- messages they make (the durable work of the automation sender and the
-- rows every report counts); what the scheduler keeps to evaluate
-- triggers incrementally; and the programs' SMS budgets.

-- A day's birthdays (customers.birthday, "YYYY-MM-DD" or "", from 0010) are
-- one index range, not a scan of every customer.
CREATE INDEX customers_birthday ON customers(merchant_id, substr(birthday, 6, 5)) WHERE birthday <> '';
-- What changed since the scheduler last looked: cards, installs.
CREATE INDEX cards_changed ON cards(program_id, updated_at);
CREATE INDEX cards_enrolled ON cards(program_id, created_at);
CREATE INDEX registrations_created ON registrations(created_at);

CREATE TABLE automations (
    id                    TEXT PRIMARY KEY,
    merchant_id           TEXT NOT NULL REFERENCES merchants(id),
    program_id            TEXT NOT NULL REFERENCES programs(id),
    name                  TEXT NOT NULL,
    status                TEXT NOT NULL,     -- active, paused, deleted
    paused_reason         TEXT NOT NULL DEFAULT '',
    trigger_type          TEXT NOT NULL,
    trigger_days          INTEGER NOT NULL,  -- days before / since / after, by type
    due_percent           INTEGER NOT NULL,  -- repurchase_due: how far past the gap
    trigger_tier          TEXT NOT NULL,     -- tier_changed: '' = any
    variants              TEXT NOT NULL,     -- JSON: [{"text":…,"bonus_kind":…,"bonus":…}]
    holdout_bp            INTEGER NOT NULL,  -- holdout share in basis points
    frequency_cap_days    INTEGER NOT NULL,
    quiet_start           INTEGER NOT NULL,
    quiet_end             INTEGER NOT NULL,
    timezone              TEXT NOT NULL,
    purchase_window_days  INTEGER NOT NULL,
    provider              TEXT NOT NULL,
    auto_pause_min        INTEGER NOT NULL,  -- per group; 0: never pause on its own
    winner_min            INTEGER NOT NULL,  -- per variant; 0: no winner takes all
    winner                INTEGER NOT NULL DEFAULT -1,
    -- The scheduler's watermark: the trigger has been evaluated up to
    -- here. The row is also a work table's (store/worktable.go): it is
    -- due for its next evaluation at due_at, and claimed_until leases
    -- that evaluation to one instance.
    evaluated_until       TIMESTAMP NOT NULL,
    due_at                TIMESTAMP NOT NULL,
    attempts              INTEGER NOT NULL DEFAULT 0,
    claimed_until         TIMESTAMP,
    -- when the auto-pause and winner rules last looked at the numbers
    rules_checked_at      TIMESTAMP,
    created_at            TIMESTAMP NOT NULL,
    updated_at            TIMESTAMP NOT NULL
);
CREATE INDEX automations_merchant ON automations(merchant_id, created_at, id);
CREATE INDEX automations_due ON automations(due_at) WHERE status = 'active';

-- automation_messages: one row per customer and occurrence of a trigger
-- (a birthday's year, a purchase cycle), holdout included: a holdout row
-- is never sent but is measured like the others from created_at.
CREATE TABLE automation_messages (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    automation_id   TEXT NOT NULL REFERENCES automations(id),
    merchant_id     TEXT NOT NULL REFERENCES merchants(id),
    program_id      TEXT NOT NULL REFERENCES programs(id),
    customer_id     TEXT NOT NULL REFERENCES customers(id),
    serial_number   TEXT NOT NULL REFERENCES cards(serial_number),
    occurrence      TEXT NOT NULL,
    holdout         BOOLEAN NOT NULL,
    variant         INTEGER NOT NULL,   -- -1 in the holdout
    status          TEXT NOT NULL,      -- pending, sending, sent, delivered, skipped, failed, holdout
    channel         TEXT NOT NULL DEFAULT '',  -- wallet, google, app, sms
    reason          TEXT NOT NULL DEFAULT '',
    attempts        INTEGER NOT NULL DEFAULT 0,
    due_at          TIMESTAMP NOT NULL,
    claimed_until   TIMESTAMP,
    provider        TEXT NOT NULL DEFAULT '',
    provider_id     TEXT NOT NULL DEFAULT '',
    segments        INTEGER NOT NULL DEFAULT 0,
    cost            INTEGER NOT NULL DEFAULT 0, -- minor units
    bonus           INTEGER NOT NULL DEFAULT 0, -- points credited
    created_at      TIMESTAMP NOT NULL,  -- both groups are measured from here
    measure_until   TIMESTAMP NOT NULL,  -- … to here: created_at + the purchase window
    sent_at         TIMESTAMP,
    delivered_at    TIMESTAMP,
    UNIQUE (automation_id, customer_id, occurrence)
);
CREATE INDEX automation_messages_due ON automation_messages(due_at, id) WHERE status = 'pending';
CREATE INDEX automation_messages_sending ON automation_messages(claimed_until) WHERE status = 'sending';
CREATE INDEX automation_messages_report ON automation_messages(automation_id, variant);
CREATE INDEX automation_messages_provider ON automation_messages(provider_id) WHERE provider_id <> '';

-- card_rhythms: what the scheduler last saw of a card: its tier (a change
-- is a tier_changed event) and its purchase rhythm (loyalty.Rhythm).
CREATE TABLE card_rhythms (
    serial_number     TEXT PRIMARY KEY REFERENCES cards(serial_number),
    program_id        TEXT NOT NULL REFERENCES programs(id),
    customer_id       TEXT NOT NULL REFERENCES customers(id),
    tier              TEXT NOT NULL,
    purchases         INTEGER NOT NULL,
    gap_seconds       INTEGER NOT NULL,
    own               BOOLEAN NOT NULL,
    last_purchase_at  TIMESTAMP,
    updated_at        TIMESTAMP NOT NULL
);
CREATE INDEX card_rhythms_gap ON card_rhythms(program_id, own, gap_seconds);

CREATE TABLE tier_changes (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    serial_number  TEXT NOT NULL REFERENCES cards(serial_number),
    program_id     TEXT NOT NULL REFERENCES programs(id),
    customer_id    TEXT NOT NULL REFERENCES customers(id),
    from_tier      TEXT NOT NULL,
    to_tier        TEXT NOT NULL,
    changed_at     TIMESTAMP NOT NULL
);
CREATE INDEX tier_changes_program ON tier_changes(program_id, changed_at);

-- automation_dues: when each card is due for each repurchase_due
-- automation (its rhythm's DueAt), kept as rhythms change.
CREATE TABLE automation_dues (
    automation_id     TEXT NOT NULL REFERENCES automations(id),
    serial_number     TEXT NOT NULL REFERENCES cards(serial_number),
    customer_id       TEXT NOT NULL REFERENCES customers(id),
    last_purchase_at  TIMESTAMP NOT NULL,
    fire_at           TIMESTAMP NOT NULL,
    PRIMARY KEY (automation_id, serial_number)
);
CREATE INDEX automation_dues_fire ON automation_dues(automation_id, fire_at);

-- rhythm_watch: how far the scheduler has looked at a program's changed
-- cards, and the program's typical gap (the median of its customers' own).
CREATE TABLE rhythm_watch (
    program_id           TEXT PRIMARY KEY REFERENCES programs(id),
    watched_until        TIMESTAMP NOT NULL,
    typical_gap_seconds  INTEGER NOT NULL,
    claimed_until        TIMESTAMP
);

-- sms_budgets: a program's monthly SMS budget and what this month spent,
-- reserved before each text is handed to a provider.
CREATE TABLE sms_budgets (
    program_id  TEXT PRIMARY KEY REFERENCES programs(id),
    monthly     INTEGER NOT NULL,   -- minor units
    month       TEXT NOT NULL,      -- YYYY-MM that spent belongs to
    spent       INTEGER NOT NULL
);

-- The console's dashboard: figures per program and day, rolled up once a
-- day has ended, so a dashboard reads a few hundred rows instead of every
-- card and ledger line. Days not yet rolled up are counted live from the
-- indexes below. (PostgreSQL twin of sqlite/0014_dashboard.sql.)

-- dashboard_days: one figure of a program. cohort is '' for a day's
-- figure (day is 'YYYY-MM-DD', UTC); for a join cohort's figure cohort is
-- the month its cards were issued ('YYYY-MM') and day the month the figure
-- belongs to ('YYYY-MM'). metric names the figure (store/dashboard.go).
CREATE TABLE dashboard_days (
    program_id  TEXT NOT NULL REFERENCES programs(id),
    day         TEXT NOT NULL,
    cohort      TEXT NOT NULL,
    metric      TEXT NOT NULL,
    value       BIGINT NOT NULL,
    PRIMARY KEY (program_id, cohort, day, metric)
);

-- dashboard_rollups: the first day of a program not rolled up yet.
CREATE TABLE dashboard_rollups (
    program_id  TEXT PRIMARY KEY REFERENCES programs(id),
    through     TEXT NOT NULL
);

-- What the live part of a dashboard, and a roll-up, count by time (the
-- automations' cards_enrolled and registrations_created serve too).
CREATE INDEX cards_program_voided ON cards(program_id, voided_at) WHERE voided_at IS NOT NULL;
CREATE INDEX transactions_program_created ON transactions(program_id, created_at);
CREATE INDEX registrations_unregistered ON registrations(unregistered_at) WHERE unregistered_at IS NOT NULL;
-- A campaign report asks, for each recipient, whether they bought.
CREATE INDEX transactions_customer ON transactions(customer_id, program_id, kind, created_at);

-- join_steps counts the join page's funnel by program, day (UTC) and
-- step: "view" (the page shown), "code" (a code texted), "verified" (a
-- code entered right). Join codes themselves are kept two days only.
CREATE TABLE join_steps (
    program_id  TEXT NOT NULL REFERENCES programs(id),
    day         TEXT NOT NULL,
    step        TEXT NOT NULL,
    count       BIGINT NOT NULL,
    PRIMARY KEY (program_id, step, day)
);
-- The join funnel's last step starts from the join page's consents.
CREATE INDEX consents_source ON consents(merchant_id, source, created_at);

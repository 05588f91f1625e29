-- The console's users screen and settings: a user can be disabled (no
-- sign-in, sessions ended) rather than deleted, so the audit log keeps
-- naming who did what; a merchant has console settings, today its time
-- zone, which cuts the dashboard's days and weeks.
ALTER TABLE console_users ADD COLUMN disabled_at TIMESTAMPTZ;

CREATE TABLE console_settings (
    merchant_id  TEXT PRIMARY KEY REFERENCES merchants(id),
    timezone     TEXT NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);

-- dashboard_rollups.zone: the time zone the program's rolled-up days
-- were cut in; a roll-up in another zone is thrown away and done again.
ALTER TABLE dashboard_rollups ADD COLUMN zone TEXT NOT NULL DEFAULT 'UTC';

-- The coupon issue jobs of a program, newest first, for the console.
CREATE INDEX coupon_issues_program ON coupon_issues(merchant_id, program_id, created_at);

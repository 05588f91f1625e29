-- Instances that restart without harming each other. Every running
-- process is an instance with a heartbeat lease it renews; the claims of
-- the durable queues carry the claiming instance, so a starting (or any
-- live) instance recovers only the claims of instances whose lease ran
-- out, never those of one still running. (Twin of the other dialect's
-- 0015_instances_and_leases.sql.)

-- instances: the running processes. lease_until is renewed by the
-- instance's heartbeat; past it the instance is taken for dead.
CREATE TABLE instances (
    id           TEXT PRIMARY KEY,
    host         TEXT NOT NULL,
    pid          INTEGER NOT NULL,
    started_at   TIMESTAMP NOT NULL,
    lease_until  TIMESTAMP NOT NULL
);

-- claimed_by: the instance holding the row's claim (NULL: none, or a
-- claim made before this migration).
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE webhook_deliveries ADD COLUMN claimed_by TEXT;
ALTER TABLE coupon_issue_items ADD COLUMN claimed_by TEXT;
ALTER TABLE automations ADD COLUMN claimed_by TEXT;
ALTER TABLE automation_messages ADD COLUMN claimed_by TEXT;
ALTER TABLE campaign_recipients ADD COLUMN claimed_by TEXT;
-- handed_at: when the sender handed a claimed recipient's text to the
-- provider. A dead instance's recipient not yet handed over was never
-- texted and goes back to pending; one handed over may have been, and is
-- failed rather than texted twice.
ALTER TABLE campaign_recipients ADD COLUMN handed_at TIMESTAMP;

-- Recovery looks only at rows under a claim.
CREATE INDEX outbox_claimed ON outbox(claimed_by) WHERE claimed_until IS NOT NULL;
CREATE INDEX webhook_deliveries_claimed ON webhook_deliveries(claimed_by) WHERE claimed_until IS NOT NULL;
CREATE INDEX coupon_issue_items_claimed ON coupon_issue_items(claimed_by) WHERE claimed_until IS NOT NULL;
CREATE INDEX campaign_recipients_sending ON campaign_recipients(claimed_by) WHERE status = 'sending';

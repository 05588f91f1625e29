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
    started_at   TIMESTAMPTZ NOT NULL,
    lease_until  TIMESTAMPTZ NOT NULL
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
ALTER TABLE campaign_recipients ADD COLUMN handed_at TIMESTAMPTZ;

-- Recovery looks only at rows under a claim.
CREATE INDEX outbox_claimed ON outbox(claimed_by) WHERE claimed_until IS NOT NULL;
CREATE INDEX webhook_deliveries_claimed ON webhook_deliveries(claimed_by) WHERE claimed_until IS NOT NULL;
CREATE INDEX coupon_issue_items_claimed ON coupon_issue_items(claimed_by) WHERE claimed_until IS NOT NULL;
CREATE INDEX campaign_recipients_sending ON campaign_recipients(claimed_by) WHERE status = 'sending';

-- Cross-instance wake-up: a transaction that inserts durable work
-- notifies channel loyalpass_work with "<queue>:<schema>:<instance>" (the
-- instance is the connection's application_name; listeners ignore other
-- schemas' notifications, as channels are per database), so every instance's LISTEN
-- connection wakes that queue's workers when, and only if, it commits.
-- PostgreSQL folds identical notifications of one transaction into one.
CREATE FUNCTION loyalpass_notify_work() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM new_rows) THEN
        PERFORM pg_notify('loyalpass_work', TG_ARGV[0] || ':' || current_schema() || ':' || current_setting('application_name'));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION loyalpass_notify_work('outbox');
CREATE TRIGGER webhook_deliveries_notify AFTER INSERT ON webhook_deliveries REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION loyalpass_notify_work('webhooks');
CREATE TRIGGER automation_messages_notify AFTER INSERT ON automation_messages REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION loyalpass_notify_work('messages');
CREATE TRIGGER coupon_issue_items_notify AFTER INSERT ON coupon_issue_items REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION loyalpass_notify_work('coupons');

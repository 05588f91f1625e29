-- A push token belongs to a device's registration for one card, not to the
-- device: registering device D for card B must not move where card A's
-- pushes to D go. The token, channel, relay and user agent move from
-- devices (keyed by device id alone, so overwritten by any card's holder)
-- to registrations (keyed by device and card). A registration takes the
-- values its device row holds now; that is the best there is to go on.
ALTER TABLE registrations ADD COLUMN push_token TEXT NOT NULL DEFAULT '';
ALTER TABLE registrations ADD COLUMN push_service_url TEXT NOT NULL DEFAULT '';
ALTER TABLE registrations ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
UPDATE registrations SET
    push_token = (SELECT d.push_token FROM devices d WHERE d.id = registrations.device_id),
    push_service_url = (SELECT d.push_service_url FROM devices d WHERE d.id = registrations.device_id),
    user_agent = (SELECT d.user_agent FROM devices d WHERE d.id = registrations.device_id);
ALTER TABLE devices DROP COLUMN push_token;
ALTER TABLE devices DROP COLUMN channel;
ALTER TABLE devices DROP COLUMN push_service_url;
ALTER TABLE devices DROP COLUMN user_agent;

-- The log endpoint takes no authentication: its rows are pruned by age
-- and by count, oldest first.
CREATE INDEX device_logs_created ON device_logs(created_at);

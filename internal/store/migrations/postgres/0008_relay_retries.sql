-- Device retries name the delivery channel that sends them ("apple" or
-- "relay"), no longer the wallet app: the relay channel serves every
-- Android pkpass app. Rows still waiting are carried over; done rows and
-- dead letters stay as they were written.
UPDATE outbox SET payload =
    REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(payload,
        '"channel":"walletpasses"', '"channel":"relay"'),
        '"channel":"passwallet"', '"channel":"relay"'),
        '"channel":"pass2u"', '"channel":"relay"'),
        '"channel":"walletunion"', '"channel":"relay"'),
        '"channel":"walletunion_hms"', '"channel":"relay"'),
        '"channel":"passworks"', '"channel":"relay"'),
        '"channel":"passhub"', '"channel":"relay"')
WHERE topic = 'push.retry' AND done_at IS NULL AND NOT dead AND payload LIKE '%"device_id"%';

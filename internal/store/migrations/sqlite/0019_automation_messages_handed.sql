-- handed_at: when the sender handed a claimed automation text to the SMS
-- provider, as campaign recipients have it (0016). A dead instance's
-- message not yet handed over was never sent and goes back to pending
-- once that instance's lease ran out; one handed over may have been sent,
-- and is failed rather than sent twice. A message on the card is written
-- and marked sent in one transaction, so it is never handed and unsent.
ALTER TABLE automation_messages ADD COLUMN handed_at TIMESTAMP;

-- Every posting wrote a random page of transactions_customer, a quarter of
-- the pages a SQLite group commit writes: the few queries that looked up
-- a customer's lines go through the customer's cards instead, and the
-- lines of a card are found by (serial_number, seq).
DROP INDEX transactions_customer;
-- A customer's cards, voided ones too (cards_active_customer holds the
-- active ones only).
CREATE INDEX cards_customer ON cards(customer_id, program_id);

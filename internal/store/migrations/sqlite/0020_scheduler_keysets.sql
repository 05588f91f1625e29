-- The rhythm watcher pages through a program's changed cards by
-- (updated_at, serial_number); with the serial in the index each page is
-- a range read, where before every page sorted all of the program's cards
-- changed since the watch began (the first look at 1,000,000 cards read
-- the program 2,000 times).
DROP INDEX cards_changed;
CREATE INDEX cards_changed ON cards(program_id, updated_at, serial_number);

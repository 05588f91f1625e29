-- What a «Кошелёк» holder was last told of their card's kind-specific
-- state (a stamp card's stamps and rewards, a discount card's percent, a
-- coupon used), as store.koshelekState writes it; '' is not known (a card
-- in Кошелёк before this column: its state is recorded, not told).
ALTER TABLE koshelek_cards ADD COLUMN sent_state TEXT NOT NULL DEFAULT '';

package store

import (
	"context"
	"fmt"
	"time"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

const (
	// selectCardsWithLapsedLots finds the cards to look at; what lapses
	// is loyalty.ExpireLapsed's to say, card by card.
	selectCardsWithLapsedLots = `SELECT DISTINCT serial_number FROM transactions
		WHERE remaining > 0 AND expires_at IS NOT NULL AND expires_at <= ? LIMIT ?`
	selectLedgerCardBySerial = `SELECT serial_number, merchant_id, program_id, customer_id, balance, tier, status,
		version, lifetime_points, lifetime_spend, rewards, valid_until, redeemed_at FROM cards WHERE serial_number = ?`
)

// ExpirePoints writes an expire line for every card with lots that lapsed
// by now, up to limit cards, and reports how many cards and points. Each
// card is its own transaction, so a crash loses nothing and a rerun does
// not expire twice (lapsed lots are left at zero); the card is locked
// while its lots are re-read, so instances running it at once do not
// either.
func (cs *CardStore) ExpirePoints(ctx context.Context, now time.Time, limit int) (cards int, points int64, err error) {
	now = now.UTC()
	rows, err := cs.s.read.QueryContext(ctx, selectCardsWithLapsedLots, now, limit)
	if err != nil {
		return 0, 0, fmt.Errorf("find lapsed points: %w", err)
	}
	var serials []string
	for rows.Next() {
		var serial string
		if err := rows.Scan(&serial); err != nil {
			rows.Close()
			return 0, 0, err
		}
		serials = append(serials, serial)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, 0, err
	}
	for _, serial := range serials {
		n, err := cs.s.expireCard(ctx, serial, now)
		if err != nil {
			return cards, points, fmt.Errorf("expire points of %s: %w", serial, err)
		}
		if n > 0 {
			cards++
			points += n
		}
	}
	return cards, points, nil
}

func (s *Store) expireCard(ctx context.Context, serial string, now time.Time) (int64, error) {
	var expired int64
	err := s.inTx(ctx, func(tx *writeTx) error {
		// With the card locked, the lots read below are the committed ones:
		// a lot another instance expired meanwhile reads as zero.
		if err := lockRows(ctx, tx, s.dialect.lockCard, serial); err != nil {
			return err
		}
		var st loyalty.State
		c := &st.Card
		err := tx.QueryRowContext(ctx, selectLedgerCardBySerial, serial).Scan(&c.SerialNumber, &c.MerchantID,
			&c.ProgramID, &c.CustomerID, &c.Balance, &c.Tier, &c.Status, &c.Version, &c.LifetimePoints, &c.LifetimeSpend,
			&c.Rewards, &c.ValidUntil, &c.RedeemedAt)
		if err != nil {
			return fmt.Errorf("load card: %w", err)
		}
		if st.Lots, err = loadLots(ctx, tx, serial); err != nil {
			return err
		}
		if st.Program, err = ledgerProgram(ctx, tx, c.ProgramID); err != nil {
			return err
		}
		out, ok, err := loyalty.ExpireLapsed(st, now)
		if err != nil || !ok {
			return err
		}
		if _, err := s.saveOutcome(ctx, tx, st.Card, out); err != nil {
			return err
		}
		expired = -out.Line.Points
		return nil
	})
	return expired, err
}

// NextExpiry returns the points of a card that lapse first and when (see
// loyalty.NextExpiry). Zero points means nothing is set to expire.
func (cs *CardStore) NextExpiry(ctx context.Context, serial string) (points int64, at time.Time, err error) {
	lots, err := loadLots(ctx, cs.s.read, serial)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("next expiry: %w", err)
	}
	points, at = loyalty.NextExpiry(lots)
	return points, at, nil
}

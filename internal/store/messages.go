package store

import (
	"context"
	"fmt"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

const (
	setCardMessage = `UPDATE cards SET message = ?, version = version + 1, updated_at = ?
		WHERE merchant_id = ? AND serial_number = ? AND status = 'active'`
	setProgramMessage = `UPDATE cards SET message = ?, version = version + 1, updated_at = ?
		WHERE merchant_id = ? AND program_id = ? AND status = 'active'`
	programExists = `SELECT COUNT(*) FROM programs WHERE merchant_id = ? AND id = ?`
)

// SetCardMessage puts a lock-screen message on an active card and queues
// the change for its devices.
func (cs *CardStore) SetCardMessage(ctx context.Context, merchantID, serial, text string) (loyalty.Card, error) {
	var card loyalty.Card
	err := cs.s.inTx(ctx, func(tx *writeTx) error {
		now := cs.s.nowUTC()
		res, err := tx.ExecContext(ctx, setCardMessage, text, now, merchantID, serial)
		if err != nil {
			return fmt.Errorf("set message: %w", err)
		}
		if card, err = scanCard(tx.QueryRowContext(ctx, selectCard, merchantID, serial)); err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return loyalty.ErrCardVoided
		}
		return cs.s.queueCardChange(ctx, tx, merchantID, serial, card.Version, now)
	})
	return card, err
}

// SetProgramMessage puts a message on every active card of a program and
// returns how many cards it reached.
func (pg *ProgramStore) SetProgramMessage(ctx context.Context, merchantID, programID, text string) (int64, error) {
	var n int64
	err := pg.s.inTx(ctx, func(tx *writeTx) error {
		var exists int
		if err := tx.QueryRowContext(ctx, programExists, merchantID, programID).Scan(&exists); err != nil {
			return err
		}
		if exists == 0 {
			return ErrNotFound
		}
		// The cards first, in the order every program-wide change locks
		// them, so that two of them never hold each other's cards.
		if err := lockRows(ctx, tx, pg.s.dialect.lockProgramCards, programID); err != nil {
			return err
		}
		now := pg.s.nowUTC()
		res, err := tx.ExecContext(ctx, setProgramMessage, text, now, merchantID, programID)
		if err != nil {
			return fmt.Errorf("set program message: %w", err)
		}
		n, _ = res.RowsAffected()
		return pg.s.queueProgramChange(ctx, tx, merchantID, programID, now)
	})
	return n, err
}

package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

// ErrIdempotencyReuse refuses a posting whose idempotency key was used
// for another request.
var ErrIdempotencyReuse = errors.New("idempotency key reused with a different request")

// Posted is the result of a posting.
type Posted struct {
	Transaction loyalty.Transaction
	Card        loyalty.Card
	// Program is what the ledger read of the card's program: its kind and
	// rules (loyalty.Program with its settings for the ledger only).
	Program loyalty.Program
}

// Answer is the stored reply to an idempotent request.
type Answer struct {
	Status int
	Body   []byte
}

// Respond turns a posting's result into the answer to store with its key;
// it runs inside the transaction, so the answer and the line commit together.
type Respond func(Posted) (Answer, error)

const (
	selectIdempotency = `SELECT request_hash, status, response FROM idempotency_keys WHERE merchant_id = ? AND key = ?`
	insertIdempotency = `INSERT INTO idempotency_keys (merchant_id, key, request_hash, status, response, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`
)

// Post writes one ledger line, atomically with the card's new balance,
// tier and version, an outbox row and the idempotency answer. A replay
// (same key, same request hash) returns the stored answer with replayed
// true and writes nothing; the same key with another request is refused.
func (cs *CardStore) Post(ctx context.Context, p loyalty.Posting, respond Respond) (ans Answer, replayed bool, err error) {
	if cs.s.dialect.groupCommit {
		return cs.s.postGrouped(ctx, p, respond)
	}
	// A posting with an audit entry to commit with it (the console's) goes
	// step by step: the pipelined batches write no audit entries; so does a
	// refund, which may take back a referral's bonuses.
	_, audited := auditOf(ctx)
	pipelined := cs.s.dialect.pipelinePosts && !audited && p.Kind != loyalty.Refund
	for attempt := 0; ; attempt++ {
		err = errStepByStep
		if pipelined {
			ans, replayed, err = cs.s.postPipelined(ctx, p, respond)
		}
		if errors.Is(err, errStepByStep) {
			err = cs.s.inTx(ctx, func(tx *writeTx) error {
				ans, replayed, err = cs.s.postIn(ctx, tx, p, respond)
				return err
			})
		}
		// Two requests with one key racing: the loser finds the winner's
		// row. A purchase that pays a referral locks the referrer's card
		// after its own, in no fixed order with a program-wide change:
		// PostgreSQL aborts one of a deadlocked pair, which runs again.
		retry := cs.s.dialect.isUniqueViolation(err) || cs.s.dialect.isDeadlock(err)
		if err == nil || !retry || attempt > 1 {
			return ans, replayed, err
		}
	}
}

// postIn is Post inside a transaction the caller commits.
func (s *Store) postIn(ctx context.Context, tx *writeTx, p loyalty.Posting, respond Respond) (ans Answer, replayed bool, err error) {
	var hash []byte
	err = tx.QueryRowContext(ctx, selectIdempotency, p.MerchantID, p.IdempotencyKey).Scan(&hash, &ans.Status, &ans.Body)
	if err == nil {
		if !bytes.Equal(hash, p.RequestHash) {
			return Answer{}, false, ErrIdempotencyReuse
		}
		return ans, true, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return Answer{}, false, fmt.Errorf("load idempotency key: %w", err)
	}
	posted, err := s.postLine(ctx, tx, p)
	if err != nil {
		return Answer{}, false, err
	}
	// A friend's qualifying purchase pays the referral with it; a refund
	// that undoes the qualifying purchase takes it back.
	if posted, err = s.payReferral(ctx, tx, posted); err != nil {
		return Answer{}, false, err
	}
	if posted, err = s.reverseReferral(ctx, tx, posted); err != nil {
		return Answer{}, false, err
	}
	if ans, err = respond(posted); err != nil {
		return Answer{}, false, err
	}
	t := posted.Transaction
	detail := strconv.FormatInt(t.Points, 10)
	if t.Points > 0 {
		detail = "+" + detail
	}
	if err := s.auditIn(ctx, tx, p.MerchantID, posted.Card.Number, detail); err != nil {
		return Answer{}, false, err
	}
	_, err = tx.ExecContext(ctx, insertIdempotency, p.MerchantID, p.IdempotencyKey, p.RequestHash,
		ans.Status, ans.Body, s.nowUTC())
	if err != nil {
		return Answer{}, false, fmt.Errorf("store idempotency key: %w", err)
	}
	return ans, false, nil
}

// postLine loads what the domain needs to decide a posting, with the card
// locked, asks it, and saves the outcome.
func (s *Store) postLine(ctx context.Context, tx *writeTx, p loyalty.Posting) (Posted, error) {
	if err := lockRows(ctx, tx, s.dialect.lockCard, p.Serial); err != nil {
		return Posted{}, err
	}
	card, err := scanCard(tx.QueryRowContext(ctx, selectCard, p.MerchantID, p.Serial))
	if err != nil {
		return Posted{}, err
	}
	st := loyalty.State{Card: card}
	if st.Program, err = ledgerProgram(ctx, tx, card.ProgramID); err != nil {
		return Posted{}, err
	}
	if st.NeedsLots(p) {
		if st.Lots, err = loadLots(ctx, tx, card.SerialNumber); err != nil {
			return Posted{}, err
		}
	}
	if p.RefundOf != "" {
		if st.Earn, err = loadLine(ctx, tx, p.RefundOf, card.SerialNumber); err != nil {
			return Posted{}, err
		}
	}
	out, err := loyalty.Post(st, p, s.nowUTC())
	if err != nil {
		return Posted{}, err
	}
	txn, err := s.saveOutcome(ctx, tx, card, out)
	if err != nil {
		return Posted{}, err
	}
	return Posted{Transaction: txn, Card: out.Card, Program: st.Program}, nil
}

const (
	selectProgramRules = `SELECT earn_rate_bp, tiers, tier_basis, tier_downgrade, points_lifetime_days,
		kind, stamps_required, stamp_min_purchase, discount_percent, currency FROM programs WHERE id = ?`
	selectLine = `SELECT ` + transactionColumns + ` FROM transactions WHERE id = ? AND serial_number = ?`
)

// ledgerProgram loads only what the ledger needs of a program: its kind
// and rules.
func ledgerProgram(ctx context.Context, tx *writeTx, programID string) (loyalty.Program, error) {
	return scanProgramRules(tx.QueryRowContext(ctx, selectProgramRules, programID), programID)
}

func scanProgramRules(row scanner, programID string) (loyalty.Program, error) {
	p := loyalty.Program{ID: programID}
	var tiers string
	err := row.Scan(&p.EarnRateBP, &tiers, &p.TierBasis,
		&p.TierDowngrade, &p.PointsLifetimeDays, &p.Kind, &p.StampsRequired, &p.StampMinPurchase, &p.DiscountPercent,
		&p.Currency)
	if err != nil {
		return p, fmt.Errorf("load program rules: %w", err)
	}
	if err := json.Unmarshal([]byte(tiers), &p.Tiers); err != nil {
		return p, fmt.Errorf("program %s tiers: %w", programID, err)
	}
	return p, nil
}

// loadLine loads a card's ledger line by id; nil if the card has none.
func loadLine(ctx context.Context, tx *writeTx, id, serial string) (*loyalty.Transaction, error) {
	t, err := scanTransaction(tx.QueryRowContext(ctx, selectLine, id, serial))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &t, nil
}

package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

// Ledger errors callers can test for with errors.Is.
var (
	ErrInsufficientPoints = errors.New("insufficient points")
	ErrIdempotencyReuse   = errors.New("idempotency key reused with a different request")
	ErrCardVoided         = errors.New("card is voided")
	ErrRefundTarget       = errors.New("refund target is not an earn of this card")
	ErrRefundTooLarge     = errors.New("refund exceeds what is left of the purchase")
)

// Transaction is one line of the ledger.
type Transaction struct {
	ID             string
	SerialNumber   string
	Seq            int64 // the card's version after this line
	Kind           string
	Points         int64
	PurchaseAmount int64
	Reason         string
	RefundOf       string
	RefundedAmount int64 // on an earn: how much of the purchase was refunded
	BalanceAfter   int64
	ExpiresAt      *time.Time
	CreatedAt      time.Time
}

// Posting asks for one ledger line on a card. Which fields matter depends
// on Kind: earn takes PurchaseAmount; redeem takes Points (> 0); adjust
// takes signed Points and a Reason; refund takes RefundOf and optionally
// PurchaseAmount (zero refunds what is left of the purchase).
type Posting struct {
	MerchantID     string
	Serial         string
	Kind           string
	PurchaseAmount int64
	Points         int64
	Reason         string
	RefundOf       string
	// IdempotencyKey and RequestHash make the posting safe to retry: the
	// same key and hash return the stored answer and write nothing.
	IdempotencyKey string
	RequestHash    []byte
}

// Posted is the result of a posting.
type Posted struct {
	Transaction Transaction
	Card        Card
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
	selectEarnLine = `SELECT points, purchase_amount, refunded_amount, remaining FROM transactions
		WHERE id = ? AND serial_number = ? AND kind = 'earn'`
	addRefunded = `UPDATE transactions SET refunded_amount = refunded_amount + ? WHERE id = ?`
)

// Post writes one ledger line, atomically with the card's new balance,
// tier and version, an outbox row and the idempotency answer. A replay
// (same key, same request hash) returns the stored answer with replayed
// true and writes nothing; the same key with another request is refused.
func (s *Store) Post(ctx context.Context, p Posting, respond Respond) (ans Answer, replayed bool, err error) {
	if s.dialect.groupCommit {
		return s.postGrouped(ctx, p, respond)
	}
	for attempt := 0; ; attempt++ {
		err = s.inTx(ctx, func(tx *sql.Tx) error {
			ans, replayed, err = s.postIn(ctx, tx, p, respond)
			return err
		})
		// Two requests with one key racing: the loser finds the winner's row.
		if err == nil || !s.dialect.isUniqueViolation(err) || attempt > 0 {
			return ans, replayed, err
		}
	}
}

// postIn is Post inside a transaction the caller commits.
func (s *Store) postIn(ctx context.Context, tx *sql.Tx, p Posting, respond Respond) (ans Answer, replayed bool, err error) {
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
	if ans, err = respond(posted); err != nil {
		return Answer{}, false, err
	}
	_, err = tx.ExecContext(ctx, insertIdempotency, p.MerchantID, p.IdempotencyKey, p.RequestHash,
		ans.Status, ans.Body, s.nowUTC())
	if err != nil {
		return Answer{}, false, fmt.Errorf("store idempotency key: %w", err)
	}
	return ans, false, nil
}

// ledgerCard is the part of a card the ledger reads and writes.
type ledgerCard struct {
	Serial, MerchantID, ProgramID, CustomerID string
	Balance                                   int64
	Tier, Status                              string
	Version                                   int64
	LifetimePoints, LifetimeSpend             int64
}

func (s *Store) postLine(ctx context.Context, tx *sql.Tx, p Posting) (Posted, error) {
	if err := lockRows(ctx, tx, s.dialect.lockCard, p.Serial); err != nil {
		return Posted{}, err
	}
	card, err := scanCard(tx.QueryRowContext(ctx, selectCard, p.MerchantID, p.Serial))
	if err != nil {
		return Posted{}, err
	}
	if card.Status != CardActive {
		return Posted{}, ErrCardVoided
	}
	c := card.ledger()
	rules, err := programRules(ctx, tx, c.ProgramID)
	if err != nil {
		return Posted{}, err
	}
	l, err := s.lineFor(ctx, tx, &c, rules, p)
	if err != nil {
		return Posted{}, err
	}
	now := s.nowUTC()
	txn, err := s.writeLine(ctx, tx, &c, rules, l, p.RefundOf, now)
	if err != nil {
		return Posted{}, err
	}
	card.Balance, card.Tier, card.Version = c.Balance, c.Tier, c.Version
	card.LifetimePoints, card.LifetimeSpend, card.UpdatedAt = c.LifetimePoints, c.LifetimeSpend, now
	if l.Purchase {
		card.LastPurchaseAt = &now
	}
	return Posted{Transaction: txn, Card: card}, nil
}

// ledger is the part of the card the ledger reads and writes.
func (c Card) ledger() ledgerCard {
	return ledgerCard{Serial: c.SerialNumber, MerchantID: c.MerchantID, ProgramID: c.ProgramID,
		CustomerID: c.CustomerID, Balance: c.Balance, Tier: c.Tier, Status: c.Status, Version: c.Version,
		LifetimePoints: c.LifetimePoints, LifetimeSpend: c.LifetimeSpend}
}

const selectProgramRules = `SELECT earn_rate_bp, tiers, tier_basis, tier_downgrade, points_lifetime_days
	FROM programs WHERE id = ?`

// programRules loads only what the ledger needs of a program.
func programRules(ctx context.Context, tx *sql.Tx, programID string) (loyalty.Rules, error) {
	var p Program
	var tiers string
	err := tx.QueryRowContext(ctx, selectProgramRules, programID).Scan(&p.EarnRateBP, &tiers, &p.TierBasis,
		&p.TierDowngrade, &p.PointsLifetimeDays)
	if err != nil {
		return loyalty.Rules{}, fmt.Errorf("load program rules: %w", err)
	}
	if err := json.Unmarshal([]byte(tiers), &p.Tiers); err != nil {
		return loyalty.Rules{}, fmt.Errorf("program %s tiers: %w", programID, err)
	}
	return p.Rules(), nil
}

// line is a ledger line about to be written.
type line struct {
	Kind           string
	Points         int64 // signed
	PurchaseAmount int64
	Reason         string
	Lot            bool             // a credit that later debits draw on
	FirstLot       string           // a debit takes from this lot before the others
	Purchase       bool             // counts as the card's last purchase
	LifetimePoints int64            // change of the card's lifetime points
	LifetimeSpend  int64            // change of the card's lifetime spend
	RefundedAmount int64            // for a refund: amount to add to the earn line
	ExpireLots     []loyalty.Lot    // for expire: the lots that lapse
	uses           []loyalty.LotUse // computed by writeLine
}

// lineFor applies the program's rules to a posting.
func (s *Store) lineFor(ctx context.Context, tx *sql.Tx, c *ledgerCard, rules loyalty.Rules, p Posting) (line, error) {
	switch p.Kind {
	case loyalty.Earn:
		pts := rules.EarnPoints(p.PurchaseAmount, c.Tier)
		return line{Kind: p.Kind, Points: pts, PurchaseAmount: p.PurchaseAmount, Reason: p.Reason, Lot: true,
			Purchase: true, LifetimePoints: pts, LifetimeSpend: p.PurchaseAmount}, nil
	case loyalty.Redeem:
		if c.Balance < p.Points {
			return line{}, ErrInsufficientPoints
		}
		return line{Kind: p.Kind, Points: -p.Points, Reason: p.Reason}, nil
	case loyalty.Adjust:
		if c.Balance+p.Points < 0 {
			return line{}, ErrInsufficientPoints
		}
		return line{Kind: p.Kind, Points: p.Points, Reason: p.Reason, Lot: p.Points > 0}, nil
	case loyalty.Refund:
		var earned, purchase, refunded, remaining int64
		err := tx.QueryRowContext(ctx, selectEarnLine, p.RefundOf, c.Serial).Scan(&earned, &purchase, &refunded, &remaining)
		if errors.Is(err, sql.ErrNoRows) {
			return line{}, ErrRefundTarget
		}
		if err != nil {
			return line{}, fmt.Errorf("load refunded earn: %w", err)
		}
		amount := p.PurchaseAmount
		if amount == 0 {
			amount = purchase - refunded
		}
		if amount <= 0 || amount > purchase-refunded {
			return line{}, fmt.Errorf("%w: %d of %d is left", ErrRefundTooLarge, purchase-refunded, purchase)
		}
		reverse := loyalty.RefundPoints(earned, purchase, refunded, amount)
		// Points already spent cannot be taken back: the balance never
		// goes below zero, so the reversal stops there.
		taken := min(reverse, c.Balance)
		return line{Kind: p.Kind, Points: -taken, PurchaseAmount: -amount, Reason: p.Reason, FirstLot: p.RefundOf,
			LifetimePoints: -reverse, LifetimeSpend: -amount, RefundedAmount: amount}, nil
	}
	return line{}, fmt.Errorf("unknown transaction kind %q", p.Kind)
}

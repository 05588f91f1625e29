package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

// ReferralStore keeps the referral links of cards, the friends they
// brought, and what was paid for them.
type ReferralStore struct{ s *Store }

// Referrals returns the referrals' store.
func (s *Store) Referrals() *ReferralStore { return &ReferralStore{s} }

// Webhook events of referrals.
const (
	EventReferralJoined    = "referral.joined"
	EventReferralQualified = "referral.qualified"
	EventReferralReversed  = "referral.reversed"
)

// ReferralReport is a program's referral figures.
type ReferralReport struct {
	// Joins counts friends attributed to a referrer; Qualified those whose
	// qualifying purchase paid both; Refused the joins by a referral link
	// that did not count.
	Joins, Pending, Qualified, Refused int64
	// ReferrerPoints and FriendPoints are what was credited to each side.
	ReferrerPoints, FriendPoints int64
}

const (
	insertReferralCode  = `INSERT INTO referral_codes (code, serial_number, program_id, created_at) VALUES (?, ?, ?, ?)`
	selectReferralCode  = `SELECT code FROM referral_codes WHERE serial_number = ?`
	selectReferralOwner = `SELECT serial_number, program_id FROM referral_codes WHERE code = ?`
	countReferrals      = `SELECT COUNT(*) FROM referrals WHERE referrer_serial = ? AND created_at > ?`
	insertReferral      = `INSERT INTO referrals (id, merchant_id, program_id, referrer_serial, referrer_customer,
		friend_serial, friend_customer, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?)`
	insertRefusal   = `INSERT INTO referral_refusals (program_id, referrer_serial, reason, created_at) VALUES (?, ?, ?, ?)`
	pendingReferral = `SELECT id, referrer_serial, program_id FROM referrals WHERE friend_serial = ? AND status = 'pending'`
	selectTerms     = `SELECT referral_terms FROM programs WHERE id = ?`
	// The referral a refunded purchase qualified, and what is left of it.
	qualifiedByPurchase = `SELECT r.id, r.referrer_serial, r.friend_serial, r.program_id, r.referrer_points, r.friend_points,
		t.purchase_amount - t.refunded_amount FROM referrals r JOIN transactions t ON t.id = r.purchase_id
		WHERE r.purchase_id = ? AND r.status = 'qualified'`
	reverseReferralRow = `UPDATE referrals SET status = 'reversed' WHERE id = ? AND status = 'qualified'`
	selectCardBalance  = `SELECT balance FROM cards WHERE serial_number = ?`
	qualifyReferral    = `UPDATE referrals SET status = 'qualified', referrer_points = ?, friend_points = ?, purchase_id = ?,
		qualified_at = ? WHERE id = ? AND status = 'pending'`
	referralFigures = `SELECT COUNT(*), COALESCE(SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = 'qualified' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(referrer_points), 0), COALESCE(SUM(friend_points), 0)
		FROM referrals WHERE merchant_id = ? AND program_id = ?`
	countRefusals   = `SELECT COUNT(*) FROM referral_refusals WHERE program_id = ?`
	selectReferrals = `SELECT id, program_id, referrer_serial, friend_serial, status, referrer_points, friend_points,
		created_at, qualified_at, referrer_customer, friend_customer FROM referrals`
	customerReferrals = selectReferrals + ` WHERE merchant_id = ? AND (referrer_customer = ? OR friend_customer = ?)
		ORDER BY created_at, id`
)

// Code returns the referral code of a card, or ErrNotFound.
func (rs *ReferralStore) Code(ctx context.Context, serial string) (string, error) {
	var code string
	err := rs.s.read.QueryRowContext(ctx, selectReferralCode, serial).Scan(&code)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	return code, err
}

// Link returns the program a referral code invites to, with its merchant.
func (rs *ReferralStore) Link(ctx context.Context, code string) (JoinProgram, error) {
	var serial, programID, merchantID string
	err := rs.s.read.QueryRowContext(ctx, selectReferralOwner, code).Scan(&serial, &programID)
	if errors.Is(err, sql.ErrNoRows) {
		return JoinProgram{}, ErrNotFound
	}
	if err != nil {
		return JoinProgram{}, fmt.Errorf("load referral code: %w", err)
	}
	if err := rs.s.read.QueryRowContext(ctx, `SELECT merchant_id FROM programs WHERE id = ?`, programID).Scan(&merchantID); err != nil {
		return JoinProgram{}, fmt.Errorf("load program: %w", err)
	}
	p, err := rs.s.Programs().Program(ctx, merchantID, programID)
	if err != nil {
		return JoinProgram{}, err
	}
	m, err := rs.s.Merchants().Merchant(ctx, merchantID)
	return JoinProgram{Program: p, Merchant: m}, err
}

// Report returns the referral figures of the merchant's program.
func (rs *ReferralStore) Report(ctx context.Context, merchantID, programID string) (ReferralReport, error) {
	var r ReferralReport
	if _, err := rs.s.Programs().Program(ctx, merchantID, programID); err != nil {
		return r, err
	}
	err := rs.s.read.QueryRowContext(ctx, referralFigures, merchantID, programID).Scan(&r.Joins, &r.Pending, &r.Qualified,
		&r.ReferrerPoints, &r.FriendPoints)
	if err != nil {
		return r, fmt.Errorf("referral figures: %w", err)
	}
	if err := rs.s.read.QueryRowContext(ctx, countRefusals, programID).Scan(&r.Refused); err != nil {
		return r, fmt.Errorf("count refusals: %w", err)
	}
	return r, nil
}

// insertReferralCodeFor gives a new card its referral link.
func (s *Store) insertReferralCodeFor(ctx context.Context, tx *writeTx, serial, programID string) error {
	if _, err := tx.ExecContext(ctx, insertReferralCode, NewLinkToken(), serial, programID, s.nowUTC()); err != nil {
		return fmt.Errorf("insert referral code: %w", err)
	}
	return nil
}

// attributeReferral records that the friend's new card came by the
// referral code, or why it does not count (the refusal, not an error).
func (s *Store) attributeReferral(ctx context.Context, tx *writeTx, prog loyalty.Program, code string, friend loyalty.Card,
	friendKnown bool) (refusal, err error) {
	var serial, programID string
	err = tx.QueryRowContext(ctx, selectReferralOwner, code).Scan(&serial, &programID)
	if errors.Is(err, sql.ErrNoRows) || err == nil && programID != prog.ID {
		return loyalty.ErrReferrerGone, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load referral code: %w", err)
	}
	referrer, err := scanCard(tx.QueryRowContext(ctx, selectCardBySerial, serial))
	if err != nil {
		return nil, err
	}
	now := s.nowUTC()
	a := loyalty.ReferralAttempt{Terms: prog.Referral, ReferrerCustomer: referrer.CustomerID,
		FriendCustomer: friend.CustomerID, ReferrerActive: referrer.Status == loyalty.CardActive, FriendKnown: friendKnown}
	if err := tx.QueryRowContext(ctx, countReferrals, serial, now.Add(-loyalty.ReferralMonth)).Scan(&a.ThisMonth); err != nil {
		return nil, fmt.Errorf("count referrals: %w", err)
	}
	if refusal := loyalty.AttributeReferral(a); refusal != nil {
		if _, err := tx.ExecContext(ctx, insertRefusal, prog.ID, serial, refusal.Error(), now); err != nil {
			return nil, fmt.Errorf("record referral refusal: %w", err)
		}
		return refusal, nil
	}
	id := newID("ref")
	if _, err := tx.ExecContext(ctx, insertReferral, id, prog.MerchantID, prog.ID, serial, referrer.CustomerID,
		friend.SerialNumber, friend.CustomerID, now); err != nil {
		return nil, fmt.Errorf("insert referral: %w", err)
	}
	return nil, s.emitEvent(ctx, tx, prog.MerchantID, EventReferralJoined, map[string]any{"referral_id": id,
		"program_id": prog.ID, "referrer_serial_number": serial, "friend_serial_number": friend.SerialNumber})
}

// payReferral runs inside a posting's transaction, after its line: if the
// line is the qualifying purchase of a friend whose referral is pending,
// it credits both cards through the ledger, each line once (its
// idempotency key is the referral's), and returns the posting with the
// friend's card as it now stands. The referral row changes from pending
// to qualified in the same transaction, so a concurrent purchase finds it
// qualified and pays nothing.
func (s *Store) payReferral(ctx context.Context, tx *writeTx, posted Posted) (Posted, error) {
	if posted.Transaction.Kind != loyalty.Earn {
		return posted, nil
	}
	var id, referrerSerial, programID string
	err := tx.QueryRowContext(ctx, pendingReferral, posted.Card.SerialNumber).Scan(&id, &referrerSerial, &programID)
	if errors.Is(err, sql.ErrNoRows) {
		return posted, nil
	}
	if err != nil {
		return posted, fmt.Errorf("load pending referral: %w", err)
	}
	terms, err := referralTerms(ctx, tx, programID)
	if err != nil {
		return posted, err
	}
	if !terms.Enabled() || !loyalty.Qualifies(terms, posted.Transaction) {
		return posted, nil
	}
	merchant := posted.Card.MerchantID
	referrerPay, friendPay := loyalty.ReferralCredits(terms)
	referrerPaid, err := s.creditReferral(ctx, tx, merchant, referrerSerial, id+":referrer", referrerPay)
	if err != nil {
		return posted, err
	}
	friendPaid, err := s.creditReferral(ctx, tx, merchant, posted.Card.SerialNumber, id+":friend", friendPay)
	if err != nil {
		return posted, err
	}
	if friendPaid != nil {
		posted.Card = friendPaid.Card
	}
	res, err := tx.ExecContext(ctx, qualifyReferral, linePoints(referrerPaid), linePoints(friendPaid), posted.Transaction.ID,
		s.nowUTC(), id)
	if err != nil {
		return posted, fmt.Errorf("qualify referral: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return posted, fmt.Errorf("referral %s qualified under the posting", id)
	}
	return posted, s.emitEvent(ctx, tx, merchant, EventReferralQualified, map[string]any{"referral_id": id,
		"program_id": programID, "referrer_serial_number": referrerSerial, "friend_serial_number": posted.Card.SerialNumber,
		"referrer_points": linePoints(referrerPaid), "friend_points": linePoints(friendPaid), "purchase_id": posted.Transaction.ID})
}

// referralTerms reads a program's referral terms inside tx.
func referralTerms(ctx context.Context, tx *writeTx, programID string) (loyalty.ReferralTerms, error) {
	var raw string
	var terms loyalty.ReferralTerms
	if err := tx.QueryRowContext(ctx, selectTerms, programID).Scan(&raw); err != nil {
		return terms, fmt.Errorf("load referral terms: %w", err)
	}
	if err := json.Unmarshal([]byte(raw), &terms); err != nil {
		return terms, fmt.Errorf("program %s referral terms: %w", programID, err)
	}
	return terms, nil
}

// reverseReferral takes back a referral's bonuses when a refund leaves
// its qualifying purchase below the terms' minimum: from each side, what
// the card still holds of its bonus (points already spent stay spent).
// It runs in the refund's transaction, with the referral.reversed event;
// a replayed refund writes nothing, and a referral is reversed once.
func (s *Store) reverseReferral(ctx context.Context, tx *writeTx, posted Posted) (Posted, error) {
	if posted.Transaction.Kind != loyalty.Refund || posted.Transaction.RefundOf == "" {
		return posted, nil
	}
	var id, referrerSerial, friendSerial, programID string
	var referrerPoints, friendPoints, remaining int64
	err := tx.QueryRowContext(ctx, qualifiedByPurchase, posted.Transaction.RefundOf).Scan(&id, &referrerSerial,
		&friendSerial, &programID, &referrerPoints, &friendPoints, &remaining)
	if errors.Is(err, sql.ErrNoRows) {
		return posted, nil
	}
	if err != nil {
		return posted, fmt.Errorf("load the refunded purchase's referral: %w", err)
	}
	terms, err := referralTerms(ctx, tx, programID)
	if err != nil {
		return posted, err
	}
	if loyalty.StillQualifies(terms, remaining) {
		return posted, nil
	}
	merchant := posted.Card.MerchantID
	referrerTaken, err := s.debitReferral(ctx, tx, merchant, referrerSerial, id+":referrer:reversed", referrerPoints)
	if err != nil {
		return posted, err
	}
	friendTaken, err := s.debitReferral(ctx, tx, merchant, friendSerial, id+":friend:reversed", friendPoints)
	if err != nil {
		return posted, err
	}
	if friendTaken != nil && friendSerial == posted.Card.SerialNumber {
		posted.Card = friendTaken.Card
	}
	if _, err := tx.ExecContext(ctx, reverseReferralRow, id); err != nil {
		return posted, fmt.Errorf("reverse referral: %w", err)
	}
	return posted, s.emitEvent(ctx, tx, merchant, EventReferralReversed, map[string]any{"referral_id": id,
		"program_id": programID, "referrer_serial_number": referrerSerial, "friend_serial_number": friendSerial,
		"referrer_points": -linePoints(referrerTaken), "friend_points": -linePoints(friendTaken),
		"purchase_id": posted.Transaction.RefundOf, "refund_id": posted.Transaction.ID})
}

// debitReferral takes one side's bonus back, as much of points as the
// card holds; nil when there is nothing to take or the card is voided.
func (s *Store) debitReferral(ctx context.Context, tx *writeTx, merchant, serial, key string, points int64) (*Posted, error) {
	var balance int64
	if err := tx.QueryRowContext(ctx, selectCardBalance, serial).Scan(&balance); err != nil {
		return nil, fmt.Errorf("balance of %s: %w", serial, err)
	}
	take := min(points, balance)
	if take <= 0 {
		return nil, nil
	}
	return s.creditReferral(ctx, tx, merchant, serial, key, loyalty.Posting{Kind: loyalty.Adjust, Points: -take,
		Reason: "referral bonus taken back: the friend's purchase was refunded"})
}

// creditReferral posts one side's bonus; nil when there is nothing to
// pay or the card is voided. Its idempotency key is written with it, so
// the same referral can never pay the same side twice.
func (s *Store) creditReferral(ctx context.Context, tx *writeTx, merchant, serial, key string, p loyalty.Posting) (*Posted, error) {
	if p.Points == 0 {
		return nil, nil
	}
	p.MerchantID, p.Serial = merchant, serial
	p.IdempotencyKey, p.RequestHash = "referral:"+key, []byte("referral:"+key)
	posted, err := s.postLine(ctx, tx, p)
	if errors.Is(err, loyalty.ErrCardVoided) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("credit referral %s: %w", key, err)
	}
	body, err := json.Marshal(map[string]any{"transaction_id": posted.Transaction.ID, "points": posted.Transaction.Points})
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, insertIdempotency, merchant, p.IdempotencyKey, p.RequestHash, http.StatusCreated,
		body, s.nowUTC()); err != nil {
		return nil, fmt.Errorf("store referral key: %w", err)
	}
	return &posted, nil
}

// linePoints is the change of a referral's line; 0 when none was posted.
func linePoints(p *Posted) int64 {
	if p == nil {
		return 0
	}
	return p.Transaction.Points
}

// customerReferralsOf lists the referrals a customer is either side of.
func customerReferralsOf(ctx context.Context, q queryer, merchantID, customerID string) ([]loyalty.Referral, error) {
	rows, err := q.QueryContext(ctx, customerReferrals, merchantID, customerID, customerID)
	if err != nil {
		return nil, fmt.Errorf("list referrals: %w", err)
	}
	defer rows.Close()
	out := []loyalty.Referral{}
	for rows.Next() {
		var r loyalty.Referral
		if err := rows.Scan(&r.ID, &r.ProgramID, &r.ReferrerSerial, &r.FriendSerial, &r.Status, &r.ReferrerPoints,
			&r.FriendPoints, &r.CreatedAt, &r.QualifiedAt, &r.ReferrerCustomer, &r.FriendCustomer); err != nil {
			return nil, fmt.Errorf("load referral: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

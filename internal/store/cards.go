package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	mathrand "math/rand/v2"
	"strings"
	"time"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

// IssueCard is what IssueCard needs to know.
type IssueCard struct {
	MerchantID string
	ProgramID  string
	Phone      string // E.164
	Name       string
	Email      string
	// SMSConsent, when set, records the customer's answer if none is on file.
	SMSConsent *bool
	// InitialAmount is what a new gift card starts with, in minor units. A
	// customer who has a card of the program already is refused with
	// ErrCardExists rather than handed it without the money.
	InitialAmount int64
}

// ErrCardExists refuses to issue money onto a new gift card when the
// customer holds one of the program already: it takes a load instead.
var ErrCardExists = errors.New("the customer already has a card of this program")

const cardColumns = `c.serial_number, c.merchant_id, c.program_id, c.customer_id, c.number, c.auth_token,
	c.balance, c.tier, c.status, c.version, c.lifetime_points, c.lifetime_spend, c.last_purchase_at,
	c.change_seq, c.pass_modified, c.message, COALESCE(c.link_token, ''), c.created_at, c.updated_at, c.voided_at,
	c.rewards, c.valid_until, c.redeemed_at, u.id, u.merchant_id, u.phone, u.name, u.email, u.sms_consent, u.sms_consent_at, u.sms_consent_source,
	u.opted_out_at IS NOT NULL, u.created_at`

const (
	selectCustomerByPhone = `SELECT id, merchant_id, phone, name, email, sms_consent, sms_consent_at,
		sms_consent_source, created_at FROM customers WHERE merchant_id = ? AND phone = ?`
	insertCustomer = `INSERT INTO customers (id, merchant_id, phone, name, email, sms_consent, sms_consent_at,
		sms_consent_source, created_at, holdout_seed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	fillCustomer = `UPDATE customers SET
		name = CASE WHEN name = '' THEN ? ELSE name END,
		email = CASE WHEN email = '' THEN ? ELSE email END,
		sms_consent = CASE WHEN sms_consent_at IS NULL AND ? THEN ? ELSE sms_consent END,
		sms_consent_source = CASE WHEN sms_consent_at IS NULL AND ? THEN 'api' ELSE sms_consent_source END,
		sms_consent_at = CASE WHEN sms_consent_at IS NULL AND ? THEN ? ELSE sms_consent_at END
		WHERE id = ?`
	countWelcome       = `SELECT COUNT(*) FROM transactions WHERE program_id = ? AND customer_id = ? AND kind = 'welcome'`
	selectActiveCardID = `SELECT serial_number FROM cards WHERE program_id = ? AND customer_id = ? AND status = 'active'`
	insertCard         = `INSERT INTO cards (serial_number, merchant_id, program_id, customer_id, number, auth_token,
		balance, tier, status, version, pass_modified, created_at, updated_at, link_token, valid_until)
		VALUES (?, ?, ?, ?, ?, ?, 0, ?, 'active', 1, ?, ?, ?, ?, ?)`
	selectCard = `SELECT ` + cardColumns + ` FROM cards c JOIN customers u ON u.id = c.customer_id
		WHERE c.merchant_id = ? AND c.serial_number = ?`
	selectCardBySerial = `SELECT ` + cardColumns + ` FROM cards c JOIN customers u ON u.id = c.customer_id
		WHERE c.serial_number = ?`
	selectCardByNumber = `SELECT ` + cardColumns + ` FROM cards c JOIN customers u ON u.id = c.customer_id
		WHERE c.merchant_id = ? AND c.number = ?`
	listCards = `SELECT ` + cardColumns + ` FROM cards c JOIN customers u ON u.id = c.customer_id
		WHERE c.merchant_id = ? AND (? = '' OR c.program_id = ?) AND (? = '' OR c.status = ?)
		AND (c.created_at > ? OR (c.created_at = ? AND c.serial_number > ?))
		ORDER BY c.created_at, c.serial_number LIMIT ?`
	voidCard = `UPDATE cards SET status = 'voided', version = version + 1, updated_at = ?, voided_at = ?
		WHERE merchant_id = ? AND serial_number = ? AND status = 'active'`
)

// IssueCard returns the customer's active card in the program, issuing one
// (and creating the customer) if there is none. created tells which. It is
// idempotent per phone: a repeated call never makes a second card.
func (cs *CardStore) IssueCard(ctx context.Context, in IssueCard) (card loyalty.Card, created bool, err error) {
	// Retried on a unique violation: a concurrent issue to the same phone
	// (or a drawn card number that is taken) makes this one start over.
	err = cs.s.inTxRetry(ctx, func(tx *writeTx) error {
		card, created, err = cs.s.issueCard(ctx, tx, in)
		if err != nil || !created {
			return err
		}
		return cs.s.auditIn(ctx, tx, in.MerchantID, card.Number, in.ProgramID)
	})
	return card, created, err
}

// issueCard is IssueCard inside the caller's transaction.
func (s *Store) issueCard(ctx context.Context, tx *writeTx, in IssueCard) (card loyalty.Card, created bool, err error) {
	prog, err := s.program(ctx, tx, in.MerchantID, in.ProgramID)
	if err != nil {
		return card, false, err
	}
	cust, err := s.upsertCustomer(ctx, tx, in)
	if err != nil {
		return card, false, err
	}
	var serial string
	err = tx.QueryRowContext(ctx, selectActiveCardID, in.ProgramID, cust.ID).Scan(&serial)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		serial, err = s.insertCard(ctx, tx, prog, cust.ID, in.InitialAmount)
		created = true
	case err == nil && in.InitialAmount > 0:
		return card, false, fmt.Errorf("card %s: %w", serial, ErrCardExists)
	}
	if err != nil {
		return card, false, err
	}
	if card, err = scanCard(tx.QueryRowContext(ctx, selectCardBySerial, serial)); err != nil || !created {
		return card, created, err
	}
	return card, created, s.emitEvent(ctx, tx, card.MerchantID, EventCardIssued, map[string]any{"serial_number": card.SerialNumber,
		"number": card.Number, "program_id": card.ProgramID, "phone": card.Customer.Phone, "balance": card.Balance})
}

func (s *Store) upsertCustomer(ctx context.Context, tx *writeTx, in IssueCard) (loyalty.Customer, error) {
	now := s.nowUTC()
	c, err := scanCustomer(tx.QueryRowContext(ctx, selectCustomerByPhone, in.MerchantID, in.Phone))
	if errors.Is(err, ErrNotFound) {
		c = loyalty.Customer{ID: newID("cus"), MerchantID: in.MerchantID, Phone: in.Phone, Name: in.Name,
			Email: in.Email, CreatedAt: now}
		if in.SMSConsent != nil {
			c.SMSConsent, c.SMSConsentAt, c.SMSConsentSource = *in.SMSConsent, &now, "api"
		}
		_, err = tx.ExecContext(ctx, insertCustomer, c.ID, c.MerchantID, c.Phone, c.Name, c.Email,
			c.SMSConsent, c.SMSConsentAt, c.SMSConsentSource, c.CreatedAt, mathrand.IntN(10000))
		if err != nil {
			return c, fmt.Errorf("insert customer: %w", err)
		}
		return c, s.recordAPIConsent(ctx, tx, c, in.SMSConsent)
	}
	if err != nil {
		return c, err
	}
	// A known customer: fill blanks, never overwrite what is on file.
	given := in.SMSConsent != nil
	consent := given && *in.SMSConsent
	_, err = tx.ExecContext(ctx, fillCustomer, in.Name, in.Email, given, consent, given, given, now, c.ID)
	if err != nil {
		return c, fmt.Errorf("update customer: %w", err)
	}
	if c.SMSConsentAt != nil {
		return c, nil
	}
	return c, s.recordAPIConsent(ctx, tx, c, in.SMSConsent)
}

// insertCard makes a new card in prog for the customer and posts what the
// card starts with (loyalty.Opening): the program's welcome bonus, unless
// the customer already had it; a coupon's one coupon, valid until its
// date; a gift card's initial amount.
func (s *Store) insertCard(ctx context.Context, tx *writeTx, prog loyalty.Program, customerID string, initialAmount int64) (string, error) {
	now := s.nowUTC()
	validUntil, err := loyalty.CouponValidUntil(prog, now)
	if err != nil {
		return "", err
	}
	serial := strings.ToLower(rand.Text())
	token := rand.Text() + rand.Text() // 52 characters, 256 bits
	// A card number collision is possible (13 digits): the unique
	// violation makes IssueCard start over, drawing another. (Retrying
	// here would not do: PostgreSQL aborts a transaction on any error.)
	link := NewLinkToken()
	_, err = tx.ExecContext(ctx, insertCard, serial, prog.MerchantID, prog.ID, customerID,
		newCardNumber(), token, prog.Rules().FirstTier(), now.Unix(), now, now, link, validUntil)
	if err != nil {
		return "", fmt.Errorf("insert card: %w", err)
	}
	if _, err := tx.ExecContext(ctx, insertShortLink, link, serial, nil, now); err != nil {
		return "", fmt.Errorf("insert short link: %w", err)
	}
	if err := s.insertReferralCodeFor(ctx, tx, serial, prog.ID); err != nil {
		return "", err
	}
	// Only a program with a bonus needs to know whether the customer had it.
	var had int
	if prog.WelcomeBonus > 0 {
		if err := tx.QueryRowContext(ctx, countWelcome, prog.ID, customerID).Scan(&had); err != nil {
			return "", fmt.Errorf("check welcome bonus: %w", err)
		}
	}
	req, ok, err := loyalty.Opening(prog, had > 0, initialAmount)
	if err != nil || !ok {
		return serial, err
	}
	card := loyalty.Card{SerialNumber: serial, MerchantID: prog.MerchantID, ProgramID: prog.ID, CustomerID: customerID,
		Tier: prog.Rules().FirstTier(), Status: loyalty.CardActive, Version: 1, ValidUntil: validUntil}
	out, err := loyalty.Post(loyalty.State{Card: card, Program: prog}, req, now)
	if err == nil {
		_, err = s.saveOutcome(ctx, tx, card, out)
	}
	if err != nil {
		return "", fmt.Errorf("post the card's %s line: %w", req.Kind, err)
	}
	return serial, nil
}

// newCardNumber returns a 13-digit number: 12 random digits (the first not
// zero) and a Luhn check digit, so a mistyped number is caught at the till.
func newCardNumber() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(9e11))
	digits := fmt.Sprintf("%012d", n.Int64()+1e11)
	return digits + string('0'+luhnDigit(digits))
}

func luhnDigit(digits string) byte {
	sum := 0
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if (len(digits)-1-i)%2 == 0 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return byte((10 - sum%10) % 10)
}

// Card returns the merchant's card with the given serial number.
func (cs *CardStore) Card(ctx context.Context, merchantID, serial string) (loyalty.Card, error) {
	return scanCard(cs.s.read.QueryRowContext(ctx, selectCard, merchantID, serial))
}

// CardBySerial returns a card whoever owns it (for the wallet web service,
// which authenticates with the card's own token).
func (cs *CardStore) CardBySerial(ctx context.Context, serial string) (loyalty.Card, error) {
	return scanCard(cs.s.read.QueryRowContext(ctx, selectCardBySerial, serial))
}

// CardByNumber returns the merchant's card with the given barcode number.
func (cs *CardStore) CardByNumber(ctx context.Context, merchantID, number string) (loyalty.Card, error) {
	return scanCard(cs.s.read.QueryRowContext(ctx, selectCardByNumber, merchantID, number))
}

// CardFilter narrows Cards; empty fields match everything.
type CardFilter struct {
	ProgramID string
	Status    string
}

// Cards lists the merchant's cards in issue order after the cursor.
func (cs *CardStore) Cards(ctx context.Context, merchantID string, f CardFilter, after Cursor, limit int) ([]loyalty.Card, error) {
	rows, err := cs.s.read.QueryContext(ctx, listCards, merchantID, f.ProgramID, f.ProgramID, f.Status, f.Status,
		after.Time, after.Time, after.ID, limit)
	if err != nil {
		return nil, fmt.Errorf("list cards: %w", err)
	}
	defer rows.Close()
	var cards []loyalty.Card
	for rows.Next() {
		c, err := scanCard(rows)
		if err != nil {
			return nil, err
		}
		cards = append(cards, c)
	}
	return cards, rows.Err()
}

// VoidCard marks an active card voided and raises its version. Voiding a
// voided card changes nothing and is not an error.
func (cs *CardStore) VoidCard(ctx context.Context, merchantID, serial string) (loyalty.Card, error) {
	var card loyalty.Card
	err := cs.s.inTx(ctx, func(tx *writeTx) error {
		now := cs.s.nowUTC()
		res, err := tx.ExecContext(ctx, voidCard, now, now, merchantID, serial)
		if err != nil {
			return fmt.Errorf("void card: %w", err)
		}
		if card, err = scanCard(tx.QueryRowContext(ctx, selectCard, merchantID, serial)); err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return cs.s.queueCardChange(ctx, tx, merchantID, serial, card.Version, now)
		}
		return nil
	})
	return card, err
}

func scanCustomer(row scanner) (loyalty.Customer, error) {
	var c loyalty.Customer
	err := row.Scan(&c.ID, &c.MerchantID, &c.Phone, &c.Name, &c.Email, &c.SMSConsent, &c.SMSConsentAt,
		&c.SMSConsentSource, &c.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrNotFound
	}
	if err != nil {
		return c, fmt.Errorf("load customer: %w", err)
	}
	return c, nil
}

func scanCard(row scanner) (loyalty.Card, error) {
	var c loyalty.Card
	var modified int64
	u := &c.Customer
	err := row.Scan(&c.SerialNumber, &c.MerchantID, &c.ProgramID, &c.CustomerID, &c.Number, &c.AuthToken,
		&c.Balance, &c.Tier, &c.Status, &c.Version, &c.LifetimePoints, &c.LifetimeSpend, &c.LastPurchaseAt,
		&c.ChangeSeq, &modified, &c.Message, &c.LinkToken, &c.CreatedAt, &c.UpdatedAt, &c.VoidedAt,
		&c.Rewards, &c.ValidUntil, &c.RedeemedAt, &u.ID, &u.MerchantID, &u.Phone, &u.Name, &u.Email, &u.SMSConsent, &u.SMSConsentAt,
		&u.SMSConsentSource, &u.OptedOut, &u.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrNotFound
	}
	if err != nil {
		return c, fmt.Errorf("load card: %w", err)
	}
	c.PassModified = time.Unix(modified, 0).UTC()
	return c, nil
}

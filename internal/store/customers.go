package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

// CustomerStore keeps the merchant's view of its customers: the console's
// search of cards by customer, the API's search of customers, the customer
// with their cards, consents and referrals, changes, and the customer's
// rights: an export of everything held, and erasure. Reach it with
// Store.Customers.
type CustomerStore struct{ s *Store }

// Customers returns the customers' store.
func (s *Store) Customers() *CustomerStore { return &CustomerStore{s} }

// CustomerQuery is what a search matches; empty fields match nothing.
type CustomerQuery struct {
	// Phone matches a customer's phone number exactly (E.164).
	Phone string
	// PhoneDigits matches a run of digits anywhere in a phone number
	// ("4567", the last four, or "5554" from its middle).
	PhoneDigits string
	// Number matches a card number exactly.
	Number string
	// Name matches any part of a name, as written or with a capital
	// first letter.
	Name string
}

const (
	searchCards = `SELECT ` + cardColumns + ` FROM cards c JOIN customers u ON u.id = c.customer_id
		WHERE c.merchant_id = ? AND (
			(? <> '' AND u.phone = ?) OR
			(? <> '' AND u.phone LIKE ? ESCAPE '\') OR
			(? <> '' AND c.number = ?) OR
			(? <> '' AND (u.name LIKE ? ESCAPE '\' OR u.name LIKE ? ESCAPE '\')))
		ORDER BY c.status, u.name, c.created_at DESC LIMIT ?`
	selectCustomerCards = `SELECT ` + cardColumns + ` FROM cards c JOIN customers u ON u.id = c.customer_id
		WHERE c.merchant_id = ? AND c.customer_id = ? ORDER BY c.status, c.created_at DESC`
)

// Search returns up to limit cards of the merchant whose card or customer
// matches q, active cards first.
func (cs *CustomerStore) Search(ctx context.Context, merchantID string, q CustomerQuery, limit int) ([]loyalty.Card, error) {
	like := func(s string) string { return "%" + escapeLike(s) + "%" }
	name, title := "", ""
	if q.Name != "" {
		r := []rune(q.Name)
		r[0] = unicode.ToUpper(r[0])
		name, title = like(q.Name), like(string(r))
	}
	digits := ""
	if q.PhoneDigits != "" {
		digits = like(q.PhoneDigits)
	}
	return cs.cards(ctx, searchCards, merchantID, q.Phone, q.Phone, digits, digits, q.Number, q.Number,
		name, name, title, limit)
}

// CustomerCards returns every card of the merchant's customer, active
// first; none for a customer of another merchant.
func (cs *CustomerStore) CustomerCards(ctx context.Context, merchantID, customerID string) ([]loyalty.Card, error) {
	return cs.cards(ctx, selectCustomerCards, merchantID, customerID)
}

func (cs *CustomerStore) cards(ctx context.Context, query string, args ...any) ([]loyalty.Card, error) {
	rows, err := cs.s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("search cards: %w", err)
	}
	defer rows.Close()
	var out []loyalty.Card
	for rows.Next() {
		c, err := scanCard(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// escapeLike makes s match itself in a LIKE pattern with ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(s)
}

// ErrErased refuses a change to a customer whose data was erased.
var ErrErased = errors.New("the customer's personal data was erased")

// CustomerFilter narrows Find: Phone matches exactly (E.164), Q a part
// of the name, phone or e-mail.
type CustomerFilter struct {
	Phone, Q string
}

// CustomerDetail is a customer with what hangs on them.
type CustomerDetail struct {
	Customer  loyalty.Customer
	Cards     []loyalty.Card
	Consents  []loyalty.ConsentRecord
	Referrals []loyalty.Referral
	// LastPurchase is the customer's latest earn line on any card.
	LastPurchase *loyalty.Transaction
}

// CustomerChange is a PATCH of a customer: nil fields stay as they are.
type CustomerChange struct {
	Name, Email, Birthday *string
	// Consents are appended as they are (each with its source and
	// evidence), after the fields change.
	Consents []loyalty.ConsentRecord
}

const (
	customerColumns = `u.id, u.merchant_id, u.phone, u.name, u.email, u.sms_consent, u.sms_consent_at,
		u.sms_consent_source, u.opted_out_at IS NOT NULL, u.created_at, u.birthday, u.erased_at`
	selectCustomerByID = `SELECT ` + customerColumns + ` FROM customers u WHERE u.merchant_id = ? AND u.id = ?`
	searchCustomers    = `SELECT ` + customerColumns + ` FROM customers u WHERE u.merchant_id = ? AND u.erased_at IS NULL
		AND (? = '' OR u.phone = ?)
		AND (? = '' OR LOWER(u.name) LIKE ? ESCAPE '\' OR u.name LIKE ? ESCAPE '\' OR u.name LIKE ? ESCAPE '\'
			OR u.phone LIKE ? ESCAPE '\' OR LOWER(u.email) LIKE ? ESCAPE '\')
		AND (u.created_at > ? OR (u.created_at = ? AND u.id > ?))
		ORDER BY u.created_at, u.id LIMIT ?`
	customerCards = `SELECT ` + cardColumns + ` FROM cards c JOIN customers u ON u.id = c.customer_id
		WHERE c.merchant_id = ? AND c.customer_id = ? ORDER BY c.created_at, c.serial_number`
	lastPurchase = `SELECT ` + transactionColumns + ` FROM transactions WHERE serial_number IN
		(SELECT serial_number FROM cards WHERE merchant_id = ? AND customer_id = ?)
		AND kind = 'earn' ORDER BY created_at DESC, id DESC LIMIT 1`
	updateCustomerFields = `UPDATE customers SET name = ?, email = ?, birthday = ? WHERE id = ?`
)

// Find lists the merchant's customers that match q, in the order they
// joined, after the cursor. Erased customers are not found.
func (cs *CustomerStore) Find(ctx context.Context, merchantID string, q CustomerFilter, after Cursor, limit int) ([]loyalty.Customer, error) {
	// SQLite's LOWER folds ASCII only: besides the lower-case form, the
	// name is matched as typed and with a capital first letter, which is
	// how names are written ("стёр" finds "Стёрова").
	var like, asTyped, capital string
	if q.Q != "" {
		pattern := func(s string) string { return "%" + escapeLike(s) + "%" }
		lower := strings.ToLower(q.Q)
		r := []rune(lower)
		like, asTyped, capital = pattern(lower), pattern(q.Q), pattern(strings.ToUpper(string(r[:1]))+string(r[1:]))
	}
	rows, err := cs.s.read.QueryContext(ctx, searchCustomers, merchantID, q.Phone, q.Phone, like, like, asTyped, capital,
		like, like, after.Time, after.Time, after.ID, limit)
	if err != nil {
		return nil, fmt.Errorf("search customers: %w", err)
	}
	defer rows.Close()
	out := []loyalty.Customer{}
	for rows.Next() {
		c, err := scanFullCustomer(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Customer returns the merchant's customer with their cards, consent
// records, referrals and last purchase.
func (cs *CustomerStore) Customer(ctx context.Context, merchantID, id string) (CustomerDetail, error) {
	return customerDetail(ctx, cs.s.read, merchantID, id)
}

func customerDetail(ctx context.Context, q queryer, merchantID, id string) (CustomerDetail, error) {
	var d CustomerDetail
	var err error
	if d.Customer, err = scanFullCustomer(q.QueryRowContext(ctx, selectCustomerByID, merchantID, id)); err != nil {
		return d, err
	}
	if d.Cards, err = cardsOf(ctx, q, merchantID, id); err != nil {
		return d, err
	}
	if d.Consents, err = listConsentRecords(ctx, q, merchantID, id); err != nil {
		return d, err
	}
	if d.Referrals, err = customerReferralsOf(ctx, q, merchantID, id); err != nil {
		return d, err
	}
	t, err := scanTransaction(q.QueryRowContext(ctx, lastPurchase, merchantID, id))
	switch {
	case err == nil:
		d.LastPurchase = &t
	case !errors.Is(err, sql.ErrNoRows):
		return d, err
	}
	return d, nil
}

func cardsOf(ctx context.Context, q queryer, merchantID, customerID string) ([]loyalty.Card, error) {
	rows, err := q.QueryContext(ctx, customerCards, merchantID, customerID)
	if err != nil {
		return nil, fmt.Errorf("list cards: %w", err)
	}
	defer rows.Close()
	out := []loyalty.Card{}
	for rows.Next() {
		c, err := scanCard(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Update changes the customer's fields and appends consent records in one
// transaction; the cards show the new name from their next version.
func (cs *CustomerStore) Update(ctx context.Context, merchantID, id string, ch CustomerChange) (CustomerDetail, error) {
	s := cs.s
	var d CustomerDetail
	err := s.inTx(ctx, func(tx *writeTx) error {
		c, err := scanFullCustomer(tx.QueryRowContext(ctx, selectCustomerByID, merchantID, id))
		if err != nil {
			return err
		}
		if c.ErasedAt != nil {
			return ErrErased
		}
		name, email, birthday := c.Name, c.Email, c.Birthday
		for dst, src := range map[*string]*string{&name: ch.Name, &email: ch.Email, &birthday: ch.Birthday} {
			if src != nil {
				*dst = *src
			}
		}
		if name != c.Name || email != c.Email || birthday != c.Birthday {
			if _, err := tx.ExecContext(ctx, updateCustomerFields, name, email, birthday, id); err != nil {
				return fmt.Errorf("update customer: %w", err)
			}
			if name != c.Name {
				// The pass shows the holder's name: each card gets a new version.
				if err := s.touchCards(ctx, tx, merchantID, id); err != nil {
					return err
				}
			}
		}
		for _, r := range ch.Consents {
			r.CustomerID = id
			if err := s.appendConsent(ctx, tx, merchantID, r); err != nil {
				return err
			}
		}
		d, err = customerDetail(ctx, tx, merchantID, id)
		return err
	})
	return d, err
}

const bumpCard = `UPDATE cards SET version = version + 1, updated_at = ? WHERE serial_number = ? RETURNING version`

// touchCards raises the version of the customer's active cards and queues
// their change, so wallets fetch the pass again.
func (s *Store) touchCards(ctx context.Context, tx *writeTx, merchantID, customerID string) error {
	rows, err := tx.QueryContext(ctx, `SELECT serial_number FROM cards WHERE merchant_id = ? AND customer_id = ?
		AND status = 'active'`, merchantID, customerID)
	if err != nil {
		return fmt.Errorf("list cards: %w", err)
	}
	var serials []string
	for rows.Next() {
		var serial string
		if err := rows.Scan(&serial); err != nil {
			rows.Close()
			return err
		}
		serials = append(serials, serial)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	now := s.nowUTC()
	for _, serial := range serials {
		if err := lockRows(ctx, tx, s.dialect.lockCard, serial); err != nil {
			return err
		}
		var version int64
		if err := tx.QueryRowContext(ctx, bumpCard, now, serial).Scan(&version); err != nil {
			return fmt.Errorf("bump card: %w", err)
		}
		if err := s.queueCardChange(ctx, tx, merchantID, serial, version, now); err != nil {
			return err
		}
	}
	return nil
}

func scanFullCustomer(row scanner) (loyalty.Customer, error) {
	var c loyalty.Customer
	err := row.Scan(&c.ID, &c.MerchantID, &c.Phone, &c.Name, &c.Email, &c.SMSConsent, &c.SMSConsentAt,
		&c.SMSConsentSource, &c.OptedOut, &c.CreatedAt, &c.Birthday, &c.ErasedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrNotFound
	}
	if err != nil {
		return c, fmt.Errorf("load customer: %w", err)
	}
	if c.ErasedAt != nil {
		t := c.ErasedAt.UTC()
		c.ErasedAt = &t
	}
	return c, nil
}

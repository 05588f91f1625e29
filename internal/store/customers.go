package store

import (
	"context"
	"fmt"
	"strings"
	"unicode"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

// CustomerStore finds a merchant's customers and their cards, for people
// at the merchant (the console). Reach it with Store.Customers.
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

package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"math/big"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

const linkAlphabet = "0123456789abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"

// linkTokenLength keeps https://short.domain/c/<token> within 30
// characters for a short domain while leaving 70 random bits.
const linkTokenLength = 12

// NewLinkToken returns a random short link token.
func NewLinkToken() string {
	b := make([]byte, linkTokenLength)
	n := big.NewInt(int64(len(linkAlphabet)))
	for i := range b {
		d, _ := rand.Int(rand.Reader, n)
		b[i] = linkAlphabet[d.Int64()]
	}
	return string(b)
}

const (
	insertShortLink = `INSERT INTO short_links (token, serial_number, recipient_id, created_at) VALUES (?, ?, ?, ?)`
	selectShortLink = `SELECT l.serial_number, COALESCE(l.recipient_id, 0), c.merchant_id FROM short_links l
		JOIN cards c ON c.serial_number = l.serial_number WHERE l.token = ?`
	countOpen = `UPDATE short_links SET opens = opens + 1,
		first_opened_at = COALESCE(first_opened_at, ?) WHERE token = ?`
	markClicked = `UPDATE campaign_recipients SET clicked_at = COALESCE(clicked_at, ?) WHERE id = ?`
)

// ShortLink is what a short link token leads to.
type ShortLink struct {
	Token       string
	Card        loyalty.Card
	RecipientID int64 // the campaign recipient it was sent to; 0 for the card's own link
}

// ResolveLink returns the card behind a token, or ErrNotFound.
func (cs *CardStore) ResolveLink(ctx context.Context, token string) (ShortLink, error) {
	var serial, merchant string
	var recipient int64
	err := cs.s.read.QueryRowContext(ctx, selectShortLink, token).Scan(&serial, &recipient, &merchant)
	if errors.Is(err, sql.ErrNoRows) {
		return ShortLink{}, ErrNotFound
	}
	if err != nil {
		return ShortLink{}, fmt.Errorf("resolve link: %w", err)
	}
	card, err := cs.Card(ctx, merchant, serial)
	return ShortLink{Token: token, Card: card, RecipientID: recipient}, err
}

// RecordOpen counts an open of a link and attributes it to its recipient.
func (cs *CardStore) RecordOpen(ctx context.Context, l ShortLink) error {
	return cs.s.inTx(ctx, func(tx *writeTx) error {
		now := cs.s.nowUTC()
		if _, err := tx.ExecContext(ctx, countOpen, now, l.Token); err != nil {
			return fmt.Errorf("count open: %w", err)
		}
		if l.RecipientID != 0 {
			if _, err := tx.ExecContext(ctx, markClicked, now, l.RecipientID); err != nil {
				return fmt.Errorf("mark clicked: %w", err)
			}
		}
		return nil
	})
}

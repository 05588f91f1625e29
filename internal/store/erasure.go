package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

// CustomerExport is everything held about a customer (152-ФЗ art. 14).
type CustomerExport struct {
	CustomerDetail
	// Transactions are the ledger lines of each card, oldest first.
	Transactions map[string][]loyalty.Transaction
	// Texts are the consent texts the records name, by version.
	Texts map[string]string
	// Devices are the wallets that followed the customer's cards.
	Devices []ExportDevice
	// Messages are the campaign texts planned or sent to the customer.
	Messages []ExportMessage
}

// ExportDevice is one wallet registration of a card (its push token,
// a credential of the device, is left out).
type ExportDevice struct {
	SerialNumber, Channel   string
	CreatedAt, RegisteredAt time.Time
	UnregisteredAt          *time.Time
}

// ExportMessage is one campaign's place for the customer.
type ExportMessage struct {
	CampaignID, CampaignName, Status string
	SentAt, DeliveredAt, ClickedAt   *time.Time
}

const (
	exportLines = `SELECT ` + transactionColumns + ` FROM transactions WHERE serial_number = ? ORDER BY seq`
	exportTexts = `SELECT DISTINCT t.version, t.text FROM consent_texts t JOIN consents k ON k.text_version = t.version
		WHERE k.merchant_id = ? AND k.customer_id = ?`
	exportDevices = `SELECT r.serial_number, r.channel, r.created_at, r.registered_at, r.unregistered_at
		FROM registrations r JOIN cards c ON c.serial_number = r.serial_number
		WHERE c.merchant_id = ? AND c.customer_id = ? ORDER BY r.created_at`
	exportMessages = `SELECT m.id, m.name, r.status, r.sent_at, r.delivered_at, r.clicked_at
		FROM campaign_recipients r JOIN campaigns m ON m.id = r.campaign_id
		WHERE m.merchant_id = ? AND r.customer_id = ? ORDER BY r.id`
)

// Export gathers everything held about the merchant's customer.
func (cs *CustomerStore) Export(ctx context.Context, merchantID, id string) (CustomerExport, error) {
	q := cs.s.read
	var e CustomerExport
	var err error
	if e.CustomerDetail, err = customerDetail(ctx, q, merchantID, id); err != nil {
		return e, err
	}
	e.Transactions = map[string][]loyalty.Transaction{}
	for _, c := range e.Cards {
		lines, err := queryAll(ctx, q, exportLines, []any{c.SerialNumber}, scanTransaction)
		if err != nil {
			return e, err
		}
		e.Transactions[c.SerialNumber] = lines
	}
	e.Texts = map[string]string{}
	texts, err := queryAll(ctx, q, exportTexts, []any{merchantID, id}, func(r scanner) ([2]string, error) {
		var v [2]string
		return v, r.Scan(&v[0], &v[1])
	})
	if err != nil {
		return e, err
	}
	for _, t := range texts {
		e.Texts[t[0]] = t[1]
	}
	if e.Devices, err = queryAll(ctx, q, exportDevices, []any{merchantID, id}, func(r scanner) (ExportDevice, error) {
		var d ExportDevice
		return d, r.Scan(&d.SerialNumber, &d.Channel, &d.CreatedAt, &d.RegisteredAt, &d.UnregisteredAt)
	}); err != nil {
		return e, err
	}
	e.Messages, err = queryAll(ctx, q, exportMessages, []any{merchantID, id}, func(r scanner) (ExportMessage, error) {
		var m ExportMessage
		return m, r.Scan(&m.CampaignID, &m.CampaignName, &m.Status, &m.SentAt, &m.DeliveredAt, &m.ClickedAt)
	})
	return e, err
}

// queryAll runs q and scans every row with scan.
func queryAll[T any](ctx context.Context, q queryer, query string, args []any, scan func(scanner) (T, error)) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

const (
	eraseCustomer = `UPDATE customers SET phone = ?, name = '', email = '', birthday = '', sms_consent = FALSE,
		sms_consent_source = '', opted_out_at = COALESCE(opted_out_at, ?), erased_at = ? WHERE id = ?`
	eraseConsentTrail = `UPDATE consents SET ip = '', user_agent = '', evidence = '' WHERE customer_id = ?`
	voidForErasure    = `UPDATE cards SET status = 'voided', version = version + 1, updated_at = ?,
		voided_at = COALESCE(voided_at, ?), message = '' WHERE serial_number = ? RETURNING version`
	eraseRegistrations = `DELETE FROM registrations WHERE serial_number = ?`
	eraseFCMTokens     = `DELETE FROM fcm_tokens WHERE serial_number = ?`
	erasePassFile      = `DELETE FROM pass_files WHERE serial_number = ?`
	eraseOrphanDevices = `DELETE FROM devices WHERE NOT EXISTS (SELECT 1 FROM registrations r WHERE r.device_id = devices.id)`
	eraseJoinCodes     = `DELETE FROM join_codes WHERE phone_hash = ?`
	// A card's life in «Кошелёк» holds the phone and the profile Кошелёк
	// sent; the channel answers keep the request they came in.
	eraseKoshelekCard     = `DELETE FROM koshelek_cards WHERE serial_number = ?`
	eraseKoshelekConsents = `UPDATE koshelek_consents SET evidence = '' WHERE customer_id = ?`
	scrubReasons          = `UPDATE campaign_recipients SET reason = REPLACE(reason, ?, '[erased]') WHERE customer_id = ?`
	selectHookPayloads    = `SELECT id, payload FROM webhook_deliveries WHERE merchant_id = ? AND payload LIKE ?`
	updateHookPayload     = `UPDATE webhook_deliveries SET payload = ? WHERE id = ?`
	// Every stored answer that quotes a customer (a card's JSON) quotes
	// their phone; the answers are bytes, which each dialect searches its way.
	selectAnswersSQLite = `SELECT key, response FROM idempotency_keys WHERE merchant_id = ? AND CAST(response AS TEXT) LIKE ?`
	updateAnswer        = `UPDATE idempotency_keys SET response = ? WHERE merchant_id = ? AND key = ?`
)

// selectAnswersPostgres is selectAnswersSQLite in PostgreSQL's bytes.
var selectAnswersPostgres = `SELECT key, response FROM idempotency_keys WHERE merchant_id = ?
	AND position(CAST(? AS BYTEA) in response) > 0`

// Erase erases the merchant's customer on their request: name, phone,
// e-mail and birthday are blanked (the phone replaced by a random
// placeholder), the consent trail loses its addresses and user agents
// (a withdrawal of every channel is appended), the cards are voided and
// lose their devices, push tokens and cached passes, and stored answers
// and webhook payloads lose the values. Ledger lines and figures stay
// with the anonymous customer, so balances and reports still add up.
// Erasing an erased customer changes nothing.
func (cs *CustomerStore) Erase(ctx context.Context, merchantID, id string) error {
	s := cs.s
	return s.inTx(ctx, func(tx *writeTx) error {
		c, err := scanFullCustomer(tx.QueryRowContext(ctx, selectCustomerByID, merchantID, id))
		if err != nil || c.ErasedAt != nil {
			return err
		}
		now := s.nowUTC()
		cards, err := cardsOf(ctx, tx, merchantID, id)
		if err != nil {
			return err
		}
		for _, ch := range loyalty.ConsentChannels {
			err := s.appendConsent(ctx, tx, merchantID, loyalty.ConsentRecord{CustomerID: id, Channel: ch,
				Source: loyalty.SourceAPI, Evidence: "erasure on request", CreatedAt: now})
			if err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, eraseCustomer, "erased:"+newID("cus"), now, now, id); err != nil {
			return fmt.Errorf("erase customer: %w", err)
		}
		if _, err := tx.ExecContext(ctx, eraseConsentTrail, id); err != nil {
			return fmt.Errorf("erase consent trail: %w", err)
		}
		if _, err := tx.ExecContext(ctx, eraseKoshelekConsents, id); err != nil {
			return fmt.Errorf("erase koshelek consent trail: %w", err)
		}
		for _, card := range cards {
			if err := s.eraseCard(ctx, tx, merchantID, card.SerialNumber, now); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, eraseOrphanDevices); err != nil {
			return fmt.Errorf("erase devices: %w", err)
		}
		if _, err := tx.ExecContext(ctx, eraseJoinCodes, s.phoneHash(c.Phone)); err != nil {
			return fmt.Errorf("erase join codes: %w", err)
		}
		if _, err := tx.ExecContext(ctx, scrubReasons, c.Phone, id); err != nil {
			return fmt.Errorf("scrub campaign reasons: %w", err)
		}
		return s.scrubStored(ctx, tx, merchantID, c)
	})
}

// eraseCard voids a card and drops what ties it to a person's devices.
func (s *Store) eraseCard(ctx context.Context, tx *writeTx, merchantID, serial string, now time.Time) error {
	if err := lockRows(ctx, tx, s.dialect.lockCard, serial); err != nil {
		return err
	}
	var version int64
	if err := tx.QueryRowContext(ctx, voidForErasure, now, now, serial).Scan(&version); err != nil {
		return fmt.Errorf("void card: %w", err)
	}
	for _, q := range []string{eraseRegistrations, eraseFCMTokens, erasePassFile, eraseKoshelekCard} {
		if _, err := tx.ExecContext(ctx, q, serial); err != nil {
			return fmt.Errorf("erase card %s: %w", serial, err)
		}
	}
	// Google's copy of the card is patched to the voided, nameless card.
	return s.queueCardChange(ctx, tx, merchantID, serial, version, now)
}

// scrubStored blanks the customer's phone, name and e-mail where the
// merchant's stored API answers and webhook payloads quote them.
func (s *Store) scrubStored(ctx context.Context, tx *writeTx, merchantID string, c loyalty.Customer) error {
	var secrets [][]byte
	for _, v := range []string{c.Phone, c.Name, c.Email} {
		if v == "" {
			continue
		}
		quoted, err := json.Marshal(v)
		if err != nil {
			return err
		}
		secrets = append(secrets, quoted)
	}
	scrub := func(b []byte) ([]byte, bool) {
		changed := false
		for _, sec := range secrets {
			if bytes.Contains(b, sec) {
				b, changed = bytes.ReplaceAll(b, sec, []byte(`""`)), true
			}
		}
		return b, changed
	}
	like := "%" + string(secrets[0]) + "%" // the phone, quoted
	hooks, err := queryAll(ctx, tx, selectHookPayloads, []any{merchantID, like}, func(r scanner) (struct {
		id   int64
		body string
	}, error) {
		var v struct {
			id   int64
			body string
		}
		return v, r.Scan(&v.id, &v.body)
	})
	if err != nil {
		return err
	}
	for _, h := range hooks {
		if b, changed := scrub([]byte(h.body)); changed {
			if _, err := tx.ExecContext(ctx, updateHookPayload, string(b), h.id); err != nil {
				return fmt.Errorf("scrub webhook payload: %w", err)
			}
		}
	}
	answersQuery, pattern := selectAnswersSQLite, any(like)
	if s.dialect.name == postgresDialect.name {
		answersQuery, pattern = selectAnswersPostgres, secrets[0]
	}
	answers, err := queryAll(ctx, tx, answersQuery, []any{merchantID, pattern}, func(r scanner) (struct {
		key  string
		body []byte
	}, error) {
		var v struct {
			key  string
			body []byte
		}
		return v, r.Scan(&v.key, &v.body)
	})
	if err != nil {
		return err
	}
	for _, a := range answers {
		if b, changed := scrub(a.body); changed {
			if _, err := tx.ExecContext(ctx, updateAnswer, b, merchantID, a.key); err != nil {
				return fmt.Errorf("scrub stored answer: %w", err)
			}
		}
	}
	return nil
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

// ChannelKoshelek names «Кошелёк» (Cardsmobile) in targets, retries and
// registrations: a card issued into the app counts as one install on it.
const ChannelKoshelek = "koshelek"

// KoshelekStore keeps the «Кошелёк» integration: each program's logins,
// the cards issued into the app, the consents the app reports and the
// messages sent through its Push API (koshelek_push.go). Every lookup of
// the partner API is scoped to one program, so a program's login never
// sees another program's cards.
type KoshelekStore struct{ s *Store }

// Koshelek returns the store of the «Кошелёк» integration.
func (s *Store) Koshelek() *KoshelekStore { return &KoshelekStore{s} }

// KoshelekSettings is a program's integration as stored. PasswordHash is
// an argon2id hash (internal/password) of the password Кошелёк
// calls us with; PushPassword is the Push API password sealed with the
// server's key (credential.Box). Neither ever leaves the server.
type KoshelekSettings struct {
	ProgramID    string
	MerchantID   string
	Exists       bool // a row is stored: the merchant has set it up once
	Enabled      bool
	Login        string
	PasswordHash string
	PushLogin    string
	PushPassword string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// PushConfigured reports whether messages can go out through the Push API.
func (k KoshelekSettings) PushConfigured() bool { return k.PushLogin != "" && k.PushPassword != "" }

// ErrKoshelekBlocked is a phone or card whose card in the program is
// voided: the program does not issue another into Кошелёк while it is.
var ErrKoshelekBlocked = errors.New("the card is blocked")

// ErrKoshelekPhoneMismatch refuses a change of a card's phone: a card
// belongs to one phone number, and a Кошелёк account to one phone.
var ErrKoshelekPhoneMismatch = errors.New("the phone belongs to another card")

const koshelekSettingsColumns = `program_id, merchant_id, enabled, login, password_hash, push_login, push_password,
	created_at, updated_at`

const (
	selectKoshelekSettings = `SELECT ` + koshelekSettingsColumns + ` FROM koshelek_programs
		WHERE merchant_id = ? AND program_id = ?`
	selectKoshelekByProgram = `SELECT ` + koshelekSettingsColumns + ` FROM koshelek_programs WHERE program_id = ?`
	insertKoshelekSettings  = `INSERT INTO koshelek_programs (` + koshelekSettingsColumns + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
	updateKoshelekSettings = `UPDATE koshelek_programs SET enabled = ?, login = ?, password_hash = ?, push_login = ?,
		push_password = ?, updated_at = ? WHERE program_id = ?`
	selectProgramByID = `SELECT ` + programColumns + ` FROM programs WHERE id = ?`
	selectMerchantOf  = `SELECT country FROM merchants WHERE id = ?`

	// The card a phone or an e-mail finds in a program: the active one,
	// else the newest voided one (blocked).
	selectKoshelekByPhone = `SELECT c.serial_number, c.status FROM cards c JOIN customers u ON u.id = c.customer_id
		WHERE c.program_id = ? AND u.phone = ?
		ORDER BY CASE WHEN c.status = 'active' THEN 0 ELSE 1 END, c.created_at DESC LIMIT 1`
	selectKoshelekByEmail = `SELECT c.serial_number, c.status FROM cards c JOIN customers u ON u.id = c.customer_id
		WHERE c.program_id = ? AND u.email <> '' AND LOWER(u.email) = LOWER(?)
		ORDER BY CASE WHEN c.status = 'active' THEN 0 ELSE 1 END, c.created_at DESC LIMIT 1`
	selectProgramCardByNumber = `SELECT ` + cardColumns + ` FROM cards c JOIN customers u ON u.id = c.customer_id
		WHERE c.program_id = ? AND c.number = ?`

	selectKoshelekCard = `SELECT removed_at IS NULL FROM koshelek_cards WHERE serial_number = ?`
	insertKoshelekCard = `INSERT INTO koshelek_cards (serial_number, merchant_id, program_id, msisdn, birth_date, profile,
		issued_at, sent_version, sent_balance, sent_message, sent_state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	// A card issued into Кошелёк again (after the Push API lost the
	// phone) starts from what it shows now.
	reissueKoshelekCard = `UPDATE koshelek_cards SET removed_at = NULL, msisdn = ?, issued_at = ?, sent_version = ?,
		sent_balance = ?, sent_message = ?, sent_state = ? WHERE serial_number = ?`
	updateKoshelekProfile = `UPDATE koshelek_cards SET birth_date = CASE WHEN ? = '' THEN birth_date ELSE ? END,
		profile = ? WHERE serial_number = ?`
	updateCustomerProfile = `UPDATE customers SET name = CASE WHEN ? = '' THEN name ELSE ? END,
		email = CASE WHEN ? = '' THEN email ELSE ? END WHERE id = ?`

	insertKoshelekConsent = `INSERT INTO koshelek_consents (merchant_id, customer_id, serial_number, channel, granted,
		source, evidence, created_at) VALUES (?, ?, ?, ?, ?, 'koshelek', ?, ?)`
	selectKoshelekCardView = `SELECT k.serial_number, c.number, k.msisdn, k.issued_at, k.removed_at
		FROM koshelek_cards k JOIN cards c ON c.serial_number = k.serial_number
		WHERE c.merchant_id = ? AND k.serial_number = ?`
	selectKoshelekMessages = `SELECT message_id, push_type, title, body, state, created_at, updated_at, delivered_at, opened_at
		FROM koshelek_messages WHERE serial_number = ? ORDER BY created_at DESC, message_id LIMIT ?`
	selectKoshelekConsents = `SELECT channel, granted, source, created_at FROM koshelek_consents
		WHERE serial_number = ? ORDER BY id DESC LIMIT ?`
	selectCardExists = `SELECT COUNT(*) FROM cards WHERE merchant_id = ? AND serial_number = ?`
)

// Settings returns the integration of each of the merchant's programs that
// has one, by program id.
func (k *KoshelekStore) Settings(ctx context.Context, merchantID string, programIDs ...string) (map[string]KoshelekSettings, error) {
	out := make(map[string]KoshelekSettings, len(programIDs))
	for _, id := range programIDs {
		ks, err := scanKoshelekSettings(k.s.read.QueryRowContext(ctx, selectKoshelekSettings, merchantID, id))
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[id] = ks
	}
	return out, nil
}

func scanKoshelekSettings(row scanner) (KoshelekSettings, error) {
	var ks KoshelekSettings
	err := row.Scan(&ks.ProgramID, &ks.MerchantID, &ks.Enabled, &ks.Login, &ks.PasswordHash, &ks.PushLogin,
		&ks.PushPassword, &ks.CreatedAt, &ks.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return ks, ErrNotFound
	}
	if err != nil {
		return ks, fmt.Errorf("load koshelek settings: %w", err)
	}
	ks.Exists = true
	return ks, nil
}

// UpdateProgram changes a program and its integration in one
// transaction. program, when not nil, changes the program as
// Store.UpdateProgram does (a new version, every card refreshed);
// koshelek changes the stored settings (or the zero settings of a
// program that has none, with ProgramID and MerchantID set) and may
// refuse by returning an error, which UpdateProgram returns unchanged. A
// program of another merchant is ErrNotFound.
func (k *KoshelekStore) UpdateProgram(ctx context.Context, merchantID, programID string, program func(*loyalty.Program) error,
	koshelek func(*KoshelekSettings) error) (p loyalty.Program, ks KoshelekSettings, err error) {
	s := k.s
	err = s.inTx(ctx, func(tx *writeTx) error {
		var err error
		if program != nil {
			p, err = s.updateProgram(ctx, tx, merchantID, programID, program)
		} else {
			p, err = s.lockedProgram(ctx, tx, merchantID, programID)
		}
		if err != nil {
			return err
		}
		ks, err = scanKoshelekSettings(tx.QueryRowContext(ctx, selectKoshelekSettings, merchantID, programID))
		if errors.Is(err, ErrNotFound) {
			ks, err = KoshelekSettings{ProgramID: programID, MerchantID: merchantID}, nil
		}
		if err != nil {
			return err
		}
		if err := koshelek(&ks); err != nil {
			return err
		}
		now := s.nowUTC()
		ks.UpdatedAt = now
		if !ks.Exists {
			ks.Exists, ks.CreatedAt = true, now
			_, err = tx.ExecContext(ctx, insertKoshelekSettings, programID, merchantID, ks.Enabled, ks.Login,
				ks.PasswordHash, ks.PushLogin, ks.PushPassword, ks.CreatedAt, ks.UpdatedAt)
		} else {
			_, err = tx.ExecContext(ctx, updateKoshelekSettings, ks.Enabled, ks.Login, ks.PasswordHash, ks.PushLogin,
				ks.PushPassword, ks.UpdatedAt, programID)
		}
		if err != nil {
			return fmt.Errorf("save koshelek settings: %w", err)
		}
		return nil
	})
	return p, ks, err
}

// KoshelekProgram is what the partner API needs of a program: its
// integration, the program itself and its merchant's country (for phone
// numbers).
type KoshelekProgram struct {
	Settings KoshelekSettings
	Program  loyalty.Program
	Country  string
}

// Program returns a program's integration, whoever owns the program (the
// partner API knows programs by the id in its URL, and checks the login
// next). A program without one is ErrNotFound.
func (k *KoshelekStore) Program(ctx context.Context, programID string) (KoshelekProgram, error) {
	var kp KoshelekProgram
	var err error
	if kp.Settings, err = scanKoshelekSettings(k.s.read.QueryRowContext(ctx, selectKoshelekByProgram, programID)); err != nil {
		return kp, err
	}
	if kp.Program, err = scanProgram(k.s.read.QueryRowContext(ctx, selectProgramByID, programID)); err != nil {
		return kp, err
	}
	if err := k.s.read.QueryRowContext(ctx, selectMerchantOf, kp.Program.MerchantID).Scan(&kp.Country); err != nil {
		return kp, fmt.Errorf("load merchant: %w", err)
	}
	return kp, nil
}

// Find returns the program's card of the customer with the phone (E.164),
// or, when the phone finds none, with the e-mail: the search of the
// partner API, whose parameters are combined with OR. Either may be
// empty. A phone is a verified identifier and decides before an e-mail.
// A match whose card is voided is ErrKoshelekBlocked; no match is
// ErrNotFound.
func (k *KoshelekStore) Find(ctx context.Context, programID, phone, email string) (loyalty.Card, error) {
	for _, q := range []struct{ query, value string }{{selectKoshelekByPhone, phone}, {selectKoshelekByEmail, email}} {
		if q.value == "" {
			continue
		}
		var serial, status string
		err := k.s.read.QueryRowContext(ctx, q.query, programID, q.value).Scan(&serial, &status)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return loyalty.Card{}, fmt.Errorf("find card: %w", err)
		}
		if status != loyalty.CardActive {
			return loyalty.Card{}, ErrKoshelekBlocked
		}
		return scanCard(k.s.read.QueryRowContext(ctx, selectCardBySerial, serial))
	}
	return loyalty.Card{}, ErrNotFound
}

// KoshelekProfile is what Кошелёк tells of its user: the verified phone
// (E.164), and what the user filled in. Profile is the whole of it as
// JSON, kept as received.
type KoshelekProfile struct {
	Phone     string
	Name      string
	Email     string
	BirthDate string // YYYY-MM-DD
	Profile   string
}

// Issue returns the program's card of the phone, issuing one (and the
// customer) if there is none, exactly as the merchant API's issue does
// (one card per phone and program, the welcome bonus once), and records
// that it lives in Кошелёк. created says the card is new, installed that
// this call made it an install on ChannelKoshelek. A phone whose card is
// voided is ErrKoshelekBlocked.
func (k *KoshelekStore) Issue(ctx context.Context, programID string, p KoshelekProfile) (card loyalty.Card, created, installed bool, err error) {
	s := k.s
	err = s.inTxRetry(ctx, func(tx *writeTx) error {
		var prog loyalty.Program
		var err error
		if prog, err = scanProgram(tx.QueryRowContext(ctx, selectProgramByID, programID)); err != nil {
			return err
		}
		var serial, status string
		err = tx.QueryRowContext(ctx, selectKoshelekByPhone, programID, p.Phone).Scan(&serial, &status)
		switch {
		case err == nil && status != loyalty.CardActive:
			return ErrKoshelekBlocked
		case err != nil && !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("find card: %w", err)
		}
		card, created, err = s.issueCard(ctx, tx, IssueCard{MerchantID: prog.MerchantID, ProgramID: programID,
			Phone: p.Phone, Name: p.Name, Email: p.Email})
		if err != nil {
			return err
		}
		installed, err = k.install(ctx, tx, card, p)
		return err
	})
	return card, created, installed, err
}

// install records that card lives in Кошелёк: its koshelek_cards row and
// its registration on ChannelKoshelek, with card.installed for the
// merchant's webhooks. It reports whether the card was not installed
// before. The holder is taken to see the card as it is now, so only
// later changes are pushed.
func (k *KoshelekStore) install(ctx context.Context, tx *writeTx, card loyalty.Card, p KoshelekProfile) (bool, error) {
	s := k.s
	now := s.nowUTC()
	msisdn := strings.TrimPrefix(card.Customer.Phone, "+")
	prog, err := scanProgram(tx.QueryRowContext(ctx, selectProgramByID, card.ProgramID))
	if err != nil {
		return false, fmt.Errorf("load koshelek card's program: %w", err)
	}
	state := koshelekState(prog, card)
	var active bool
	err = tx.QueryRowContext(ctx, selectKoshelekCard, card.SerialNumber).Scan(&active)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		profile := p.Profile
		if profile == "" {
			profile = "{}"
		}
		_, err = tx.ExecContext(ctx, insertKoshelekCard, card.SerialNumber, card.MerchantID, card.ProgramID, msisdn,
			p.BirthDate, profile, now, card.Version, card.Balance, card.Message, state)
	case err != nil:
		return false, fmt.Errorf("load koshelek card: %w", err)
	case !active:
		_, err = tx.ExecContext(ctx, reissueKoshelekCard, msisdn, now, card.Version, card.Balance, card.Message,
			state, card.SerialNumber)
	}
	if err != nil {
		return false, fmt.Errorf("store koshelek card: %w", err)
	}
	if p.Profile != "" {
		if _, err := tx.ExecContext(ctx, updateKoshelekProfile, p.BirthDate, p.BirthDate, p.Profile, card.SerialNumber); err != nil {
			return false, fmt.Errorf("store koshelek profile: %w", err)
		}
	}
	// The install: one registration per card, standing for the holder's
	// Кошелёк account, as a Google save stands for the card's object.
	device := koshelekDeviceID(card.SerialNumber)
	if _, err := tx.ExecContext(ctx, upsertDevice, device, now, now); err != nil {
		return false, fmt.Errorf("store koshelek device: %w", err)
	}
	var registered bool
	err = tx.QueryRowContext(ctx, selectRegistration, device, card.SerialNumber).Scan(&registered)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		_, err = tx.ExecContext(ctx, insertRegistration, device, card.SerialNumber, ChannelKoshelek, ChannelKoshelek,
			"", "", "Кошелёк", now, now)
	case err != nil:
		return false, fmt.Errorf("load koshelek registration: %w", err)
	case registered:
		return false, nil
	default:
		_, err = tx.ExecContext(ctx, reactivateRegistration, now, ChannelKoshelek, "", "", "Кошелёк", device, card.SerialNumber)
	}
	if err != nil {
		return false, fmt.Errorf("store koshelek registration: %w", err)
	}
	return true, s.emitCardEvent(ctx, tx, card.SerialNumber, EventCardInstalled, map[string]any{"channel": ChannelKoshelek})
}

// koshelekDeviceID is the registration that stands for a card's holder in
// Кошелёк.
func koshelekDeviceID(serial string) string { return "koshelek:" + serial }

// Card returns the program's card with the number Кошелёк knows it by,
// and its open lots (for what expires when). A voided card is returned:
// Кошелёк shows it as inactive.
func (k *KoshelekStore) Card(ctx context.Context, programID, number string) (loyalty.Card, []loyalty.Lot, error) {
	card, err := scanCard(k.s.read.QueryRowContext(ctx, selectProgramCardByNumber, programID, number))
	if err != nil {
		return card, nil, err
	}
	lots, err := loadLots(ctx, k.s.read, card.SerialNumber)
	return card, lots, err
}

const selectHistory = `SELECT ` + transactionColumns + ` FROM transactions t
	WHERE serial_number = ? AND created_at >= ? AND created_at < ? ORDER BY seq DESC LIMIT ?`

// History returns the program's card with the number and its ledger lines
// written in [from, to), newest first, at most limit of them.
func (k *KoshelekStore) History(ctx context.Context, programID, number string, from, to time.Time, limit int) (loyalty.Card, []loyalty.Transaction, error) {
	card, err := scanCard(k.s.read.QueryRowContext(ctx, selectProgramCardByNumber, programID, number))
	if err != nil {
		return card, nil, err
	}
	rows, err := k.s.read.QueryContext(ctx, selectHistory, card.SerialNumber, from.UTC(), to.UTC(), limit)
	if err != nil {
		return card, nil, fmt.Errorf("card history: %w", err)
	}
	defer rows.Close()
	var ts []loyalty.Transaction
	for rows.Next() {
		t, err := scanTransaction(rows)
		if err != nil {
			return card, nil, err
		}
		ts = append(ts, t)
	}
	return card, ts, rows.Err()
}

// KoshelekConsent is one channel a Кошелёк user allowed or denied.
type KoshelekConsent struct {
	Channel string
	Granted bool
}

// Communication records the channels a Кошелёк user allowed and denied
// for the program's card with the number: each as a consent record with
// source "koshelek" and the request as evidence, appended, never
// replacing one. An answer about "sms" (or "ads") is also a consent
// record of that channel with source koshelek. Кошелёк sends this when it issues the card, so it also makes
// the card an install (installed reports that this call did). An
// unknown card is ErrNotFound.
func (k *KoshelekStore) Communication(ctx context.Context, programID, number string, consents []KoshelekConsent,
	evidence string) (card loyalty.Card, installed bool, err error) {
	s := k.s
	err = s.inTx(ctx, func(tx *writeTx) error {
		var err error
		if card, err = scanCard(tx.QueryRowContext(ctx, selectProgramCardByNumber, programID, number)); err != nil {
			return err
		}
		if card.Status != loyalty.CardActive {
			return ErrKoshelekBlocked
		}
		now := s.nowUTC()
		for _, c := range consents {
			if _, err := tx.ExecContext(ctx, insertKoshelekConsent, card.MerchantID, card.CustomerID, card.SerialNumber,
				c.Channel, c.Granted, evidence, now); err != nil {
				return fmt.Errorf("record consent: %w", err)
			}
			// An answer about a channel loyalpass keeps consent for (SMS,
			// advertising) is also the customer's consent record, the latest
			// of which decides, as for every source.
			if c.Channel == loyalty.ConsentSMS || c.Channel == loyalty.ConsentAds {
				if err := s.appendConsent(ctx, tx, card.MerchantID, loyalty.ConsentRecord{CustomerID: card.CustomerID,
					Channel: c.Channel, Granted: c.Granted, Source: loyalty.SourceKoshelek,
					Evidence: clipEvidence(evidence), CreatedAt: now}); err != nil {
					return err
				}
			}
		}
		installed, err = k.install(ctx, tx, card, KoshelekProfile{})
		return err
	})
	return card, installed, err
}

// clipEvidence keeps a consent record's evidence within the 500
// characters the records hold; the whole request stays with the Кошелёк
// record.
func clipEvidence(s string) string {
	const limit = 500
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	return string([]rune(s)[:limit-1]) + "…"
}

// UpdateProfile stores what a Кошелёк user changed in their profile: the
// name and e-mail on the customer, the birth date and the whole profile
// with the card. A phone other than the card's is
// ErrKoshelekPhoneMismatch: a card belongs to one phone. Кошелёк sends
// the profile when it issues a found card, so this makes an install too.
func (k *KoshelekStore) UpdateProfile(ctx context.Context, programID, number string, p KoshelekProfile) (card loyalty.Card, installed bool, err error) {
	s := k.s
	err = s.inTx(ctx, func(tx *writeTx) error {
		var err error
		if card, err = scanCard(tx.QueryRowContext(ctx, selectProgramCardByNumber, programID, number)); err != nil {
			return err
		}
		switch {
		case card.Status != loyalty.CardActive:
			return ErrKoshelekBlocked
		case p.Phone != "" && p.Phone != card.Customer.Phone:
			return ErrKoshelekPhoneMismatch
		}
		if _, err := tx.ExecContext(ctx, updateCustomerProfile, p.Name, p.Name, p.Email, p.Email, card.CustomerID); err != nil {
			return fmt.Errorf("update customer: %w", err)
		}
		installed, err = k.install(ctx, tx, card, p)
		return err
	})
	return card, installed, err
}

// KoshelekCardView is what the merchant sees of a card in Кошелёк.
type KoshelekCardView struct {
	Serial    string
	Number    string
	MSISDN    string
	IssuedAt  time.Time
	RemovedAt *time.Time
	Messages  []KoshelekMessage
	Consents  []KoshelekConsentRecord
}

// KoshelekConsentRecord is one stored consent record.
type KoshelekConsentRecord struct {
	Channel string
	Granted bool
	Source  string
	At      time.Time
}

// KoshelekMessage is a message sent through the Push API, with the last
// status Кошелёк reported of it.
type KoshelekMessage struct {
	MessageID   string
	PushType    string
	Title, Body string
	State       string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	DeliveredAt *time.Time
	OpenedAt    *time.Time
}

// CardView returns the merchant's card as it lives in Кошелёк, with its
// newest messages and consent records (at most limit of each). A card of
// another merchant is ErrNotFound; a card not in Кошелёк has only
// Serial set.
func (k *KoshelekStore) CardView(ctx context.Context, merchantID, serial string, limit int) (KoshelekCardView, error) {
	var v KoshelekCardView
	var n int
	if err := k.s.read.QueryRowContext(ctx, selectCardExists, merchantID, serial).Scan(&n); err != nil {
		return v, fmt.Errorf("load card: %w", err)
	}
	if n == 0 {
		return v, ErrNotFound
	}
	v.Serial = serial
	err := k.s.read.QueryRowContext(ctx, selectKoshelekCardView, merchantID, serial).Scan(&v.Serial, &v.Number, &v.MSISDN,
		&v.IssuedAt, &v.RemovedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return v, nil
	}
	if err != nil {
		return v, fmt.Errorf("load koshelek card: %w", err)
	}
	rows, err := k.s.read.QueryContext(ctx, selectKoshelekMessages, serial, limit)
	if err != nil {
		return v, fmt.Errorf("load koshelek messages: %w", err)
	}
	for rows.Next() {
		var m KoshelekMessage
		if err := rows.Scan(&m.MessageID, &m.PushType, &m.Title, &m.Body, &m.State, &m.CreatedAt, &m.UpdatedAt,
			&m.DeliveredAt, &m.OpenedAt); err != nil {
			rows.Close()
			return v, err
		}
		v.Messages = append(v.Messages, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return v, err
	}
	rows, err = k.s.read.QueryContext(ctx, selectKoshelekConsents, serial, limit)
	if err != nil {
		return v, fmt.Errorf("load koshelek consents: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c KoshelekConsentRecord
		if err := rows.Scan(&c.Channel, &c.Granted, &c.Source, &c.At); err != nil {
			return v, err
		}
		v.Consents = append(v.Consents, c)
	}
	return v, rows.Err()
}

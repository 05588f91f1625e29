package store

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

// JoinStore keeps what the join page needs: programs by their join code,
// the texted codes and their limits, and the join itself, which issues
// or restores the customer's card with their consents in one transaction.
type JoinStore struct{ s *Store }

// Joins returns the join page's store.
func (s *Store) Joins() *JoinStore { return &JoinStore{s} }

// JoinProgram is a program as its join page shows it.
type JoinProgram struct {
	Program  loyalty.Program
	Merchant Merchant
}

// JoinForm is what the customer filled in, kept with the code until it
// is used.
type JoinForm struct {
	Name     string `json:"name,omitempty"`
	Birthday string `json:"birthday,omitempty"` // YYYY-MM-DD
	// PersonalDataText is the consent text the page showed (the box is
	// required); AdsText the advertising one, "" when its box was left
	// unticked.
	PersonalDataText string `json:"personal_data_text"`
	AdsText          string `json:"ads_text,omitempty"`
	IP               string `json:"ip"`
	UserAgent        string `json:"user_agent"`
	// Referral is the referral code of the link the customer came by.
	Referral string `json:"referral,omitempty"`
}

// JoinStart asks for a code to be texted.
type JoinStart struct {
	ProgramID string
	Phone     string // E.164
	IP        string
	Form      JoinForm
	Limits    loyalty.JoinLimits
}

// JoinCodeSent is a code ready to be texted: ID to cancel it with if the
// text fails, Code the six digits (stored only hashed).
type JoinCodeSent struct {
	ID, Code  string
	ExpiresAt time.Time
}

// JoinVerify is one try of a code.
type JoinVerify struct {
	ProgramID, Phone, Code string
	Limits                 loyalty.JoinLimits
}

// Joined is the outcome of a good code: the customer's card, new or
// restored, and what became of a referral link.
type Joined struct {
	Card    loyalty.Card
	Created bool
	// Referral is nil when the join was attributed to a referrer (or
	// came by no referral link), else why not.
	Referral error
}

const (
	selectJoinProgram = `SELECT ` + programColumns + ` FROM programs WHERE join_code = ?`
	pruneJoinCodes    = `DELETE FROM join_codes WHERE created_at < ?`
	lastJoinCode      = `SELECT created_at FROM join_codes WHERE program_id = ? AND phone_hash = ?
		ORDER BY created_at DESC LIMIT 1`
	countPhoneCodes = `SELECT COUNT(*), MIN(created_at) FROM join_codes WHERE program_id = ? AND phone_hash = ?
		AND created_at > ?`
	countIPCodes      = `SELECT COUNT(*), MIN(created_at) FROM join_codes WHERE ip = ? AND created_at > ?`
	countProgramCodes = `SELECT COUNT(*), MIN(created_at) FROM join_codes WHERE program_id = ? AND created_at > ?`
	insertJoinCode    = `INSERT INTO join_codes (id, program_id, phone_hash, code_hash, ip, form, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	deleteJoinCode = `DELETE FROM join_codes WHERE id = ?`
	selectJoinCode = `SELECT id, code_hash, form, tries, expires_at, used_at IS NOT NULL, dead_at IS NOT NULL
		FROM join_codes WHERE program_id = ? AND phone_hash = ? ORDER BY created_at DESC LIMIT 1`
	tryJoinCode  = `UPDATE join_codes SET tries = ?, dead_at = ? WHERE id = ?`
	useJoinCode  = `UPDATE join_codes SET used_at = ?, form = '' WHERE id = ? AND used_at IS NULL`
	fillBirthday = `UPDATE customers SET birthday = ? WHERE id = ? AND birthday = ''`
)

// lockJoinProgram serialises the code sends of a program where writers run
// in parallel (PostgreSQL only; SQLite has one writer), so two sends never
// both take the budget's last text. NO KEY UPDATE leaves card inserts,
// which only reference the program, free to go on.
var lockJoinProgram = `SELECT id FROM programs WHERE id = ? FOR NO KEY UPDATE`

// Program returns the program whose join page is code, with its merchant.
func (j *JoinStore) Program(ctx context.Context, code string) (JoinProgram, error) {
	p, err := scanProgram(j.s.read.QueryRowContext(ctx, selectJoinProgram, code))
	if err != nil {
		return JoinProgram{}, err
	}
	m, err := j.s.Merchants().Merchant(ctx, p.MerchantID)
	return JoinProgram{Program: p, Merchant: m}, err
}

// Start checks the limits (resend wait, per phone, per client address,
// the program's daily SMS budget) and stores a new code, hashed, with the
// form; the caller texts it, and cancels it if the text fails. A refusal
// is a *loyalty.RateLimitError. Concurrent starts of one program are
// serialised, so the budget holds across instances.
func (j *JoinStore) Start(ctx context.Context, in JoinStart) (JoinCodeSent, error) {
	s := j.s
	var sent JoinCodeSent
	err := s.inTx(ctx, func(tx *writeTx) error {
		now := s.nowUTC()
		if s.dialect.name == postgresDialect.name {
			if err := lockRows(ctx, tx, lockJoinProgram, in.ProgramID); err != nil {
				return err
			}
		}
		budget, err := joinBudget(ctx, tx, in.ProgramID)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, pruneJoinCodes, now.Add(-2*loyalty.Day)); err != nil {
			return fmt.Errorf("prune join codes: %w", err)
		}
		hash := j.s.phoneHash(in.Phone)
		counts, err := joinCounts(ctx, tx, in.ProgramID, hash, in.IP, now)
		if err != nil {
			return err
		}
		if err := loyalty.CheckSend(in.Limits, budget, counts, now); err != nil {
			return err
		}
		form, err := json.Marshal(in.Form)
		if err != nil {
			return err
		}
		sent = JoinCodeSent{ID: newID("jc"), Code: newSMSCode(), ExpiresAt: now.Add(in.Limits.CodeTTL)}
		_, err = tx.ExecContext(ctx, insertJoinCode, sent.ID, in.ProgramID, hash, j.s.codeHash(sent.ID, sent.Code),
			in.IP, string(form), now, sent.ExpiresAt)
		if err != nil {
			return fmt.Errorf("insert join code: %w", err)
		}
		return nil
	})
	return sent, err
}

// Cancel forgets a code whose text could not be sent, so it counts
// against no limit.
func (j *JoinStore) Cancel(ctx context.Context, id string) error {
	_, err := j.s.write.ExecContext(ctx, deleteJoinCode, id)
	return err
}

// Verify tries a code: the phone's latest code in the program must match
// (loyalty.ErrCodeWrong counts a try, loyalty.ErrCodeGone asks for a new
// code). A good code issues the customer's card, or restores the card
// they have (same serial, balance and history, no second welcome bonus),
// records their consents and attributes a referral, all in one
// transaction with the code's use.
func (j *JoinStore) Verify(ctx context.Context, in JoinVerify) (Joined, error) {
	s := j.s
	var out Joined
	var refused error
	err := s.inTxRetry(ctx, func(tx *writeTx) error {
		out, refused = Joined{}, nil
		now := s.nowUTC()
		var id, formJSON string
		var stored []byte
		var c loyalty.JoinCode
		err := tx.QueryRowContext(ctx, selectJoinCode, in.ProgramID, j.s.phoneHash(in.Phone)).Scan(&id, &stored,
			&formJSON, &c.Tries, &c.ExpiresAt, &c.Used, &c.Dead)
		if errors.Is(err, sql.ErrNoRows) {
			refused = loyalty.ErrCodeGone
			return nil
		}
		if err != nil {
			return fmt.Errorf("load join code: %w", err)
		}
		match := subtle.ConstantTimeCompare(stored, j.s.codeHash(id, in.Code)) == 1
		check := loyalty.CheckCode(in.Limits, c, match, now)
		if check.Err != nil {
			refused = check.Err
			if check.Tries == c.Tries {
				return nil
			}
			var dead any
			if check.Dead {
				dead = now
			}
			_, err := tx.ExecContext(ctx, tryJoinCode, check.Tries, dead, id)
			return err
		}
		var form JoinForm
		if err := json.Unmarshal([]byte(formJSON), &form); err != nil {
			return fmt.Errorf("join code %s form: %w", id, err)
		}
		if res, err := tx.ExecContext(ctx, useJoinCode, now, id); err != nil {
			return fmt.Errorf("use join code: %w", err)
		} else if n, _ := res.RowsAffected(); n != 1 {
			refused = loyalty.ErrCodeGone
			return nil
		}
		out, err = s.join(ctx, tx, in.ProgramID, in.Phone, form)
		return err
	})
	if err == nil && refused != nil {
		return Joined{}, refused
	}
	return out, err
}

// join issues or restores the card of phone in the program and records
// the consents and the referral of form.
func (s *Store) join(ctx context.Context, tx *writeTx, programID, phone string, form JoinForm) (Joined, error) {
	var out Joined
	var merchantID string
	if err := tx.QueryRowContext(ctx, `SELECT merchant_id FROM programs WHERE id = ?`, programID).Scan(&merchantID); err != nil {
		return out, fmt.Errorf("load program: %w", err)
	}
	prog, err := s.program(ctx, tx, merchantID, programID)
	if err != nil {
		return out, err
	}
	_, known := scanCustomer(tx.QueryRowContext(ctx, selectCustomerByPhone, merchantID, phone))
	friendKnown := known == nil
	if known != nil && !errors.Is(known, ErrNotFound) {
		return out, known
	}
	cust, err := s.upsertCustomer(ctx, tx, IssueCard{MerchantID: merchantID, ProgramID: programID, Phone: phone,
		Name: form.Name})
	if err != nil {
		return out, err
	}
	if form.Birthday != "" {
		if _, err := tx.ExecContext(ctx, fillBirthday, form.Birthday, cust.ID); err != nil {
			return out, fmt.Errorf("fill birthday: %w", err)
		}
	}
	var serial string
	err = tx.QueryRowContext(ctx, selectActiveCardID, programID, cust.ID).Scan(&serial)
	if errors.Is(err, sql.ErrNoRows) {
		serial, err = s.insertCard(ctx, tx, prog, cust.ID, 0)
		out.Created = true
	}
	if err != nil {
		return out, err
	}
	if out.Card, err = scanCard(tx.QueryRowContext(ctx, selectCardBySerial, serial)); err != nil {
		return out, err
	}
	if out.Created {
		if err := s.emitEvent(ctx, tx, merchantID, EventCardIssued, map[string]any{"serial_number": serial,
			"number": out.Card.Number, "program_id": programID, "phone": phone, "balance": out.Card.Balance,
			"source": "join_page"}); err != nil {
			return out, err
		}
	}
	if err := s.joinConsents(ctx, tx, merchantID, cust.ID, form); err != nil {
		return out, err
	}
	if form.Referral != "" && out.Created {
		out.Referral, err = s.attributeReferral(ctx, tx, prog, form.Referral, out.Card, friendKnown)
		if err != nil {
			return out, err
		}
	} else if form.Referral != "" {
		out.Referral = loyalty.ErrKnownFriend
	}
	return out, nil
}

// joinConsents records the join page's consents: personal data always
// (the page requires it), advertising when its box was ticked. An
// unticked box records nothing: leaving it is no withdrawal.
func (s *Store) joinConsents(ctx context.Context, tx *writeTx, merchantID, customerID string, form JoinForm) error {
	texts := []struct {
		channel, text string
	}{{loyalty.ConsentPersonalData, form.PersonalDataText}, {loyalty.ConsentAds, form.AdsText}}
	for _, t := range texts {
		if t.text == "" {
			continue
		}
		version, err := s.saveConsentText(ctx, tx, t.text)
		if err != nil {
			return err
		}
		err = s.appendConsent(ctx, tx, merchantID, loyalty.ConsentRecord{CustomerID: customerID, Channel: t.channel,
			Granted: true, Source: loyalty.SourceJoinPage, IP: form.IP, UserAgent: form.UserAgent, TextVersion: version})
		if err != nil {
			return err
		}
	}
	return nil
}

func joinBudget(ctx context.Context, tx *writeTx, programID string) (int, error) {
	var raw string
	if err := tx.QueryRowContext(ctx, `SELECT join_settings FROM programs WHERE id = ?`, programID).Scan(&raw); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return 0, ErrNotFound
		}
		return 0, fmt.Errorf("load join settings: %w", err)
	}
	set := loyalty.DefaultJoinSettings()
	if err := json.Unmarshal([]byte(raw), &set); err != nil {
		return 0, fmt.Errorf("program %s join settings: %w", programID, err)
	}
	return set.SMSDailyBudget, nil
}

func joinCounts(ctx context.Context, tx *writeTx, programID, hash, ip string, now time.Time) (loyalty.JoinCounts, error) {
	var c loyalty.JoinCounts
	since := now.Add(-loyalty.Day)
	var last sql.NullTime
	err := tx.QueryRowContext(ctx, lastJoinCode, programID, hash).Scan(&last)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("last join code: %w", err)
	}
	if last.Valid {
		t := last.Time.UTC()
		c.LastSentAt = &t
	}
	counts := []struct {
		q    string
		args []any
		n    *int
		at   *time.Time
	}{
		{countPhoneCodes, []any{programID, hash, since}, &c.Phone, &c.OldestPhone},
		{countIPCodes, []any{ip, since}, &c.IP, &c.OldestIP},
		{countProgramCodes, []any{programID, since}, &c.Program, &c.OldestProgram},
	}
	for _, q := range counts {
		var oldest any
		if err := tx.QueryRowContext(ctx, q.q, q.args...).Scan(q.n, &oldest); err != nil {
			return c, fmt.Errorf("count join codes: %w", err)
		}
		if oldest != nil {
			t, err := dbTime(oldest)
			if err != nil {
				return c, err
			}
			*q.at = t.UTC()
		}
	}
	return c, nil
}

// phoneHash keys the codes of a phone without keeping the number: keyed
// with the server's key, since every phone number can be tried.
func (s *Store) phoneHash(phone string) string {
	return hex.EncodeToString(s.keyedHash("loyalpass join phone:" + phone))
}

// codeHash is what is stored of a code: salted by the code's random id,
// so equal codes never hash alike, and keyed, since a million codes are
// quickly tried.
func (s *Store) codeHash(id, code string) []byte {
	return s.keyedHash(id + ":" + code)
}

// keyedHash is HMAC-SHA256 under the store's hash key, or SHA-256 when
// it has none.
func (s *Store) keyedHash(text string) []byte {
	if s.hashKey == nil {
		sum := sha256.Sum256([]byte(text))
		return sum[:]
	}
	m := hmac.New(sha256.New, s.hashKey)
	m.Write([]byte(text))
	return m.Sum(nil)
}

// newSMSCode returns six random digits.
func newSMSCode() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(1_000_000))
	return fmt.Sprintf("%06d", n.Int64())
}

// joinCodeAlphabet leaves out letters that read alike on a poster.
const joinCodeAlphabet = "23456789abcdefghjkmnpqrstuvwxyz"

// newJoinCode returns a program's join page name: 10 characters, 49 bits.
func newJoinCode() string {
	b := make([]byte, 10)
	n := big.NewInt(int64(len(joinCodeAlphabet)))
	for i := range b {
		d, _ := rand.Int(rand.Reader, n)
		b[i] = joinCodeAlphabet[d.Int64()]
	}
	return string(b)
}

// joinColumns encodes a program's join settings and referral terms.
func joinColumns(p loyalty.Program) (join, referral string, err error) {
	jb, err := json.Marshal(p.Join)
	if err != nil {
		return "", "", err
	}
	rb, err := json.Marshal(p.Referral)
	return string(jb), string(rb), err
}

// scanJoinColumns decodes them; settings never stored read as defaults.
func scanJoinColumns(p *loyalty.Program, join, referral string) error {
	p.Join = loyalty.DefaultJoinSettings()
	if err := json.Unmarshal([]byte(join), &p.Join); err != nil {
		return fmt.Errorf("program %s join settings: %w", p.ID, err)
	}
	if err := json.Unmarshal([]byte(referral), &p.Referral); err != nil {
		return fmt.Errorf("program %s referral terms: %w", p.ID, err)
	}
	return nil
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

// What the «Кошелёк» delivery channel needs: which cards in Кошелёк are
// behind, what their holders were last told, and where the messages sent
// to them stand.

const (
	// A card is behind when its version passed the one its holder was
	// last told of, it is still in Кошелёк, and its program sends
	// messages (on, with a Push API account).
	selectKoshelekTargets = `SELECT k.serial_number, c.version, c.balance
		FROM koshelek_cards k JOIN cards c ON c.serial_number = k.serial_number
		JOIN koshelek_programs p ON p.program_id = k.program_id
		WHERE k.removed_at IS NULL AND k.sent_version < c.version AND p.enabled AND p.push_login <> ''`

	selectKoshelekPushPrefix = `SELECT k.serial_number, c.merchant_id, c.program_id, k.msisdn,
		c.status, c.version, c.balance, c.message, k.sent_balance, k.sent_message, p.enabled, p.push_login,
		p.push_password, u.opted_out_at IS NOT NULL, c.rewards, c.tier, c.redeemed_at, k.sent_state,
		(SELECT x.granted FROM koshelek_consents x WHERE x.customer_id = c.customer_id AND x.channel = 'push'
			ORDER BY x.id DESC LIMIT 1)
		FROM koshelek_cards k JOIN cards c ON c.serial_number = k.serial_number
		JOIN customers u ON u.id = c.customer_id
		JOIN programs g ON g.id = c.program_id
		JOIN koshelek_programs p ON p.program_id = k.program_id
		WHERE k.removed_at IS NULL`

	markKoshelekVersion = `UPDATE koshelek_cards SET sent_version = ? WHERE serial_number = ? AND sent_version < ?`
	markKoshelekBalance = `UPDATE koshelek_cards SET sent_balance = ? WHERE serial_number = ?`
	markKoshelekMessage = `UPDATE koshelek_cards SET sent_message = ? WHERE serial_number = ?`
	markKoshelekState   = `UPDATE koshelek_cards SET sent_state = ? WHERE serial_number = ?`
	insertKoshelekMsg   = `INSERT INTO koshelek_messages (message_id, merchant_id, program_id, serial_number, push_type,
		title, body, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	removeKoshelekCard = `UPDATE koshelek_cards SET removed_at = ? WHERE serial_number = ? AND removed_at IS NULL
		AND issued_at <= ?`

	selectKoshelekMsgState = `SELECT state FROM koshelek_messages WHERE program_id = ? AND message_id = ?`
	updateKoshelekMsgState = `UPDATE koshelek_messages SET state = ?, updated_at = ?,
		delivered_at = CASE WHEN ? AND delivered_at IS NULL THEN ? ELSE delivered_at END,
		opened_at = CASE WHEN ? AND opened_at IS NULL THEN ? ELSE opened_at END
		WHERE program_id = ? AND message_id = ?`
)

// Targets returns the cards among serials whose Кошелёк holder has not
// been told of their current version.
func (k *KoshelekStore) Targets(ctx context.Context, serials []string) ([]Target, error) {
	if len(serials) == 0 {
		return nil, nil
	}
	in, args := inSerials("k.serial_number", serials)
	return k.targets(ctx, selectKoshelekTargets+in+` ORDER BY k.serial_number`, args...)
}

// ProgramTargets pages through the program's cards in Кошелёк that are
// behind, by serial after the given target.
func (k *KoshelekStore) ProgramTargets(ctx context.Context, programID string, after Target, limit int) ([]Target, error) {
	return k.targets(ctx, selectKoshelekTargets+` AND k.program_id = ? AND k.serial_number > ?
		ORDER BY k.serial_number LIMIT ?`, programID, after.Serial, limit)
}

// A target's Token is its serial: a retry row names the card, never the
// holder's phone number.
func (k *KoshelekStore) targets(ctx context.Context, q string, args ...any) ([]Target, error) {
	rows, err := k.s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("koshelek targets: %w", err)
	}
	defer rows.Close()
	var out []Target
	for rows.Next() {
		t := Target{Channel: ChannelKoshelek}
		if err := rows.Scan(&t.Serial, &t.Version, &t.Balance); err != nil {
			return nil, fmt.Errorf("koshelek targets: %w", err)
		}
		t.Token = t.Serial
		out = append(out, t)
	}
	return out, rows.Err()
}

// KoshelekPush is what a message to a card's Кошелёк holder is made of:
// the card now, what the holder was last told, the program's Push API
// account (the password sealed) and what the holder allows.
type KoshelekPush struct {
	Serial, MerchantID, ProgramID string
	ProgramName, Locale           string
	MSISDN                        string // digits, no +
	Status                        string
	Version, Balance, SentBalance int64
	Message, SentMessage          string
	Enabled                       bool
	PushLogin, PushPassword       string
	OptedOut                      bool
	// PushConsent is the customer's latest answer about "push" through
	// Кошелёк: nil when there is none.
	PushConsent *bool
	// Program is the card's program: its kind and the kind's settings.
	Program loyalty.Program
	// Rewards, Tier and RedeemedAt are the card's stamp rewards, tier
	// and coupon use.
	Rewards    int64
	Tier       string
	RedeemedAt *time.Time
	// State is the card's kind-specific state now (koshelekState) and
	// SentState the one its holder was last told of ("" not known).
	State, SentState string
}

// koshelekState is what a card's holder is told of beyond its balance,
// by the program's kind, as one comparable string: a stamp card's stamps
// toward its goal and its rewards, a discount card's percent, whether a
// coupon was used. Points and gift cards tell their balance instead ("").
func koshelekState(p loyalty.Program, c loyalty.Card) string {
	switch p.KindOf() {
	case loyalty.KindStamps:
		return fmt.Sprintf("stamps %d/%d rewards %d", c.Balance, p.StampsRequired, c.Rewards)
	case loyalty.KindDiscount:
		return fmt.Sprintf("discount %d", p.DiscountFor(c.Tier))
	case loyalty.KindCoupon:
		if c.RedeemedAt != nil {
			return KoshelekCouponRedeemed
		}
		return "coupon"
	}
	return ""
}

// KoshelekCouponRedeemed is a used coupon's state (KoshelekPush.State).
const KoshelekCouponRedeemed = "coupon redeemed"

// PushInfo returns what the messages to the given cards are made of, by
// serial; cards no longer in Кошелёк are left out.
func (k *KoshelekStore) PushInfo(ctx context.Context, serials []string) (map[string]KoshelekPush, error) {
	out := make(map[string]KoshelekPush, len(serials))
	if len(serials) == 0 {
		return out, nil
	}
	in, args := inSerials("k.serial_number", serials)
	rows, err := k.s.read.QueryContext(ctx, selectKoshelekPushPrefix+in, args...)
	if err != nil {
		return nil, fmt.Errorf("koshelek push info: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p KoshelekPush
		var consent sql.NullBool
		if err := rows.Scan(&p.Serial, &p.MerchantID, &p.ProgramID, &p.MSISDN, &p.Status,
			&p.Version, &p.Balance, &p.Message, &p.SentBalance, &p.SentMessage, &p.Enabled, &p.PushLogin,
			&p.PushPassword, &p.OptedOut, &p.Rewards, &p.Tier, &p.RedeemedAt, &p.SentState, &consent); err != nil {
			return nil, fmt.Errorf("koshelek push info: %w", err)
		}
		if consent.Valid {
			p.PushConsent = &consent.Bool
		}
		out[p.Serial] = p
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("koshelek push info: %w", err)
	}
	rows.Close()
	programs := map[string]loyalty.Program{}
	for serial, p := range out {
		prog, ok := programs[p.ProgramID]
		if !ok {
			if prog, err = scanProgram(k.s.read.QueryRowContext(ctx, selectProgramByID, p.ProgramID)); err != nil {
				return nil, fmt.Errorf("koshelek push info: %w", err)
			}
			programs[p.ProgramID] = prog
		}
		p.Program, p.ProgramName, p.Locale = prog, prog.Name, prog.Locale
		p.State = koshelekState(prog, loyalty.Card{Balance: p.Balance, Rewards: p.Rewards, Tier: p.Tier,
			RedeemedAt: p.RedeemedAt})
		out[serial] = p
	}
	return out, nil
}

// KoshelekSent is what became of a card's messages: a message the Push
// API took (Message), the balance and lock-screen text the holder now
// knows, and, once nothing is left to send, the version they know.
type KoshelekSent struct {
	Serial string
	// Message, when set, is a message the Push API took.
	Message *KoshelekMessage
	// Balance, Text and State, when set, are what the holder now knows.
	Balance *int64
	Text    *string
	State   *string
	// Version, when not 0, is the card version the holder is now current
	// with; it never goes back.
	Version int64
	// MerchantID and ProgramID own the message.
	MerchantID, ProgramID string
}

// RecordSent stores what a send told a card's Кошелёк holder, in one
// transaction.
func (k *KoshelekStore) RecordSent(ctx context.Context, sent KoshelekSent) error {
	s := k.s
	return s.inTx(ctx, func(tx *writeTx) error {
		now := s.nowUTC()
		if m := sent.Message; m != nil {
			if _, err := tx.ExecContext(ctx, insertKoshelekMsg, m.MessageID, sent.MerchantID, sent.ProgramID, sent.Serial,
				m.PushType, m.Title, m.Body, m.State, now, now); err != nil {
				return fmt.Errorf("record koshelek message: %w", err)
			}
		}
		if sent.Balance != nil {
			if _, err := tx.ExecContext(ctx, markKoshelekBalance, *sent.Balance, sent.Serial); err != nil {
				return fmt.Errorf("record koshelek balance: %w", err)
			}
		}
		if sent.Text != nil {
			if _, err := tx.ExecContext(ctx, markKoshelekMessage, *sent.Text, sent.Serial); err != nil {
				return fmt.Errorf("record koshelek text: %w", err)
			}
		}
		if sent.State != nil {
			if _, err := tx.ExecContext(ctx, markKoshelekState, *sent.State, sent.Serial); err != nil {
				return fmt.Errorf("record koshelek state: %w", err)
			}
		}
		if sent.Version != 0 {
			if _, err := tx.ExecContext(ctx, markKoshelekVersion, sent.Version, sent.Serial, sent.Version); err != nil {
				return fmt.Errorf("record koshelek version: %w", err)
			}
		}
		return nil
	})
}

// Remove records that Кошелёк no longer knows a card's holder (the Push
// API answered MSISDN_NOT_REGISTERED at at): the card stops being sent
// to and its install ends, with card.uninstalled. A card issued into
// Кошелёк again after at stays. removed reports whether anything changed.
func (k *KoshelekStore) Remove(ctx context.Context, serial string, at time.Time) (removed bool, err error) {
	s := k.s
	err = s.inTx(ctx, func(tx *writeTx) error {
		now := s.nowUTC()
		res, err := tx.ExecContext(ctx, removeKoshelekCard, now, serial, at.UTC())
		if err != nil {
			return fmt.Errorf("remove koshelek card: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		removed = true
		res, err = tx.ExecContext(ctx, unregister, now, koshelekDeviceID(serial), serial)
		if err != nil {
			return fmt.Errorf("unregister koshelek card: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return s.emitCardEvent(ctx, tx, serial, EventCardUninstalled, map[string]any{})
	})
	return removed, err
}

// Push API delivery states, in the order a message passes them.
const (
	KoshelekEnqueued            = "ENQUEUED"
	KoshelekDelivered           = "DELIVERED"
	KoshelekOpened              = "OPENED"
	KoshelekMSISDNNotRegistered = "MSISDN_NOT_REGISTERED"
)

// koshelekStateRank orders states so a late callback never moves a
// message back; a state we do not know ranks with DELIVERED (the message
// got somewhere), below OPENED.
func koshelekStateRank(state string) int {
	switch state {
	case KoshelekEnqueued:
		return 1
	case KoshelekOpened:
		return 3
	}
	return 2
}

// ErrKoshelekStateBehind is a status that would move a message back.
var ErrKoshelekStateBehind = errors.New("the message is past this state")

// PushState records a status Кошелёк reported for a message the
// program sent. A message of another program is ErrNotFound; a status
// behind the one stored is ErrKoshelekStateBehind and changes nothing.
func (k *KoshelekStore) PushState(ctx context.Context, programID, messageID, state string) error {
	s := k.s
	return s.inTx(ctx, func(tx *writeTx) error {
		var old string
		err := tx.QueryRowContext(ctx, selectKoshelekMsgState, programID, messageID).Scan(&old)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("load koshelek message: %w", err)
		}
		if koshelekStateRank(state) < koshelekStateRank(old) || state == old {
			return ErrKoshelekStateBehind
		}
		now := s.nowUTC()
		delivered := koshelekStateRank(state) >= 2
		opened := state == KoshelekOpened
		_, err = tx.ExecContext(ctx, updateKoshelekMsgState, state, now, delivered, now, opened, now, programID, messageID)
		if err != nil {
			return fmt.Errorf("update koshelek message: %w", err)
		}
		return nil
	})
}

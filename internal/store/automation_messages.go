package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

// The sender's side of automations: claiming due messages, what is known
// of how each customer can be reached, and recording a send on the
// channel that took it. A wallet, Google or app message is the card's
// lock-screen message, written with the message's outcome, the frequency
// cap's stamp and its bonus in one transaction; a text reserves the cap
// and the SMS budget first and settles them with the provider's answer.

// Errors of a send the store refuses.
var (
	// ErrCapped: the customer was contacted within the frequency cap.
	ErrCapped = errors.New("contacted within the frequency cap")
	// ErrBudgetSpent: the program's SMS budget for the month is spent.
	ErrBudgetSpent = errors.New("SMS budget spent")
	// ErrMessageTaken: the message is no longer this sender's to send.
	ErrMessageTaken = errors.New("message is no longer being sent by this sender")
)

// adsConsent is the one place that says whether a customer (u) may be
// sent advertising texts: their latest ads or SMS consent record is a
// grant (adsConsentOf, as campaigns ask it), and they were not erased.
const adsConsent = `(` + adsConsentOf + ` AND u.erased_at IS NULL)`

const automationMessageColumns = `id, automation_id, merchant_id, program_id, customer_id, serial_number, occurrence,
	variant, attempts`

// OutgoingMessage is a claimed message with what its sender needs: the
// customer, the card, and how they can be reached now.
type OutgoingMessage struct {
	ID                                                             int64
	AutomationID, MerchantID, ProgramID, CustomerID, Serial, Occur string
	Variant, Attempts                                              int

	Phone, Name, LinkToken string
	CardActive             bool
	// LastContact is the customer's last marketing message of any kind
	// (a campaign text, an automation message on any channel).
	LastContact *time.Time
	// Reach is what loyalty.Route decides on; the sender adds the SMS
	// budget and provider.
	Reach loyalty.Reach
}

const (
	messageCustomer = `SELECT u.phone, u.name, ` + adsConsent + `, u.phone_invalid_at IS NULL, u.last_texted_at,
		c.status = 'active', COALESCE(c.link_token, '') FROM cards c JOIN customers u ON u.id = c.customer_id
		WHERE c.serial_number = ?`
	// walletInstalls: Apple Wallet and pkpass apps (Google and Кошелёк
	// installs are registrations too, and reached their own way).
	walletInstalls = `SELECT COUNT(*) FROM registrations WHERE serial_number = ? AND unregistered_at IS NULL
		AND channel NOT IN ('google', 'koshelek')`
	googleSaves = `SELECT COUNT(*) FROM registrations r JOIN google_objects g ON g.serial_number = r.serial_number
		WHERE r.serial_number = ? AND r.unregistered_at IS NULL AND r.channel = 'google'`
	googleNotified = `SELECT COUNT(*) FROM google_notifications WHERE serial_number = ? AND sent_at > ?`
	appTokens      = `SELECT COUNT(*) FROM fcm_tokens WHERE serial_number = ?`
	// koshelekReach: the card lives in Кошелёк, its program sends through
	// the Push API, and the holder takes PROMO messages: the SQL of
	// delivery's koshelekPromoAllowed (not opted out, the latest "push"
	// answer through Кошелёк not a deny), which decides at send time.
	koshelekReach = `SELECT COUNT(*) FROM koshelek_cards k JOIN koshelek_programs p ON p.program_id = k.program_id
		JOIN cards c ON c.serial_number = k.serial_number JOIN customers u ON u.id = c.customer_id
		WHERE k.serial_number = ? AND k.removed_at IS NULL AND p.enabled AND p.push_login <> ''
		AND u.opted_out_at IS NULL AND COALESCE((SELECT x.granted FROM koshelek_consents x
			WHERE x.customer_id = c.customer_id AND x.channel = 'push' ORDER BY x.id DESC LIMIT 1), TRUE)`
)

// googleWindow and googleQuota are Google Wallet's limit: 3 visible
// notifications per card in 24 hours (push/gwallet.NotifyQuota).
const (
	googleWindow = 24 * time.Hour
	googleQuota  = 3
)

// ClaimMessages takes up to limit due messages of active automations for
// sending, stamped for lease. A message its sender left "sending" is
// recovered once the sender is gone: pending again if its text was never
// handed to a provider, failed if it was (see recoverMessages).
func (as *AutomationStore) ClaimMessages(ctx context.Context, limit int, lease time.Duration) ([]OutgoingMessage, error) {
	var out []OutgoingMessage
	err := as.s.claim(ctx, messageTable, claimOpts{Limit: limit, Lease: lease, Scan: func(rows *sql.Rows) error {
		var m OutgoingMessage
		err := rows.Scan(&m.ID, &m.AutomationID, &m.MerchantID, &m.ProgramID, &m.CustomerID, &m.Serial, &m.Occur,
			&m.Variant, &m.Attempts)
		out = append(out, m)
		return err
	}})
	if err != nil {
		return nil, err
	}
	since := as.s.nowUTC().Add(-googleWindow)
	for i := range out {
		if err := as.reach(ctx, &out[i], since); err != nil {
			return out, err
		}
	}
	return out, nil
}

// reach loads the customer, the card and where the card is installed.
func (as *AutomationStore) reach(ctx context.Context, m *OutgoingMessage, googleSince time.Time) error {
	r := &m.Reach
	err := as.s.read.QueryRowContext(ctx, messageCustomer, m.Serial).Scan(&m.Phone, &m.Name, &r.AdsConsent, &r.Phone,
		&m.LastContact, &m.CardActive, &m.LinkToken)
	if err != nil {
		return fmt.Errorf("load message %d customer: %w", m.ID, err)
	}
	var wallet, google, app, koshelek int
	for _, q := range []struct {
		sql  string
		args []any
		dst  *int
	}{{walletInstalls, []any{m.Serial}, &wallet}, {googleSaves, []any{m.Serial}, &google},
		{googleNotified, []any{m.Serial, googleSince}, &r.GoogleNotified}, {appTokens, []any{m.Serial}, &app},
		{koshelekReach, []any{m.Serial}, &koshelek}} {
		if err := as.s.read.QueryRowContext(ctx, q.sql, q.args...).Scan(q.dst); err != nil {
			return fmt.Errorf("load message %d reach: %w", m.ID, err)
		}
	}
	r.Wallet, r.Google, r.App, r.Koshelek, r.GoogleQuota = wallet > 0, google > 0, app > 0, koshelek > 0, googleQuota
	r.Phone = r.Phone && m.Phone != ""
	return nil
}

const (
	// stampContact is the frequency cap, taken atomically: it stamps the
	// customer's last contact only if the last one is old enough.
	selectLastContact = `SELECT last_texted_at FROM customers WHERE id = ?`
	stampContact      = `UPDATE customers SET last_texted_at = ? WHERE id = ? AND (last_texted_at IS NULL OR last_texted_at <= ?)`
	unstampContact    = `UPDATE customers SET last_texted_at = ? WHERE id = ? AND last_texted_at = ?`
	// A claimed message is written to only under this instance's claim
	// (the last argument): one recovered and claimed again by another
	// instance is no longer this one's to send.
	markMessageOut = `UPDATE automation_messages SET status = 'sent', channel = ?, provider = ?, provider_id = ?,
		segments = ?, cost = ?, bonus = ?, reason = '', sent_at = ? WHERE id = ? AND ` + messageMine
	markMessageAs = `UPDATE automation_messages SET status = ?, reason = ?, due_at = ? WHERE id = ? AND ` + messageMine
	// postponeMessage puts a message back for later without counting an
	// attempt (quiet hours).
	postponeMessage = `UPDATE automation_messages SET status = 'pending', due_at = ?, attempts = attempts - 1
		WHERE id = ? AND ` + messageMine
	markMessageHanded = `UPDATE automation_messages SET handed_at = ? WHERE id = ? AND ` + messageMine
	messageMine       = `status = 'sending' AND claimed_by = ?`
	setMessageOnly    = `UPDATE cards SET message = ? WHERE serial_number = ? AND status = 'active'`
	setMessageVersion = `UPDATE cards SET message = ?, version = version + 1, updated_at = ?
		WHERE serial_number = ? AND status = 'active' RETURNING version`
	hasBudget     = `SELECT COUNT(*) FROM sms_budgets WHERE program_id = ?`
	reserveBudget = `UPDATE sms_budgets SET spent = (CASE WHEN month = ? THEN spent ELSE 0 END) + ?, month = ?
		WHERE program_id = ? AND (CASE WHEN month = ? THEN spent ELSE 0 END) + ? <= monthly`
	adjustBudget = `UPDATE sms_budgets SET spent = spent + ? WHERE program_id = ? AND month = ?`
)

// stamp takes the frequency cap for a contact at now: ErrCapped when the
// customer was contacted within capDays. It returns the previous stamp.
func (s *Store) stamp(ctx context.Context, tx *writeTx, customerID string, now time.Time, capDays int) (*time.Time, error) {
	var prev *time.Time
	if err := tx.QueryRowContext(ctx, selectLastContact, customerID).Scan(&prev); err != nil {
		return nil, fmt.Errorf("load last contact: %w", err)
	}
	cutoff := now.Add(-time.Duration(capDays) * 24 * time.Hour)
	res, err := tx.ExecContext(ctx, stampContact, now, customerID, cutoff)
	if err != nil {
		return nil, fmt.Errorf("stamp contact: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, ErrCapped
	}
	return prev, nil
}

// CardDelivery is a message that goes on the card itself: the lock
// screen of Apple Wallet and pkpass apps, a Google Wallet message, the
// merchant app's data message.
type CardDelivery struct {
	Channel string
	Text    string
	CapDays int
	// Bonus, when set, is credited with the message; Respond is the answer
	// stored with its key.
	Bonus   *loyalty.Posting
	Respond Respond
}

// DeliverOnCard puts the message on the card and records it sent on
// d.Channel, with the frequency cap's stamp and the bonus, in one
// transaction: the push channels carry the change from the outbox. It
// refuses with ErrCapped, ErrMessageTaken or loyalty.ErrCardVoided and
// then writes nothing.
func (as *AutomationStore) DeliverOnCard(ctx context.Context, m OutgoingMessage, d CardDelivery) error {
	return as.s.inTx(ctx, func(tx *writeTx) error {
		now := as.s.nowUTC()
		if _, err := as.s.stamp(ctx, tx, m.CustomerID, now, d.CapDays); err != nil {
			return err
		}
		var bonus int64
		if d.Bonus != nil {
			bonus = d.Bonus.Points
		}
		res, err := tx.ExecContext(ctx, markMessageOut, d.Channel, "", "", 0, 0, bonus, now, m.ID, as.s.instance)
		if err != nil {
			return fmt.Errorf("mark message sent: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrMessageTaken
		}
		if d.Bonus != nil {
			// The posting raises the card's version and queues its change:
			// one pass update carries both the points and the message.
			if _, err := tx.ExecContext(ctx, setMessageOnly, d.Text, m.Serial); err != nil {
				return fmt.Errorf("set message: %w", err)
			}
			_, _, err := as.s.postIn(ctx, tx, *d.Bonus, d.Respond)
			return err
		}
		var version int64
		err = tx.QueryRowContext(ctx, setMessageVersion, d.Text, now, m.Serial).Scan(&version)
		if errors.Is(err, sql.ErrNoRows) {
			return loyalty.ErrCardVoided
		}
		if err != nil {
			return fmt.Errorf("set message: %w", err)
		}
		return as.s.queueCardChange(ctx, tx, m.MerchantID, m.Serial, version, now)
	})
}

// Reservation is what ReserveText took: the contact stamp (and the one it
// replaced) and the budget, to settle or give back.
type Reservation struct {
	Stamp  time.Time
	Prev   *time.Time
	Budget bool
	Month  string
	Cost   int64
}

// ReserveText takes the frequency cap and cost of the program's SMS
// budget for a text, and records that the text is being handed to the
// provider: from here on, if this instance dies, the message is failed
// rather than sent twice. ErrCapped or ErrBudgetSpent when it may not go;
// ErrClaimLost when the message was recovered meanwhile (this instance's
// lease ran out) and must not be sent. A program without a budget has
// no limit.
func (as *AutomationStore) ReserveText(ctx context.Context, m OutgoingMessage, capDays int, cost int64) (Reservation, error) {
	var r Reservation
	err := as.s.inTx(ctx, func(tx *writeTx) error {
		r = Reservation{Stamp: as.s.nowUTC(), Cost: cost}
		r.Month = r.Stamp.Format("2006-01")
		res, err := tx.ExecContext(ctx, markMessageHanded, r.Stamp, m.ID, as.s.instance)
		if err != nil {
			return fmt.Errorf("mark text handed over: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrClaimLost
		}
		if r.Prev, err = as.s.stamp(ctx, tx, m.CustomerID, r.Stamp, capDays); err != nil {
			return err
		}
		var budgets int
		if err := tx.QueryRowContext(ctx, hasBudget, m.ProgramID).Scan(&budgets); err != nil {
			return fmt.Errorf("load SMS budget: %w", err)
		}
		if budgets == 0 {
			return nil
		}
		res, err = tx.ExecContext(ctx, reserveBudget, r.Month, cost, r.Month, m.ProgramID, r.Month, cost)
		if err != nil {
			return fmt.Errorf("reserve SMS budget: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrBudgetSpent
		}
		r.Budget = true
		return nil
	})
	return r, err
}

// TextSent records a text the provider accepted: what it cost (the
// budget is settled at that cost), the provider's id for its delivery
// reports, and the bonus.
func (as *AutomationStore) TextSent(ctx context.Context, m OutgoingMessage, r Reservation, provider, providerID string,
	segments int, cost int64, bonus *loyalty.Posting, respond Respond) error {
	return as.s.inTx(ctx, func(tx *writeTx) error {
		var points int64
		if bonus != nil {
			points = bonus.Points
		}
		res, err := tx.ExecContext(ctx, markMessageOut, loyalty.ChannelSMS, provider, providerID, segments, cost, points,
			as.s.nowUTC(), m.ID, as.s.instance)
		if err != nil {
			return fmt.Errorf("mark text sent: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrMessageTaken
		}
		if r.Budget && cost != r.Cost {
			if _, err := tx.ExecContext(ctx, adjustBudget, cost-r.Cost, m.ProgramID, r.Month); err != nil {
				return fmt.Errorf("settle SMS budget: %w", err)
			}
		}
		if bonus == nil {
			return nil
		}
		_, _, err = as.s.postIn(ctx, tx, *bonus, respond)
		if errors.Is(err, loyalty.ErrCardVoided) {
			return nil // the text went; a voided card takes no points
		}
		return err
	})
}

// TextNotSent gives back a reservation for a text that did not go and
// records why: status failed or skipped, or pending again (a retry) at due.
func (as *AutomationStore) TextNotSent(ctx context.Context, m OutgoingMessage, r Reservation, status, reason string, due time.Time) error {
	return as.s.inTx(ctx, func(tx *writeTx) error {
		if _, err := tx.ExecContext(ctx, unstampContact, r.Prev, m.CustomerID, r.Stamp); err != nil {
			return fmt.Errorf("give back contact: %w", err)
		}
		if r.Budget {
			if _, err := tx.ExecContext(ctx, adjustBudget, -r.Cost, m.ProgramID, r.Month); err != nil {
				return fmt.Errorf("give back SMS budget: %w", err)
			}
		}
		_, err := tx.ExecContext(ctx, markMessageAs, status, reason, due.UTC(), m.ID, as.s.instance)
		return err
	})
}

// SkipMessage ends a claimed message that will not be sent, with why.
func (as *AutomationStore) SkipMessage(ctx context.Context, m OutgoingMessage, reason string) error {
	_, err := as.s.write.ExecContext(ctx, markMessageAs, "skipped", reason, as.s.nowUTC(), m.ID, as.s.instance)
	return err
}

// PostponeMessage puts a claimed message back until due (quiet hours),
// without counting the attempt.
func (as *AutomationStore) PostponeMessage(ctx context.Context, m OutgoingMessage, due time.Time) error {
	_, err := as.s.write.ExecContext(ctx, postponeMessage, due.UTC(), m.ID, as.s.instance)
	return err
}

// AbandonStaleMessages recovers the messages a sender left "sending" past
// their stamp and whose instance is not alive (or never joined): those
// never handed to a provider wait again, those handed over are failed, so
// nobody gets a message twice. Messages live instances are sending are
// left alone, however long they take. It returns how many it put back
// and how many it failed.
func (as *AutomationStore) AbandonStaleMessages(ctx context.Context) (back, failed int64, err error) {
	err = as.s.inTx(ctx, func(tx *writeTx) error {
		now := as.s.nowUTC()
		back, failed, err = as.s.recoverMessages(ctx, tx, staleMessage, now, now)
		return err
	})
	return back, failed, err
}

var (
	// putBackMessages and failHandedMessages recover the claimed messages
	// that match a condition: one never handed to a provider was not
	// sent, and waits again without its attempt counted; one handed over
	// may have been sent, and is failed rather than sent twice.
	putBackMessages = `UPDATE automation_messages SET status = 'pending', attempts = attempts - 1, claimed_by = NULL,
		claimed_until = NULL WHERE status = 'sending' AND handed_at IS NULL AND `
	failHandedMessages = `UPDATE automation_messages SET status = 'failed',
		reason = 'interrupted while sending: not sent again, so nobody gets it twice' WHERE status = 'sending' AND `
	// deadMessageClaim: claimed by an instance whose lease ran out (Recover).
	deadMessageClaim = "claimed_by IS NOT NULL AND NOT " + liveClaim("automation_messages.claimed_by")
	// staleMessage: left past its stamp by a sender that is not a live
	// instance (AbandonStaleMessages; covers stores that never joined).
	staleMessage = "claimed_until < ? AND NOT " + liveClaim("automation_messages.claimed_by")
)

// recoverMessages puts back the claimed messages matching which (with
// args) that were never handed over, and fails those that were; workers
// are woken when some wait again.
func (s *Store) recoverMessages(ctx context.Context, tx *writeTx, which string, args ...any) (back, failed int64, err error) {
	res, err := tx.ExecContext(ctx, putBackMessages+which, args...)
	if err != nil {
		return 0, 0, fmt.Errorf("recover automation messages: %w", err)
	}
	if back, _ = res.RowsAffected(); back > 0 {
		tx.enqueued(messageQueue)
	}
	if res, err = tx.ExecContext(ctx, failHandedMessages+which, args...); err != nil {
		return 0, 0, fmt.Errorf("fail interrupted automation messages: %w", err)
	}
	failed, _ = res.RowsAffected()
	return back, failed, nil
}

const (
	selectMessageByProvider = `SELECT id, customer_id, merchant_id FROM automation_messages WHERE provider_id = ? AND provider = ?`
	markMessageDelivered    = `UPDATE automation_messages SET status = 'delivered', delivered_at = COALESCE(delivered_at, ?) WHERE id = ?`
	markMessageUndelivered  = `UPDATE automation_messages SET status = 'failed', reason = ? WHERE id = ? AND status IN ('sent', 'delivered')`
)

// recordTextDelivery applies a delivery report to the automation text it
// concerns; false when no automation sent it.
func (s *Store) recordTextDelivery(ctx context.Context, tx *writeTx, d DeliveryReport) (bool, error) {
	var id int64
	var customer, merchant string
	err := tx.QueryRowContext(ctx, selectMessageByProvider, d.ProviderID, d.Provider).Scan(&id, &customer, &merchant)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("find automation text: %w", err)
	}
	now := s.nowUTC()
	switch {
	case d.Delivered:
		_, err = tx.ExecContext(ctx, markMessageDelivered, now, id)
	case d.Failed:
		_, err = tx.ExecContext(ctx, markMessageUndelivered, d.Reason, id)
	}
	if err == nil && d.InvalidNumber {
		_, err = tx.ExecContext(ctx, markPhoneBad, now, customer)
	}
	if err == nil && d.OptedOut {
		err = s.withdrawSMS(ctx, tx, merchant, customer, loyalty.SourceOperator)
	}
	return true, err
}

package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

// On PostgreSQL a posting's cost is its round trips: each statement sent
// on its own is a write, a wait and a wake-up of the connection's reader,
// in the server and in both kernels, and through database/sql a dozen
// statements cost more CPU than the rest of the request. So the posting
// runs on the connection's pgx interface, in pipelined batches: what it
// reads (the idempotency key, the card locked, its program's rules, whether
// the merchant has webhook endpoints and the card a pending referral) in
// the batch that begins the transaction; the card's lots or the refunded
// line, when the domain needs them, in a second; every write (the same
// statements as on SQLite, from outcomeWrites) and the COMMIT in a third.
// A write that must change a given number of rows checks it in SQL, so
// that a failed check aborts the transaction (checkedWrite).
//
// A purchase that pays a referral credits a second card: that rare posting
// runs the step-by-step path (postIn) instead, in a fresh transaction.

// errStepByStep sends a posting to the step-by-step path.
var errStepByStep = errors.New("posting needs the step-by-step path")

const selectCardProgramRules = `SELECT earn_rate_bp, tiers, tier_basis, tier_downgrade, points_lifetime_days,
		kind, stamps_required, stamp_min_purchase, discount_percent, currency FROM programs
		WHERE id = (SELECT program_id FROM cards WHERE serial_number = ?)`

// selectLockedCard is selectCard locking the card, as lockCard does
// (PostgreSQL only, so not a constant: every constant prepares on both).
var selectLockedCard = rebind(selectCard + ` FOR NO KEY UPDATE OF c`)

// postPipelined is Post in one transaction of pipelined batches on a pgx
// connection of the pool. It returns errStepByStep, having changed
// nothing, for a posting it leaves to postIn.
func (s *Store) postPipelined(ctx context.Context, p loyalty.Posting, respond Respond) (ans Answer, replayed bool, err error) {
	conn, err := s.write.Conn(ctx)
	if err != nil {
		return Answer{}, false, fmt.Errorf("connection: %w", err)
	}
	defer conn.Close()
	var queued queues
	err = conn.Raw(func(dc any) error {
		rc, ok := dc.(*rebindConn)
		if !ok {
			return fmt.Errorf("posting: connection is a %T, not pgx", dc)
		}
		var err error
		ans, replayed, err = s.postOn(ctx, rc.Conn.Conn(), p, respond, &queued)
		return err
	})
	if err == nil {
		s.wake(queued)
	}
	return ans, replayed, err
}

// postOn runs the posting's transaction on c. Whatever it returns, c is
// outside a transaction afterwards, or closed (database/sql drops a
// connection left in one).
func (s *Store) postOn(ctx context.Context, c *pgx.Conn, p loyalty.Posting, respond Respond, queued *queues) (ans Answer, replayed bool, err error) {
	done := false
	defer func() {
		if !done {
			c.Exec(ctx, "ROLLBACK") //nolint:errcheck // a failed rollback leaves the connection to be dropped
		}
	}()

	// 1. Begin, and read everything the domain may need but the lots.
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	b.Queue(rebind(selectIdempotency), p.MerchantID, p.IdempotencyKey)
	b.Queue(selectLockedCard, p.MerchantID, p.Serial)
	b.Queue(rebind(selectCardProgramRules), p.Serial)
	b.Queue(rebind(hasWebhookEndpoint), p.MerchantID)
	b.Queue(rebind(pendingReferral), p.Serial)
	br := c.SendBatch(ctx, b)
	if _, err := br.Exec(); err != nil {
		br.Close()
		return Answer{}, false, fmt.Errorf("begin: %w", err)
	}
	var hash []byte
	err = br.QueryRow().Scan(&hash, &ans.Status, &ans.Body)
	switch {
	case err == nil:
		br.Close()
		if !bytes.Equal(hash, p.RequestHash) {
			return Answer{}, false, ErrIdempotencyReuse
		}
		return ans, true, nil
	case !errors.Is(err, sql.ErrNoRows):
		br.Close()
		return Answer{}, false, fmt.Errorf("load idempotency key: %w", err)
	}
	card, err := scanCard(br.QueryRow())
	if err != nil {
		br.Close()
		return Answer{}, false, err
	}
	st := loyalty.State{Card: card}
	if st.Program, err = scanProgramRules(br.QueryRow(), card.ProgramID); err != nil {
		br.Close()
		return Answer{}, false, err
	}
	var endpoints int
	if err := br.QueryRow().Scan(&endpoints); err != nil {
		br.Close()
		return Answer{}, false, fmt.Errorf("webhook endpoints: %w", err)
	}
	var referral, referrer, referralProgram string
	err = br.QueryRow().Scan(&referral, &referrer, &referralProgram)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		br.Close()
		return Answer{}, false, fmt.Errorf("load pending referral: %w", err)
	}
	if err := br.Close(); err != nil {
		return Answer{}, false, err
	}

	// 2. The lots, or the line a refund returns, if the domain needs them.
	if err := s.loadPostingExtras(ctx, c, p, &st); err != nil {
		return Answer{}, false, err
	}
	out, err := loyalty.Post(st, p, s.nowUTC())
	if err != nil {
		return Answer{}, false, err
	}
	if referral != "" && out.Line.Kind == loyalty.Earn {
		return Answer{}, false, errStepByStep
	}

	// 3. Every write, the answer stored with its key and the webhook.
	writes := s.outcomeWrites(card, &out, s.tagBase)
	if ans, err = respond(Posted{Transaction: out.Line, Card: out.Card, Program: st.Program}); err != nil {
		return Answer{}, false, err
	}
	writes = append(writes, write{what: "store idempotency key", query: insertIdempotency, rows: -1,
		args: []any{p.MerchantID, p.IdempotencyKey, p.RequestHash, ans.Status, ans.Body, s.nowUTC()}})
	event := -1
	if endpoints > 0 {
		w, err := s.eventWrite(card.MerchantID, EventBalanceChanged, balanceEvent(out))
		if err != nil {
			return Answer{}, false, err
		}
		event = len(writes)
		writes = append(writes, w)
	}
	tags, err := commitWrites(ctx, c, writes)
	if err != nil {
		return Answer{}, false, err
	}
	done = true
	if event >= 0 && tags[event].RowsAffected() > 0 {
		queued[webhookQueue] = true
	}
	queued[outboxQueue] = true
	return ans, false, nil
}

// commitWrites runs writes and the COMMIT of the transaction open on c in
// one pipelined batch, and returns the writes' command tags. A write that
// fails (or changes other than its rows) aborts the transaction, and
// PostgreSQL skips the COMMIT behind it; the caller rolls back.
func commitWrites(ctx context.Context, c *pgx.Conn, writes []write) ([]pgconn.CommandTag, error) {
	b := &pgx.Batch{}
	for _, w := range writes {
		b.Queue(checkedWrite(w), w.args...)
	}
	b.Queue("COMMIT")
	br := c.SendBatch(ctx, b)
	defer br.Close()
	tags := make([]pgconn.CommandTag, len(writes))
	for i, w := range writes {
		tag, err := br.Exec()
		if pe := (*pgconn.PgError)(nil); errors.As(err, &pe) && pe.Code == divisionByZero && w.rows >= 0 {
			return nil, fmt.Errorf("%s: not %d rows changed", w.what, w.rows)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", w.what, err)
		}
		tags[i] = tag
	}
	tag, err := br.Exec()
	if err == nil && tag.String() != "COMMIT" { // COMMIT of a failed transaction answers ROLLBACK
		err = fmt.Errorf("the transaction ended in %s", tag)
	}
	if err == nil {
		err = br.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return tags, nil
}

// divisionByZero is the SQLSTATE of checkedWrite's failed check.
const divisionByZero = "22012"

// checkedWrite is w's statement, rebound, failing with a division by zero
// unless it changes exactly w.rows rows (when w.rows is not negative): the
// check has to fail the transaction itself, since the COMMIT is already
// in the pipeline behind it.
func checkedWrite(w write) string {
	if w.rows < 0 {
		return rebind(w.query)
	}
	return rebind(fmt.Sprintf(`WITH w AS (%s RETURNING 1) SELECT 1 / (COUNT(*) = %d)::int FROM w`, w.query, w.rows))
}

// loadPostingExtras reads the card's open lots and the line a refund
// returns, in one batch, when the posting needs either.
func (s *Store) loadPostingExtras(ctx context.Context, c *pgx.Conn, p loyalty.Posting, st *loyalty.State) error {
	lots := st.NeedsLots(p)
	if !lots && p.RefundOf == "" {
		return nil
	}
	b := &pgx.Batch{}
	if lots {
		b.Queue(rebind(selectLots), st.Card.SerialNumber)
	}
	if p.RefundOf != "" {
		b.Queue(rebind(selectLine), p.RefundOf, st.Card.SerialNumber)
	}
	br := c.SendBatch(ctx, b)
	defer br.Close()
	if lots {
		rows, err := br.Query()
		if err != nil {
			return fmt.Errorf("load lots: %w", err)
		}
		st.Lots, err = scanLots(rows)
		rows.Close()
		if err != nil {
			return err
		}
	}
	if p.RefundOf != "" {
		t, err := scanTransaction(br.QueryRow())
		switch {
		case err == nil:
			st.Earn = &t
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
	}
	return br.Close()
}

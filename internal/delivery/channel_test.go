package delivery_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/delivery"
	"github.com/loyalpass/loyalpass/internal/store"
	"github.com/loyalpass/loyalpass/push"
)

// ledgerChannel is a channel that exists only in this test: every card
// is its target, and it records what it was sent. It fails on demand: a
// number of sends for a card, or every page of a program.
type ledgerChannel struct {
	mu          sync.Mutex
	sent        []string       // serials, in order of sending
	failSends   map[string]int // serial → passing failures left
	failProgram string         // a program whose targets cannot be read
}

var _ delivery.Channel = (*ledgerChannel)(nil)

func (c *ledgerChannel) Name() string { return "ledger" }

func (c *ledgerChannel) Targets(_ context.Context, serials []string) ([]store.Target, error) {
	ts := make([]store.Target, len(serials))
	for i, s := range serials {
		ts[i] = store.Target{Channel: c.Name(), Serial: s}
	}
	return ts, nil
}

func (c *ledgerChannel) ProgramTargets(_ context.Context, programID string, _ store.Target, _ int) ([]store.Target, error) {
	if programID == c.failProgram {
		return nil, errors.New("ledger is down for program " + programID)
	}
	return nil, nil
}

func (c *ledgerChannel) Send(_ context.Context, targets []store.Target) []push.Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	results := make([]push.Result, len(targets))
	for i, t := range targets {
		if c.failSends[t.Serial] > 0 {
			c.failSends[t.Serial]--
			results[i] = push.Result{Outcome: push.Retry, Reason: "ledger busy"}
			continue
		}
		c.sent = append(c.sent, t.Serial)
	}
	return results
}

func (c *ledgerChannel) got() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sent)
}

// withChannel replaces the world's worker with one that also has ch.
func (w *world) withChannel(ch delivery.Channel) {
	w.worker = delivery.New(delivery.Options{Store: delivery.StoreOf(w.store), Channels: []delivery.Channel{ch}, MaxAttempts: 3,
		Backoff: func(int) time.Duration { return time.Minute }, Now: w.clock.Now})
}

// TestChannelAdapterReachedThroughTheQueue registers a channel the
// package does not know, changes a card through the API, and sees the
// change reach the channel through the outbox: at once, and after a
// passing failure through a retry row that names the channel.
func TestChannelAdapterReachedThroughTheQueue(t *testing.T) {
	w := newWorld(t, time.Second)
	ledger := &ledgerChannel{failSends: map[string]int{}}
	w.withChannel(ledger)
	serial, _ := w.issue("+79123456789")
	w.drain()
	before := len(ledger.got()) // issuing a card may or may not be a change

	w.earn(serial, "earn-1", "10000")
	w.drain()
	if got := ledger.got(); len(got) != before+1 || got[len(got)-1] != serial {
		t.Fatalf("ledger got %v after the earn, want %s once more", got, serial)
	}

	ledger.failSends[serial] = 1
	w.earn(serial, "earn-2", "10000")
	w.drain()
	var payload string
	var dead bool
	if err := w.db.QueryRow(`SELECT payload, dead FROM outbox WHERE topic = 'push.retry' AND serial_number = ?
		AND done_at IS NULL`, serial).Scan(&payload, &dead); err != nil || payload != `{"channel":"ledger"}` || dead {
		t.Fatalf("retry row = %q dead %v, %v; want one pending ledger retry", payload, dead, err)
	}
	w.clock.Advance(2 * time.Minute)
	w.drain()
	if got := ledger.got(); len(got) != before+2 || got[len(got)-1] != serial {
		t.Fatalf("ledger got %v after the retry", got)
	}
	var pending int
	w.db.QueryRow(`SELECT COUNT(*) FROM outbox WHERE done_at IS NULL`).Scan(&pending)
	if pending != 0 {
		t.Fatalf("%d outbox rows left", pending)
	}
}

// TestFailingRowDoesNotHoldUpTheBatch claims a program change whose
// channel fails together with another card's change: the card's change
// goes out and is done, the program's row is put back with its error for
// a later attempt (not left claimed until its lease runs out), and it
// becomes a dead letter once it has had its attempts.
func TestFailingRowDoesNotHoldUpTheBatch(t *testing.T) {
	w := newWorld(t, time.Second)
	ledger := &ledgerChannel{failSends: map[string]int{}}
	w.withChannel(ledger)
	failing, _ := w.issue("+79123456780")
	other, _ := w.issue("+79123456781")
	w.drain()
	prog := w.merchant("GET", "/api/v1/cards/"+failing, "", "")["program_id"].(string)
	ledger.failProgram = prog

	w.merchant("PATCH", "/api/v1/programs/"+prog, `{"name":"Зерно+"}`, "")
	w.earn(other, "earn-other", "10000")
	before := len(ledger.got())
	if n, err := w.worker.RunOnce(context.Background()); err != nil || n != 2 {
		t.Fatalf("RunOnce = %d, %v; want both rows claimed in one batch", n, err)
	}
	if got := ledger.got(); len(got) != before+1 || got[len(got)-1] != other {
		t.Fatalf("ledger got %v; want the other card's change", got[before:])
	}
	row := func() (attempts int, claimed, done, dead bool, lastErr string) {
		w.db.QueryRow(`SELECT attempts, claimed_until IS NOT NULL, done_at IS NOT NULL, dead, last_error FROM outbox
			WHERE topic = 'program.changed'`).Scan(&attempts, &claimed, &done, &dead, &lastErr)
		return
	}
	if attempts, claimed, done, dead, lastErr := row(); attempts != 1 || claimed || done || dead || lastErr == "" {
		t.Fatalf("program row: attempts %d claimed %v done %v dead %v error %q; want put back with its error",
			attempts, claimed, done, dead, lastErr)
	}
	var otherDone bool
	w.db.QueryRow(`SELECT done_at IS NOT NULL FROM outbox WHERE topic = 'card.changed' AND serial_number = ?
		ORDER BY id DESC LIMIT 1`, other).Scan(&otherDone)
	if !otherDone {
		t.Fatal("the other card's change is not done")
	}
	if n, _ := w.worker.RunOnce(context.Background()); n != 0 {
		t.Fatalf("the put-back row was claimed again before its back-off (%d rows)", n)
	}
	for range 3 {
		w.clock.Advance(2 * time.Minute)
		w.drain()
	}
	if attempts, _, done, dead, _ := row(); attempts != 3 || done || !dead {
		t.Fatalf("program row after its attempts: %d attempts, done %v, dead %v; want a dead letter", attempts, done, dead)
	}
}

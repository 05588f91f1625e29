package delivery_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
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

func (c *ledgerChannel) Send(_ context.Context, targets []store.Target, done func(int, push.Result)) {
	for i, t := range targets {
		c.mu.Lock()
		r := push.Result{}
		if c.failSends[t.Serial] > 0 {
			c.failSends[t.Serial]--
			r = push.Result{Outcome: push.Retry, Reason: "ledger busy"}
		} else {
			c.sent = append(c.sent, t.Serial)
		}
		c.mu.Unlock()
		done(i, r)
	}
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

// recordCounting is the world's store, counting the outcomes recorded and
// the transactions that recorded them.
type recordCounting struct {
	delivery.Store
	recorded, writes atomic.Int64
}

func (s *recordCounting) RecordOutcomes(ctx context.Context, merchantID string, outcomes []store.Outcome) error {
	err := s.Store.RecordOutcomes(ctx, merchantID, outcomes)
	s.recorded.Add(int64(len(outcomes)))
	s.writes.Add(1)
	return err
}

// parallelChannel sends every card, parallel sends at once, and notes
// the most sends that had gone out with their outcome not yet recorded.
type parallelChannel struct {
	ledgerChannel
	parallel int
	store    *recordCounting
	sent     atomic.Int64
	worst    atomic.Int64
}

func (c *parallelChannel) Send(_ context.Context, targets []store.Target, done func(int, push.Result)) {
	sem := make(chan struct{}, c.parallel)
	var wg sync.WaitGroup
	for i := range targets {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			out := c.sent.Add(1) - c.store.recorded.Load()
			for worst := c.worst.Load(); out > worst && !c.worst.CompareAndSwap(worst, out); worst = c.worst.Load() {
			}
			done(i, push.Result{Outcome: push.Delivered})
		})
	}
	wg.Wait()
}

// TestOutcomesRecordedAsSendsComplete changes 60 cards and sends them in
// one round over a channel that sends 4 at once: a send's place is free
// only once its outcome is recorded, so no more than 4 sends are ever out
// and unrecorded (what a killed instance would send again), and the
// outcomes go in groups, not one transaction each.
func TestOutcomesRecordedAsSendsComplete(t *testing.T) {
	w := newWorld(t, time.Second)
	counting := &recordCounting{Store: delivery.StoreOf(w.store)}
	ch := &parallelChannel{parallel: 4, store: counting}
	w.worker = delivery.New(delivery.Options{Store: counting, Channels: []delivery.Channel{ch}, Batch: 100, Now: w.clock.Now})
	const cards = 60
	serials := make([]string, cards)
	for i := range serials {
		serials[i], _ = w.issue(fmt.Sprintf("+791234500%02d", i))
	}
	w.drain()
	ch.sent.Store(0)
	counting.recorded.Store(0)
	counting.writes.Store(0)
	for i, serial := range serials {
		w.earn(serial, fmt.Sprint("earn-", i), "10000")
	}
	w.drain()
	sent, recorded := ch.sent.Load(), counting.recorded.Load()
	if sent != cards || recorded != sent {
		t.Fatalf("%d sends, %d outcomes recorded; want every one of the %d cards sent and recorded", sent, recorded, cards)
	}
	if worst := ch.worst.Load(); worst > int64(ch.parallel) {
		t.Errorf("%d sends were out and unrecorded at once, more than the channel's %d in flight", worst, ch.parallel)
	}
	t.Logf("%d sends recorded in %d transactions; at most %d out and unrecorded at once", sent, counting.writes.Load(), ch.worst.Load())
}

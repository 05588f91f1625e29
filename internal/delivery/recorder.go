package delivery

import (
	"context"
	"errors"
	"sync"

	"github.com/loyalpass/loyalpass/internal/store"
)

// recorder stores the outcomes of a round of sends as the sends complete,
// so that an instance killed mid-way leaves few pushes sent and not
// recorded (each goes out again after the restart). Writing each outcome
// alone would cost a transaction per push; instead the outcomes gather
// while a write is in progress and the next write takes them all, a group
// commit: a group is one outcome when pushes are slow and grows with
// their rate, and no outcome waits for more than the write before its
// own. There is no timer to tune: a write starts as soon as one ends.
type recorder struct {
	store    Store
	ctx      context.Context
	merchant string

	mu   sync.Mutex
	next *outcomeGroup // where outcomes gather for the next write
	errs []error

	kick    chan struct{} // an outcome is waiting
	quit    chan struct{}
	stopped chan struct{}
}

// outcomeGroup is the outcomes one transaction records.
type outcomeGroup struct {
	outcomes []store.Outcome
	written  chan struct{} // closed once the transaction ended
}

func newOutcomeGroup() *outcomeGroup { return &outcomeGroup{written: make(chan struct{})} }

// startRecorder starts recording a merchant's outcomes under ctx until
// stop.
func (w *Worker) startRecorder(ctx context.Context, merchant string) *recorder {
	r := &recorder{store: w.opts.Store, ctx: ctx, merchant: merchant, next: newOutcomeGroup(),
		kick: make(chan struct{}, 1), quit: make(chan struct{}), stopped: make(chan struct{})}
	go r.run()
	return r
}

// record adds outcomes to the next write and returns once that write is
// over, so the send that called it goes on only then.
func (r *recorder) record(outcomes ...store.Outcome) {
	r.mu.Lock()
	g := r.next
	g.outcomes = append(g.outcomes, outcomes...)
	r.mu.Unlock()
	select {
	case r.kick <- struct{}{}:
	default: // a kick is pending: the next write takes these too
	}
	<-g.written
}

// run writes each group that gathered, one transaction at a time.
func (r *recorder) run() {
	defer close(r.stopped)
	for {
		select {
		case <-r.kick:
		case <-r.quit:
			return
		}
		r.mu.Lock()
		g := r.next
		r.next = newOutcomeGroup()
		r.mu.Unlock()
		if len(g.outcomes) == 0 {
			continue // taken by the write before, whose kick came late
		}
		if err := r.store.RecordOutcomes(r.ctx, r.merchant, g.outcomes); err != nil {
			r.mu.Lock()
			r.errs = append(r.errs, err)
			r.mu.Unlock()
		}
		close(g.written)
	}
}

// stop ends the recording once every record call has returned, and
// reports the writes that failed.
func (r *recorder) stop() error {
	close(r.quit)
	<-r.stopped
	return errors.Join(r.errs...)
}

package automation

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/loyalpass/loyalpass/internal/drain"
	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/store"
)

// Store is the whole database side of automations.
type Store interface {
	SchedulerStore
	SenderStore
	MessagesQueued() <-chan struct{}
}

// aggregates joins the store aggregates automations read and write.
type aggregates struct {
	*store.AutomationStore
	*store.ProgramStore
	*store.CampaignStore // the customer's phone and opt-out, shared with campaigns
}

// Program resolves the ambiguity of the embedded aggregates: the program.
func (a aggregates) Program(ctx context.Context, merchantID, id string) (loyalty.Program, error) {
	return a.ProgramStore.Program(ctx, merchantID, id)
}

// StoreOf returns the automations' Store on the database st.
func StoreOf(st *store.Store) Store {
	return aggregates{st.Automations(), st.Programs(), st.Campaigns()}
}

// Runner runs a scheduler and a sender until stopped.
type Runner struct {
	Scheduler *Scheduler
	Sender    *Sender
	// Queued wakes the sender when messages were made; it also polls every
	// Poll (default 30 s) for messages that fell due (after quiet hours).
	Queued <-chan struct{}
	Poll   time.Duration
	// Grace is how long, once Run's context ends, a message in flight gets
	// to finish (default 20 s).
	Grace time.Duration
	Log   *slog.Logger
}

// Run evaluates automations every Scheduler.Every and sends their
// messages until ctx ends; then it claims nothing new and lets the
// message in flight finish within Grace.
func (r *Runner) Run(ctx context.Context) {
	grace, poll := r.Grace, r.Poll
	if grace <= 0 {
		grace = 20 * time.Second
	}
	if poll <= 0 {
		poll = 30 * time.Second
	}
	log := r.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "automation")
	work, cancel := drain.Context(ctx, grace)
	defer cancel()
	wake := make(chan struct{}, 1)
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(r.Scheduler.opts.Every)
		defer t.Stop()
		for {
			ev, err := r.Scheduler.RunOnce(ctx)
			if err != nil && ctx.Err() == nil {
				log.Error("automation evaluation failed", "err", err)
			}
			if ev.Messages > 0 {
				select {
				case wake <- struct{}{}:
				default:
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})
	wg.Go(func() {
		t := time.NewTicker(poll)
		defer t.Stop()
		for {
			if _, err := r.Sender.RunOnce(ctx, work); err != nil && ctx.Err() == nil {
				log.Error("automation sending failed", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			case <-wake:
			case <-r.Queued:
			}
		}
	})
	wg.Wait()
}

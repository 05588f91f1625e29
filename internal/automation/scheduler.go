// Package automation runs automations: the scheduler evaluates each
// automation's trigger over what changed since its last evaluation and
// makes one message per customer and occurrence, placed in the holdout or
// a variant by internal/lift; the sender sends each message by the
// cheapest channel that reaches the customer (loyalty.Route) through the
// sending core it shares with win-back campaigns (internal/outreach).
// Both are safe to run on several instances at once: evaluations and
// messages are claimed in the database, and a message is sent at most
// once.
package automation

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/loyalpass/loyalpass/internal/lift"
	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/store"
)

// SchedulerStore is what the scheduler needs of the database.
type SchedulerStore interface {
	ClaimAutomations(ctx context.Context, limit int, lease time.Duration) ([]store.Automation, error)
	CandidatePage(ctx context.Context, a store.Automation, from, to time.Time, after store.CandidateCursor,
		limit int) ([]store.Candidate, store.CandidateCursor, error)
	RecordMessages(ctx context.Context, a store.Automation, msgs []store.NewMessage) (int, error)
	FinishEvaluation(ctx context.Context, a store.Automation, to, next time.Time) error
	ReleaseAutomation(ctx context.Context, id string, next time.Time) error
	WatchRhythms(ctx context.Context, programID string, lease time.Duration) (int, error)
	AutomationReport(ctx context.Context, id string, closedBy time.Time) ([]store.AutomationGroup, []store.ChannelCount, error)
	ClaimRulesCheck(ctx context.Context, id string, every time.Duration) (bool, error)
	SetWinner(ctx context.Context, id string, variant int) error
	SetAutomationStatus(ctx context.Context, merchantID, id, from, to, reason string) (store.Automation, error)
}

// margin is how far back an evaluation reaches before the last one
// ended, for rows committed late with an earlier time; what it finds
// again is the same message, made once.
const margin = 10 * time.Minute

// SchedulerOptions configures a Scheduler.
type SchedulerOptions struct {
	Store SchedulerStore
	Now   func() time.Time
	Log   *slog.Logger
	// Every is how often each automation is evaluated (default 1 minute).
	Every time.Duration
	// Lease is how long one evaluation may take before another instance
	// may take it over (default 10 minutes).
	Lease time.Duration
	// RulesEvery is how often the auto-pause and winner rules look at an
	// automation's numbers (default 1 hour).
	RulesEvery time.Duration
	// Page is how many candidates are read, placed and written at a time,
	// each page in its own short transaction (default 2000).
	Page int
}

// Scheduler evaluates due automations.
type Scheduler struct {
	opts SchedulerOptions
	log  *slog.Logger
}

// NewScheduler returns a Scheduler.
func NewScheduler(opts SchedulerOptions) *Scheduler {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Every <= 0 {
		opts.Every = time.Minute
	}
	if opts.Lease <= 0 {
		opts.Lease = 10 * time.Minute
	}
	if opts.RulesEvery <= 0 {
		opts.RulesEvery = time.Hour
	}
	if opts.Page <= 0 {
		opts.Page = 2000
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	return &Scheduler{opts: opts, log: opts.Log.With("component", "automation")}
}

// Evaluation counts what one round of the scheduler did.
type Evaluation struct {
	Automations int // automations evaluated
	Watched     int // changed cards whose rhythm and tier were looked at
	Candidates  int // customers the triggers selected (once a page: a page boundary may count one twice)
	Messages    int // new messages (holdout included)
}

// RunOnce evaluates every automation that is due, and reports what it did.
func (s *Scheduler) RunOnce(ctx context.Context) (Evaluation, error) {
	var ev Evaluation
	watched := map[string]bool{}
	for {
		autos, err := s.opts.Store.ClaimAutomations(ctx, 20, s.opts.Lease)
		if err != nil || len(autos) == 0 {
			return ev, err
		}
		for _, a := range autos {
			if err := s.evaluate(ctx, a, watched, &ev); err != nil {
				_ = s.opts.Store.ReleaseAutomation(context.WithoutCancel(ctx), a.ID, s.opts.Now().Add(s.opts.Every))
				return ev, fmt.Errorf("automation %s: %w", a.ID, err)
			}
		}
	}
}

func (s *Scheduler) evaluate(ctx context.Context, a store.Automation, watched map[string]bool, ev *Evaluation) error {
	if t := a.Trigger.Type; (t == loyalty.TriggerRepurchaseDue || t == loyalty.TriggerTierChanged) && !watched[a.ProgramID] {
		n, err := s.opts.Store.WatchRhythms(ctx, a.ProgramID, s.opts.Lease)
		if err != nil {
			return fmt.Errorf("watch rhythms: %w", err)
		}
		watched[a.ProgramID] = true
		ev.Watched += n
	}
	now := s.opts.Now().UTC()
	from := a.EvaluatedUntil.Add(-margin)
	if from.Before(a.CreatedAt) {
		from = a.CreatedAt
	}
	// Page by page: read candidates, place each in the holdout or a
	// variant, write the page's messages. The watermark moves once all
	// are written; an evaluation cut short is repeated and finds the
	// messages it made already.
	split := lift.Split{HoldoutBP: a.HoldoutBP, Variants: len(a.Variants), Winner: a.Winner}
	made := 0
	for cur := (store.CandidateCursor{}); !cur.Done; {
		var cands []store.Candidate
		var err error
		if cands, cur, err = s.opts.Store.CandidatePage(ctx, a, from, now, cur, s.opts.Page); err != nil {
			return err
		}
		if len(cands) == 0 {
			continue
		}
		msgs := make([]store.NewMessage, len(cands))
		for i, c := range cands {
			as := lift.Assign(a.ID, c.CustomerID, split)
			msgs[i] = store.NewMessage{Candidate: c, Holdout: as.Holdout, Variant: as.Variant}
		}
		n, err := s.opts.Store.RecordMessages(ctx, a, msgs)
		if err != nil {
			return err
		}
		made += n
		ev.Candidates += len(cands)
	}
	if err := s.opts.Store.FinishEvaluation(ctx, a, now, now.Add(s.opts.Every)); err != nil {
		return err
	}
	ev.Automations++
	ev.Messages += made
	if made > 0 {
		s.log.Info("automation fired", "automation", a.ID, "trigger", a.Trigger.Type, "messages", made)
	}
	return s.rules(ctx, a)
}

// rules applies the automation's auto-pause and winner rules to the
// messages whose purchase window has closed.
func (s *Scheduler) rules(ctx context.Context, a store.Automation) error {
	pause := a.AutoPauseMin > 0
	winner := a.WinnerMin > 0 && a.Winner < 0 && len(a.Variants) > 1
	if !pause && !winner {
		return nil
	}
	if ok, err := s.opts.Store.ClaimRulesCheck(ctx, a.ID, s.opts.RulesEvery); err != nil || !ok {
		return err
	}
	groups, _, err := s.opts.Store.AutomationReport(ctx, a.ID, s.opts.Now())
	if err != nil {
		return err
	}
	holdout, treated, variants := Counts(groups, len(a.Variants))
	if winner {
		if best, ok := lift.Winner(variants, int64(a.WinnerMin)); ok {
			s.log.Info("a variant won: it takes every new message", "automation", a.ID, "variant", best)
			if err := s.opts.Store.SetWinner(ctx, a.ID, best); err != nil {
				return err
			}
		}
	}
	if pause && lift.NoLift(treated, holdout, int64(a.AutoPauseMin)) {
		t := lift.Compare(treated, holdout)
		reason := fmt.Sprintf("no lift: %+.2f points, 95 %% interval %+.2f to %+.2f, after %d messaged and %d held out",
			t.Diff*100, t.Low*100, t.High*100, treated.N, holdout.N)
		s.log.Info("automation paused itself", "automation", a.ID, "reason", reason)
		_, err := s.opts.Store.SetAutomationStatus(ctx, a.MerchantID, a.ID, store.AutomationActive, store.AutomationPaused, reason)
		return err
	}
	return nil
}

// Counts sums an automation's groups into the holdout, everyone outside
// it, and each of n variants: customers, and those who bought.
func Counts(groups []store.AutomationGroup, n int) (holdout, treated lift.Count, variants []lift.Count) {
	variants = make([]lift.Count, n)
	for _, g := range groups {
		c := lift.Count{N: g.Customers, Converted: g.Purchasers}
		if g.Holdout {
			holdout.N += c.N
			holdout.Converted += c.Converted
			continue
		}
		treated.N += c.N
		treated.Converted += c.Converted
		if g.Variant >= 0 && g.Variant < n {
			variants[g.Variant].N += c.N
			variants[g.Variant].Converted += c.Converted
		}
	}
	return holdout, treated, variants
}

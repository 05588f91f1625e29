package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/loyalpass/loyalpass/internal/store"
	"github.com/loyalpass/loyalpass/push"
)

// Channel is one way a card's change reaches the phones that show it. Its
// adapter knows who is behind and how to send them the card; the worker
// owns the rest: the queue, the fan-out, retries and dead letters. Adding
// a channel is an adapter, its configuration, and Options.Channels.
type Channel interface {
	// Name names the channel in targets, retries, logs and metrics.
	Name() string
	// Targets returns the targets of the given cards that have not been
	// sent their current version.
	Targets(ctx context.Context, serials []string) ([]store.Target, error)
	// ProgramTargets pages through the targets of a program's cards that
	// are behind, in the channel's order after the given target (the zero
	// Target starts).
	ProgramTargets(ctx context.Context, programID string, after store.Target, limit int) ([]store.Target, error)
	// Send sends each target its card and reports each target's result
	// to done, with its index, as that send completes: once per target,
	// from several goroutines at once. A send whose done has not returned
	// holds its place in the channel's parallelism, so the worker, whose
	// done returns once the outcome is recorded, never has more sends out
	// and unrecorded than the channel runs at once.
	Send(ctx context.Context, targets []store.Target, done func(i int, r push.Result))
}

// programPage is how many targets of a program go out per round; the
// row's lease is renewed after each.
const programPage = 500

// sendAll sends targets over ch, recording each outcome as its send
// completes (recorder.go); attempt is the number of this attempt. An
// instance killed mid-way has so left at most the sends in flight, the
// channel's parallelism, pushed and not recorded: only they go out again.
func (w *Worker) sendAll(ctx context.Context, ch Channel, merchant string, targets []store.Target, attempt int) error {
	if len(targets) == 0 {
		return nil
	}
	rec := w.startRecorder(recording(ctx), merchant)
	w.send(ctx, ch, targets, attempt, rec.record)
	return rec.stop()
}

// send sends targets over ch and hands each judged outcome to record as
// its send completes. A target the channel gave no result for is retried.
func (w *Worker) send(ctx context.Context, ch Channel, targets []store.Target, attempt int, record func(...store.Outcome)) {
	sentAt := w.opts.Now()
	answered := make([]bool, len(targets))
	ch.Send(ctx, targets, func(i int, r push.Result) {
		answered[i] = true
		record(w.judge(targets[i], r, attempt, sentAt))
	})
	var unanswered []store.Outcome
	for i, t := range targets {
		if !answered[i] {
			r := push.Result{Token: t.Token, Outcome: push.Retry, Reason: "channel " + ch.Name() + " gave no result"}
			unanswered = append(unanswered, w.judge(t, r, attempt, sentAt))
		}
	}
	if len(unanswered) > 0 {
		record(unanswered...)
	}
}

// cardsChanged sends the changed cards of one merchant over every
// channel. A channel that fails does not stop the others; the rows are
// put back and the next attempt finds only what did not go out.
func (w *Worker) cardsChanged(ctx context.Context, merchant string, rows []store.OutboxRow) error {
	seen := map[string]bool{}
	var serials []string
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
		if !seen[r.Serial] {
			seen[r.Serial] = true
			serials = append(serials, r.Serial)
		}
	}
	// Another of Run's rounds may hold a change of the same card: wait for
	// it, so a card is not sent twice at once (the second round then finds
	// its targets up to date).
	release, err := w.cards.hold(ctx, serials)
	if err != nil {
		return err
	}
	defer release()
	var errs []error
	for _, ch := range w.channels {
		targets, err := ch.Targets(ctx, serials)
		if err == nil {
			err = w.sendAll(ctx, ch, merchant, targets, 1)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", ch.Name(), err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return w.opts.Store.CompleteOutbox(ctx, ids...)
}

// programChanged sends every card of a program over every channel, page
// by page; what went out is recorded as it goes, so a restart resumes
// where it stopped.
func (w *Worker) programChanged(ctx context.Context, r store.OutboxRow) error {
	var p struct {
		ProgramID string `json:"program_id"`
	}
	if err := json.Unmarshal([]byte(r.Payload), &p); err != nil {
		return w.opts.Store.RescheduleOutbox(ctx, r.ID, w.opts.Now(), "bad payload: "+err.Error(), true)
	}
	var errs []error
	for _, ch := range w.channels {
		if err := w.programPages(ctx, ch, r, p.ProgramID); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", ch.Name(), err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return w.opts.Store.CompleteOutbox(ctx, r.ID)
}

func (w *Worker) programPages(ctx context.Context, ch Channel, r store.OutboxRow, programID string) error {
	var after store.Target
	for {
		targets, err := ch.ProgramTargets(ctx, programID, after, programPage)
		if err != nil || len(targets) == 0 {
			return err
		}
		if err := w.sendAll(ctx, ch, r.MerchantID, targets, 1); err != nil {
			return err
		}
		after = targets[len(targets)-1]
		if err := w.opts.Store.ExtendLease(ctx, r.ID, w.opts.Lease); err != nil {
			return err
		}
	}
}

// retry sends one target again; the row itself carries the attempts.
func (w *Worker) retry(ctx context.Context, r store.OutboxRow) error {
	rt, err := store.ParseRetry(r.Payload)
	if err != nil {
		return w.opts.Store.RescheduleOutbox(ctx, r.ID, w.opts.Now(), "bad payload: "+err.Error(), true)
	}
	ch := w.byName[rt.Channel]
	if ch == nil { // off: wait as a retry until it is configured
		t := store.Target{Channel: rt.Channel, Serial: r.Serial, DeviceID: rt.DeviceID, Token: rt.Token}
		res := push.Result{Token: rt.Token, Outcome: push.Retry, Reason: "channel " + rt.Channel + " is not configured"}
		return w.finishRetry(ctx, r, w.judge(t, res, r.Attempts, w.opts.Now()))
	}
	targets, err := ch.Targets(ctx, []string{r.Serial})
	if err != nil {
		return err
	}
	for _, t := range targets {
		if t.DeviceID == rt.DeviceID && (rt.DeviceID != "" || t.Token == rt.Token) {
			var o store.Outcome
			w.send(ctx, ch, []store.Target{t}, r.Attempts, func(got ...store.Outcome) { o = got[0] })
			return w.finishRetry(ctx, r, o)
		}
	}
	// Sent since, or gone: nothing left to do.
	return w.opts.Store.CompleteOutbox(ctx, r.ID)
}

// finishRetry records a retried send: the row is done when it went
// through (or the target is gone), else put back for another attempt or
// kept as a dead letter.
func (w *Worker) finishRetry(ctx context.Context, r store.OutboxRow, o store.Outcome) error {
	switch o.Result {
	case push.Retry:
		return w.opts.Store.RescheduleOutbox(ctx, r.ID, o.RetryAt, o.Reason, false)
	case push.Failed:
		return w.opts.Store.RescheduleOutbox(ctx, r.ID, w.opts.Now(), o.Reason, true)
	}
	if err := w.opts.Store.RecordOutcomes(recording(ctx), r.MerchantID, []store.Outcome{o}); err != nil {
		return err
	}
	return w.opts.Store.CompleteOutbox(ctx, r.ID)
}

// judge turns a send's result into what the store records: the retry
// and dead-letter policy of every channel. attempt is the number of this
// attempt; sentAt when the send began.
func (w *Worker) judge(t store.Target, r push.Result, attempt int, sentAt time.Time) store.Outcome {
	o := store.Outcome{Target: t, Result: r.Outcome, Reason: r.Reason}
	switch r.Outcome {
	case push.Delivered:
	case push.Gone:
		// A target registered again after the service saw it dead stays.
		o.At = r.At
		if o.At.IsZero() {
			o.At = sentAt
		}
		w.log.Info("push token is dead: target removed", "channel", t.Channel, "reason", r.Reason)
	case push.Failed:
		w.log.Error("push failed for good", "channel", t.Channel, "reason", r.Reason)
	default:
		due, dead := w.policy.Next(attempt, time.Time{}, w.opts.Now(), r.RetryAfter)
		if dead {
			o.Result, o.Reason = push.Failed, "gave up after retries: "+r.Reason
			w.log.Warn("push kept failing: dead letter", "channel", t.Channel, "attempts", attempt, "reason", r.Reason)
			break
		}
		o.Result, o.RetryAt = push.Retry, due
	}
	if w.opts.Observe != nil {
		label := t.App // a device's wallet app
		if label == "" {
			label = t.Channel
		}
		w.opts.Observe(label, outcomeName(o.Result))
	}
	return o
}

// outcomeName is an outcome's metrics label.
func outcomeName(o push.Outcome) string {
	if o == push.Failed {
		return "dead"
	}
	return o.String()
}

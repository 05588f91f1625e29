package delivery

import (
	"context"
	"sync"

	"github.com/loyalpass/loyalpass/internal/store"
	"github.com/loyalpass/loyalpass/push"
	"github.com/loyalpass/loyalpass/push/relay"
)

// group is the targets that go out in one call: one channel and, for
// PassWallet, one relay URL.
type group struct {
	channel    relay.Vendor
	serviceURL string
}

// push sends to every target, channel by channel in parallel, and turns
// the results into outcomes. attempt is the number of this attempt.
func (w *Worker) push(ctx context.Context, targets []store.PushTarget, attempt int) []store.PushOutcome {
	groups := map[group][]int{}
	for i, t := range targets {
		g := group{channel: relay.Vendor(t.Channel)}
		if g.channel == relay.PassWallet {
			g.serviceURL = t.PushServiceURL
		}
		groups[g] = append(groups[g], i)
	}
	outcomes := make([]store.PushOutcome, len(targets))
	var wg sync.WaitGroup
	for g, idx := range groups {
		wg.Go(func() {
			tokens := make([]string, len(idx))
			for j, i := range idx {
				tokens[j] = targets[i].PushToken
			}
			results := w.send(ctx, g, tokens)
			for j, i := range idx {
				outcomes[i] = w.outcome(targets[i], results[j], attempt)
			}
		})
	}
	wg.Wait()
	return outcomes
}

func (w *Worker) send(ctx context.Context, g group, tokens []string) []push.Result {
	switch {
	case g.channel == relay.Apple && w.opts.Apple != nil:
		return w.opts.Apple.Push(ctx, tokens)
	case g.channel != relay.Apple && w.opts.Relays != nil:
		return w.opts.Relays.Push(ctx, g.channel, w.opts.PassTypeID, g.serviceURL, tokens)
	}
	results := make([]push.Result, len(tokens))
	for i, t := range tokens {
		results[i] = push.Result{Token: t, Outcome: push.Retry, Reason: "channel " + string(g.channel) + " is not configured"}
	}
	return results
}

func (w *Worker) outcome(t store.PushTarget, r push.Result, attempt int) store.PushOutcome {
	o := w.classify(t, r, attempt)
	if w.opts.Observe != nil {
		w.opts.Observe(t.Channel, outcomeName(o))
	}
	return o
}

// outcomeName is an outcome's metrics label.
func outcomeName(o store.PushOutcome) string {
	switch {
	case o.Delivered:
		return "delivered"
	case o.Gone:
		return "gone"
	case o.Retry:
		return "retry"
	}
	return "dead"
}

func (w *Worker) classify(t store.PushTarget, r push.Result, attempt int) store.PushOutcome {
	o := store.PushOutcome{Target: t, Reason: r.Reason}
	switch r.Outcome {
	case push.Delivered:
		o.Delivered = true
	case push.Gone:
		o.Gone, o.GoneAt = true, r.At
		w.log.Info("push token is dead: registration removed", "channel", t.Channel, "reason", r.Reason)
	case push.Failed:
		o.Dead = true
		w.log.Error("push failed for good", "channel", t.Channel, "reason", r.Reason)
	default:
		if attempt >= w.opts.MaxAttempts {
			o.Dead = true
			o.Reason = "gave up after retries: " + r.Reason
			w.log.Warn("push kept failing: dead letter", "channel", t.Channel, "attempts", attempt, "reason", r.Reason)
			break
		}
		o.Retry = true
		wait := max(w.opts.Backoff(attempt), r.RetryAfter)
		o.RetryAt = w.opts.Now().Add(wait)
	}
	return o
}

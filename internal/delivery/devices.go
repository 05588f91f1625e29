package delivery

import (
	"context"
	"sync"

	"github.com/loyalpass/loyalpass/internal/store"
	"github.com/loyalpass/loyalpass/push"
	"github.com/loyalpass/loyalpass/push/relay"
)

// deviceStore is what the device channels (APNs and the relays) need of
// the database: the registrations behind their card.
type deviceStore interface {
	DeviceTargets(ctx context.Context, channel string, serials []string) ([]store.Target, error)
	ProgramDeviceTargets(ctx context.Context, channel, programID string, after store.Target, limit int) ([]store.Target, error)
}

// apnsChannel wakes Apple Wallet on registered devices through APNs; the
// device then asks the web service what changed. A nil pusher is APNs
// off: its pushes wait as retries.
type apnsChannel struct {
	store  deviceStore
	pusher ApplePusher
}

func (c apnsChannel) Name() string { return store.ChannelApple }

func (c apnsChannel) Targets(ctx context.Context, serials []string) ([]store.Target, error) {
	return c.store.DeviceTargets(ctx, store.ChannelApple, serials)
}

func (c apnsChannel) ProgramTargets(ctx context.Context, programID string, after store.Target, limit int) ([]store.Target, error) {
	return c.store.ProgramDeviceTargets(ctx, store.ChannelApple, programID, after, limit)
}

func (c apnsChannel) Send(ctx context.Context, targets []store.Target, done func(int, push.Result)) {
	tokens := tokensOf(targets)
	if c.pusher == nil {
		reportAll(notConfigured(store.ChannelApple, tokens), done)
		return
	}
	c.pusher.PushEach(ctx, tokens, done)
}

// relayChannel wakes the Android pkpass apps through their vendors'
// relays: one call per app (and, for PassWallet, per relay URL the app
// named), the calls in parallel. A nil pusher is the relays off.
type relayChannel struct {
	store      deviceStore
	pusher     RelayPusher
	passTypeID string
}

func (c relayChannel) Name() string { return store.ChannelRelay }

func (c relayChannel) Targets(ctx context.Context, serials []string) ([]store.Target, error) {
	return c.store.DeviceTargets(ctx, store.ChannelRelay, serials)
}

func (c relayChannel) ProgramTargets(ctx context.Context, programID string, after store.Target, limit int) ([]store.Target, error) {
	return c.store.ProgramDeviceTargets(ctx, store.ChannelRelay, programID, after, limit)
}

// relayGroup is the targets that go out in one call.
type relayGroup struct {
	vendor     relay.Vendor
	serviceURL string
}

func (c relayChannel) Send(ctx context.Context, targets []store.Target, done func(int, push.Result)) {
	groups := map[relayGroup][]int{}
	for i, t := range targets {
		g := relayGroup{vendor: relay.Vendor(t.App)}
		if g.vendor == relay.PassWallet {
			g.serviceURL = t.ServiceURL
		}
		groups[g] = append(groups[g], i)
	}
	var wg sync.WaitGroup
	for g, idx := range groups {
		wg.Go(func() {
			tokens := make([]string, len(idx))
			for j, i := range idx {
				tokens[j] = targets[i].Token
			}
			var rs []push.Result
			if c.pusher == nil {
				rs = notConfigured(string(g.vendor), tokens)
			} else {
				rs = c.pusher.Push(ctx, g.vendor, c.passTypeID, g.serviceURL, tokens)
			}
			for j, i := range idx {
				done(i, rs[j])
			}
		})
	}
	wg.Wait()
}

func tokensOf(targets []store.Target) []string {
	tokens := make([]string, len(targets))
	for i, t := range targets {
		tokens[i] = t.Token
	}
	return tokens
}

// reportAll reports results, one per target in order, to a Send's done.
func reportAll(results []push.Result, done func(int, push.Result)) {
	for i, r := range results {
		done(i, r)
	}
}

// notConfigured is the results of a channel that is off: its sends wait
// as retries until it is configured.
func notConfigured(channel string, tokens []string) []push.Result {
	results := make([]push.Result, len(tokens))
	for i, t := range tokens {
		results[i] = push.Result{Token: t, Outcome: push.Retry, Reason: "channel " + channel + " is not configured"}
	}
	return results
}

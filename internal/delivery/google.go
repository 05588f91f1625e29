package delivery

import (
	"context"
	"sync"

	"github.com/loyalpass/loyalpass/internal/store"
	"github.com/loyalpass/loyalpass/push"
)

// GoogleWallet brings a card's Google Wallet object up to date
// (internal/googlewallet.Service). Google needs no device: one PATCH of
// the object reaches every phone that saved it.
type GoogleWallet interface {
	SyncCard(ctx context.Context, serial string) (push.Result, error)
}

// googleStore is what the Google channel needs of the database.
type googleStore interface {
	GoogleSerials(ctx context.Context, serials []string) ([]string, error)
	ProgramGoogleSerials(ctx context.Context, programID, afterSerial string, limit int) ([]string, error)
}

// channelParallelism bounds the calls in flight to Google or FCM from one
// round: enough to hide latency, few enough for Google's 20 requests/s.
const channelParallelism = 8

// googleChannel patches the Google Wallet objects of cards that have one;
// the service compares what Google shows with the card, and keeps what it
// sent.
type googleChannel struct {
	store  googleStore
	wallet GoogleWallet
}

func (c googleChannel) Name() string { return store.ChannelGoogle }

func (c googleChannel) Targets(ctx context.Context, serials []string) ([]store.Target, error) {
	withObject, err := c.store.GoogleSerials(ctx, serials)
	return googleTargets(withObject), err
}

func (c googleChannel) ProgramTargets(ctx context.Context, programID string, after store.Target, limit int) ([]store.Target, error) {
	serials, err := c.store.ProgramGoogleSerials(ctx, programID, after.Serial, limit)
	return googleTargets(serials), err
}

func googleTargets(serials []string) []store.Target {
	ts := make([]store.Target, len(serials))
	for i, s := range serials {
		ts[i] = store.Target{Channel: store.ChannelGoogle, Serial: s}
	}
	return ts
}

// Send syncs each card's object, a few at once. A failure of our own
// store is a passing one: the card is tried again later.
func (c googleChannel) Send(ctx context.Context, targets []store.Target, done func(int, push.Result)) {
	sem := make(chan struct{}, channelParallelism)
	var wg sync.WaitGroup
	for i, t := range targets {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			r, err := c.wallet.SyncCard(ctx, t.Serial)
			if err != nil {
				r = push.Result{Token: t.Serial, Outcome: push.Retry, Reason: "sync card: " + err.Error()}
			}
			done(i, r)
		})
	}
	wg.Wait()
}

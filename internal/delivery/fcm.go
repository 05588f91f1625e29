package delivery

import (
	"context"
	"strconv"
	"sync"

	"github.com/loyalpass/loyalpass/internal/store"
	"github.com/loyalpass/loyalpass/push"
)

// FCMSender sends data messages to FCM registration tokens of a merchant's
// own app (push/fcm.Sender).
type FCMSender interface {
	Send(ctx context.Context, tokens []string, data map[string]string) []push.Result
}

// fcmStore is what the FCM channel needs of the database.
type fcmStore interface {
	FCMTargets(ctx context.Context, serials []string) ([]store.Target, error)
	ProgramFCMTargets(ctx context.Context, programID string, after store.Target, limit int) ([]store.Target, error)
}

// fcmChannel sends a merchant app's FCM tokens their card as a data
// message.
type fcmChannel struct {
	store  fcmStore
	sender FCMSender
}

func (c fcmChannel) Name() string { return store.ChannelFCM }

func (c fcmChannel) Targets(ctx context.Context, serials []string) ([]store.Target, error) {
	return c.store.FCMTargets(ctx, serials)
}

func (c fcmChannel) ProgramTargets(ctx context.Context, programID string, after store.Target, limit int) ([]store.Target, error) {
	return c.store.ProgramFCMTargets(ctx, programID, after, limit)
}

// fcmData is the data message of a card: the app learns the new balance
// and the card's message without a round trip, and the version tells it
// what is newer.
func fcmData(t store.Target) map[string]string {
	d := map[string]string{
		"serial_number": t.Serial,
		"balance":       strconv.FormatInt(t.Balance, 10),
		"version":       strconv.FormatInt(t.Version, 10),
	}
	if t.Message != "" {
		d["message"] = t.Message
	}
	return d
}

// Send sends each card's data message to its tokens: one Send per card,
// several cards at once.
func (c fcmChannel) Send(ctx context.Context, targets []store.Target, done func(int, push.Result)) {
	bySerial := map[string][]int{}
	var order []string
	for i, t := range targets {
		if _, ok := bySerial[t.Serial]; !ok {
			order = append(order, t.Serial)
		}
		bySerial[t.Serial] = append(bySerial[t.Serial], i)
	}
	sem := make(chan struct{}, channelParallelism)
	var wg sync.WaitGroup
	for _, serial := range order {
		idx := bySerial[serial]
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			tokens := make([]string, len(idx))
			for j, i := range idx {
				tokens[j] = targets[i].Token
			}
			for j, r := range c.sender.Send(ctx, tokens, fcmData(targets[idx[0]])) {
				done(idx[j], r)
			}
		})
	}
	wg.Wait()
}

package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Channels that reach a card without a device of ours: Google Wallet (a
// REST PATCH of the card's object) and FCM (a merchant app's tokens).
// They name registrations (ChannelGoogle) and the retries in the outbox.
const (
	ChannelGoogle = "google"
	ChannelFCM    = "fcm"
)

// ChannelRetry is a send on ChannelGoogle or ChannelFCM that failed for
// a passing reason (Dead false: try again at Due) or for good (Dead: kept
// as a dead letter with Reason).
type ChannelRetry struct {
	Serial  string
	Channel string
	Token   string // the FCM token; empty for Google
	Due     time.Time
	Reason  string
	Dead    bool
}

// QueueChannelRetries writes push.retry rows for the given failures, in one
// transaction. Their payload is {"channel":…} plus the FCM token, which is
// how the worker tells them from a device's retry.
func (s *Store) QueueChannelRetries(ctx context.Context, merchantID string, rs []ChannelRetry) error {
	if len(rs) == 0 {
		return nil
	}
	return s.inTx(ctx, func(tx *writeTx) error { return s.queueChannelRetries(ctx, tx, merchantID, rs) })
}

func (s *Store) queueChannelRetries(ctx context.Context, tx *writeTx, merchantID string, rs []ChannelRetry) error {
	now := s.nowUTC()
	for _, r := range rs {
		payload, err := json.Marshal(struct {
			Channel string `json:"channel"`
			Token   string `json:"token,omitempty"`
		}{r.Channel, r.Token})
		if err != nil {
			return err
		}
		due := r.Due
		if due.IsZero() {
			due = now
		}
		if _, err := tx.ExecContext(ctx, insertPushRow, merchantID, TopicPushRetry, r.Serial, string(payload),
			now, due.UTC(), 1, r.Reason, r.Dead); err != nil {
			return fmt.Errorf("queue %s retry for card %s: %w", r.Channel, r.Serial, err)
		}
		if !r.Dead {
			tx.enqueued(outboxQueue)
		}
	}
	return nil
}

package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/push"
)

// woken reports whether a wake-up is pending on ch, and takes it.
func woken(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// TestOnlyCommitsThatQueueWorkWakeWorkers walks a card through the
// writes the server makes and checks, after each, which workers' queues
// were woken: only a commit that queued their work may wake them, or two
// idle workers would wake each other with their empty claims forever.
func TestOnlyCommitsThatQueueWorkWakeWorkers(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		m, p := newTestProgram(t, s, "shop")
		card, _, err := s.Cards().IssueCard(ctx, IssueCard{MerchantID: m.ID, ProgramID: p.ID, Phone: "+79123456701"})
		if err != nil {
			t.Fatal(err)
		}
		woken(s.Queue().OutboxQueued())
		woken(s.Webhooks().WebhooksQueued())
		post := func(kind string, amount, points int64, key string) error {
			_, _, err := s.Cards().Post(ctx, loyalty.Posting{MerchantID: m.ID, Serial: card.SerialNumber, Kind: kind,
				PurchaseAmount: amount, Points: points, IdempotencyKey: key, RequestHash: []byte(key)}, created)
			return err
		}
		claimOutbox := func() error {
			rows, err := s.Queue().ClaimOutbox(ctx, 100, time.Minute)
			for _, r := range rows {
				if err == nil {
					err = s.Queue().CompleteOutbox(ctx, r.ID)
				}
			}
			return err
		}
		claimWebhooks := func() error {
			ds, err := s.Webhooks().ClaimWebhooks(ctx, 100, time.Minute)
			for _, d := range ds {
				if err == nil {
					err = s.Webhooks().FinishWebhook(ctx, d.ID, "delivered", 200, "", time.Now())
				}
			}
			return err
		}
		steps := []struct {
			name             string
			do               func() error
			outbox, webhooks bool
		}{
			{"empty outbox claim", claimOutbox, false, false},
			{"empty webhook claim", claimWebhooks, false, false},
			{"earn without webhook endpoints", func() error { return post(loyalty.Earn, 10000, 0, "e1") }, true, false},
			{"claim and complete the change", claimOutbox, false, false},
			{"claim again, nothing left", claimOutbox, false, false},
			{"refused redeem", func() error {
				if err := post(loyalty.Redeem, 0, 1_000_000, "r1"); !errors.Is(err, loyalty.ErrInsufficientPoints) {
					return errors.Join(errors.New("redeem beyond the balance was not refused"), err)
				}
				return nil
			}, false, false},
			{"add a webhook endpoint", func() error {
				return s.Webhooks().CreateWebhookEndpoint(ctx, &WebhookEndpoint{MerchantID: m.ID, URL: "https://hooks.example/lp",
					Events: []string{EventBalanceChanged}})
			}, false, false},
			{"earn with a subscribed endpoint", func() error { return post(loyalty.Earn, 10000, 0, "e2") }, true, true},
			{"claim and finish the delivery", claimWebhooks, false, false},
			{"claim and complete the change again", claimOutbox, false, false},
			{"issue a card: no endpoint wants card.issued", func() error {
				_, _, err := s.Cards().IssueCard(ctx, IssueCard{MerchantID: m.ID, ProgramID: p.ID, Phone: "+79123456702"})
				return err
			}, false, false},
			{"a push to retry", func() error {
				return s.Devices().RecordOutcomes(ctx, m.ID, []Outcome{{Target: Target{DeviceID: "d1", Serial: card.SerialNumber,
					Channel: "apple"}, Result: push.Retry, RetryAt: time.Now(), Reason: "503"}})
			}, true, false},
			{"a push kept as a dead letter", func() error {
				return s.Devices().RecordOutcomes(ctx, m.ID, []Outcome{{Target: Target{DeviceID: "d1", Serial: card.SerialNumber,
					Channel: "apple"}, Result: push.Failed, Reason: "400"}})
			}, false, false},
		}
		for _, st := range steps {
			if err := st.do(); err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			if got := woken(s.Queue().OutboxQueued()); got != st.outbox {
				t.Errorf("%s: delivery worker woken = %v, want %v", st.name, got, st.outbox)
			}
			if got := woken(s.Webhooks().WebhooksQueued()); got != st.webhooks {
				t.Errorf("%s: webhook sender woken = %v, want %v", st.name, got, st.webhooks)
			}
		}
	})
}

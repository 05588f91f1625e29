package delivery

import (
	"context"
	"strconv"
	"sync"
	"time"

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
	FCMTargets(ctx context.Context, serials []string) ([]store.FCMTarget, error)
	FCMTarget(ctx context.Context, serial, token string) ([]store.FCMTarget, error)
	ProgramFCMTargets(ctx context.Context, programID string, after store.FCMTarget, limit int) ([]store.FCMTarget, error)
	RecordFCM(ctx context.Context, merchantID string, outcomes []store.FCMOutcome) error
}

// fcmData is the data message of a card: the app learns the new balance
// without a round trip, and the version tells it what is newer.
func fcmData(t store.FCMTarget) map[string]string {
	return map[string]string{
		"serial_number": t.Serial,
		"balance":       strconv.FormatInt(t.Balance, 10),
		"version":       strconv.FormatInt(t.CardVersion, 10),
	}
}

// fcmCards sends the changed cards to their FCM tokens.
func (w *Worker) fcmCards(ctx context.Context, merchant string, serials []string) error {
	if w.opts.FCM == nil {
		return nil
	}
	targets, err := w.opts.Store.FCMTargets(ctx, serials)
	if err != nil || len(targets) == 0 {
		return err
	}
	outcomes := w.sendFCM(ctx, targets, 1)
	return w.opts.Store.RecordFCM(recording(ctx), merchant, outcomes)
}

// fcmProgram sends every card of a program that its tokens have not seen,
// page by page; sent versions make a restart resume where it stopped.
func (w *Worker) fcmProgram(ctx context.Context, r store.OutboxRow, programID string) error {
	if w.opts.FCM == nil {
		return nil
	}
	var after store.FCMTarget
	for {
		targets, err := w.opts.Store.ProgramFCMTargets(ctx, programID, after, 500)
		if err != nil || len(targets) == 0 {
			return err
		}
		outcomes := w.sendFCM(ctx, targets, 1)
		if err := w.opts.Store.RecordFCM(recording(ctx), r.MerchantID, outcomes); err != nil {
			return err
		}
		after = targets[len(targets)-1]
		if err := w.opts.Store.ExtendLease(ctx, r.ID, w.opts.Lease); err != nil {
			return err
		}
	}
}

// sendFCM sends each card's data message to its tokens (one Send per
// card, several cards at once) and turns the results into outcomes.
func (w *Worker) sendFCM(ctx context.Context, targets []store.FCMTarget, attempt int) []store.FCMOutcome {
	bySerial := map[string][]int{}
	var order []string
	for i, t := range targets {
		if _, ok := bySerial[t.Serial]; !ok {
			order = append(order, t.Serial)
		}
		bySerial[t.Serial] = append(bySerial[t.Serial], i)
	}
	outcomes := make([]store.FCMOutcome, len(targets))
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
			sentAt := w.opts.Now()
			results := w.opts.FCM.Send(ctx, tokens, fcmData(targets[idx[0]]))
			for j, i := range idx {
				outcomes[i] = w.fcmOutcome(targets[i], results[j], attempt, sentAt)
			}
		})
	}
	wg.Wait()
	return outcomes
}

func (w *Worker) fcmOutcome(t store.FCMTarget, r push.Result, attempt int, sentAt time.Time) store.FCMOutcome {
	o := w.outcome(store.PushTarget{Serial: t.Serial, Channel: store.ChannelFCM}, r, attempt)
	return store.FCMOutcome{Target: t, Delivered: o.Delivered, Gone: o.Gone, Retry: o.Retry, Dead: o.Dead,
		SentAt: sentAt, RetryAt: o.RetryAt, Reason: o.Reason}
}

// retryFCM sends one token its card again; the row carries the attempts.
func (w *Worker) retryFCM(ctx context.Context, r store.OutboxRow, token string) error {
	targets, err := w.opts.Store.FCMTarget(ctx, r.Serial, token)
	if err != nil {
		return err
	}
	if len(targets) == 0 { // sent since, or the token is gone: nothing left to do
		return w.opts.Store.CompleteOutbox(ctx, r.ID)
	}
	res := push.Result{Token: token, Outcome: push.Retry, Reason: "channel fcm is not configured"}
	sentAt := w.opts.Now()
	if w.opts.FCM != nil {
		res = w.opts.FCM.Send(ctx, []string{token}, fcmData(targets[0]))[0]
	}
	o := w.fcmOutcome(targets[0], res, r.Attempts, sentAt)
	if o.Retry || o.Dead {
		return w.finishRetry(ctx, r, store.PushOutcome{Retry: o.Retry, Dead: o.Dead, RetryAt: o.RetryAt, Reason: o.Reason})
	}
	if err := w.opts.Store.RecordFCM(recording(ctx), r.MerchantID, []store.FCMOutcome{o}); err != nil {
		return err
	}
	return w.opts.Store.CompleteOutbox(ctx, r.ID)
}

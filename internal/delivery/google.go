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
	QueueChannelRetries(ctx context.Context, merchantID string, rs []store.ChannelRetry) error
}

// channelParallelism bounds the calls in flight to Google or FCM from one
// round: enough to hide latency, few enough for Google's 20 requests/s.
const channelParallelism = 8

// googleCards syncs the Google objects of changed cards; passing failures
// become push.retry rows, like a device's.
func (w *Worker) googleCards(ctx context.Context, merchant string, serials []string) error {
	if w.opts.Google == nil {
		return nil
	}
	withObject, err := w.opts.Store.GoogleSerials(ctx, serials)
	if err != nil || len(withObject) == 0 {
		return err
	}
	return w.syncGoogle(ctx, merchant, withObject)
}

// googleProgram syncs the objects of every card of a program, page by page.
func (w *Worker) googleProgram(ctx context.Context, r store.OutboxRow, programID string) error {
	if w.opts.Google == nil {
		return nil
	}
	after := ""
	for {
		serials, err := w.opts.Store.ProgramGoogleSerials(ctx, programID, after, 500)
		if err != nil || len(serials) == 0 {
			return err
		}
		if err := w.syncGoogle(ctx, r.MerchantID, serials); err != nil {
			return err
		}
		after = serials[len(serials)-1]
		if err := w.opts.Store.ExtendLease(ctx, r.ID, w.opts.Lease); err != nil {
			return err
		}
	}
}

func (w *Worker) syncGoogle(ctx context.Context, merchant string, serials []string) error {
	results := make([]push.Result, len(serials))
	errs := make([]error, len(serials))
	sem := make(chan struct{}, channelParallelism)
	var wg sync.WaitGroup
	for i, serial := range serials {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			results[i], errs[i] = w.opts.Google.SyncCard(ctx, serial)
		})
	}
	wg.Wait()
	var retries []store.ChannelRetry
	for i, serial := range serials {
		if errs[i] != nil {
			return errs[i]
		}
		if o := w.outcome(store.PushTarget{Serial: serial, Channel: store.ChannelGoogle}, results[i], 1); o.Retry || o.Dead {
			retries = append(retries, store.ChannelRetry{Serial: serial, Channel: store.ChannelGoogle,
				Due: o.RetryAt, Reason: o.Reason, Dead: o.Dead})
		}
	}
	return w.opts.Store.QueueChannelRetries(ctx, merchant, retries)
}

// retryGoogle syncs one card's object again; the row carries the attempts.
func (w *Worker) retryGoogle(ctx context.Context, r store.OutboxRow) error {
	res := push.Result{Token: r.Serial, Outcome: push.Retry, Reason: "channel google is not configured"}
	if w.opts.Google != nil {
		var err error
		if res, err = w.opts.Google.SyncCard(ctx, r.Serial); err != nil {
			return err
		}
	}
	return w.finishRetry(ctx, r, w.outcome(store.PushTarget{Serial: r.Serial, Channel: store.ChannelGoogle}, res, r.Attempts))
}

// finishRetry completes a retry row that went through, or puts it back
// for another attempt or as a dead letter.
func (w *Worker) finishRetry(ctx context.Context, r store.OutboxRow, o store.PushOutcome) error {
	switch {
	case o.Retry:
		return w.opts.Store.RescheduleOutbox(ctx, r.ID, o.RetryAt, o.Reason, false)
	case o.Dead:
		return w.opts.Store.RescheduleOutbox(ctx, r.ID, w.opts.Now(), o.Reason, true)
	}
	return w.opts.Store.CompleteOutbox(ctx, r.ID)
}

// Package delivery is the outbox worker: it claims the durable rows the
// store writes with every card change and wakes the devices that follow
// the card, through APNs or the Android pkpass apps' relays; it also
// patches the card's Google Wallet object and sends its merchant app's FCM
// tokens a data message (google.go, fcm.go). Dead tokens
// are pruned, passing failures retried with back-off, and what keeps
// failing is kept as a dead letter.
package delivery

import (
	"context"
	"encoding/json"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/loyalpass/loyalpass/internal/drain"
	"github.com/loyalpass/loyalpass/internal/store"
	"github.com/loyalpass/loyalpass/push"
	"github.com/loyalpass/loyalpass/push/relay"
)

// Store is what the worker needs of the database.
type Store interface {
	ClaimOutbox(ctx context.Context, limit int, lease time.Duration) ([]store.OutboxRow, error)
	CompleteOutbox(ctx context.Context, ids ...int64) error
	RescheduleOutbox(ctx context.Context, id int64, due time.Time, lastErr string, dead bool) error
	ExtendLease(ctx context.Context, id int64, lease time.Duration) error
	PushTargets(ctx context.Context, serials []string) ([]store.PushTarget, error)
	DeviceTarget(ctx context.Context, deviceID, serial string) ([]store.PushTarget, error)
	ProgramTargets(ctx context.Context, programID, afterSerial string, limit int) ([]store.PushTarget, error)
	RecordPushes(ctx context.Context, merchantID string, outcomes []store.PushOutcome) error
	OutboxQueued() <-chan struct{}
	googleStore
	fcmStore
}

// ApplePusher sends pass-update pushes through APNs.
type ApplePusher interface {
	Push(ctx context.Context, tokens []string) []push.Result
}

// RelayPusher posts tokens to an Android pkpass app's relay.
type RelayPusher interface {
	Push(ctx context.Context, vendor relay.Vendor, passTypeID, serviceURL string, tokens []string) []push.Result
}

// Options configures a Worker. Apple or Relays may be nil: that channel is
// off, and its pushes wait as retries until it is configured.
type Options struct {
	Store       Store
	Apple       ApplePusher
	Relays      RelayPusher
	Google      GoogleWallet // nil: Google Wallet objects are not patched
	FCM         FCMSender    // nil: FCM tokens are not sent to
	PassTypeID  string
	Log         *slog.Logger
	Batch       int           // outbox rows per claim (default 200)
	Lease       time.Duration // how long a claim holds (default 2 min)
	Poll        time.Duration // wait between idle polls (default 1 s)
	MaxAttempts int           // attempts before a push becomes a dead letter (default 8)
	// Backoff is the wait before attempt n+1 after n failed attempts;
	// default 5 s × 2^(n-1) with jitter, at most an hour.
	Backoff func(attempt int) time.Duration
	// Grace is how long, once Run's context ends, the rows already
	// claimed get to finish their sends and be marked done (default 20 s).
	Grace time.Duration
	Now   func() time.Time
	// Observe, when set, is told each device push's channel and outcome
	// ("delivered", "gone", "retry" or "dead"); it is called
	// from several goroutines at once.
	Observe func(channel, outcome string)
}

// Worker processes the outbox until its context ends.
type Worker struct {
	opts Options
	log  *slog.Logger
}

// New returns a Worker with defaults filled in.
func New(opts Options) *Worker {
	if opts.Batch <= 0 {
		opts.Batch = 200
	}
	if opts.Lease <= 0 {
		opts.Lease = 2 * time.Minute
	}
	if opts.Poll <= 0 {
		opts.Poll = time.Second
	}
	if opts.Grace <= 0 {
		opts.Grace = 20 * time.Second
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 8
	}
	if opts.Backoff == nil {
		opts.Backoff = defaultBackoff
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	return &Worker{opts: opts, log: opts.Log.With("component", "delivery")}
}

func defaultBackoff(attempt int) time.Duration {
	d := 5 * time.Second << min(attempt-1, 10)
	d = min(d, time.Hour)
	return d/2 + rand.N(d/2+1)
}

// Run claims and processes outbox rows until ctx ends. It wakes when the
// store queues outbox rows and polls otherwise, so due retries and rows
// queued by other instances run too. Once ctx ends it claims nothing
// more, and returns when the rows it holds are done (or Grace is up).
func (w *Worker) Run(ctx context.Context) {
	work, cancel := drain.Context(ctx, w.opts.Grace)
	defer cancel()
	for {
		n, err := w.round(ctx, work)
		if err != nil && ctx.Err() == nil {
			w.log.Error("outbox round failed", "err", err)
		}
		if ctx.Err() != nil {
			return
		}
		if n > 0 && err == nil {
			continue // more may be waiting
		}
		select {
		case <-ctx.Done():
			return
		case <-w.opts.Store.OutboxQueued():
		case <-time.After(w.opts.Poll):
		}
	}
}

// RunOnce claims one batch of rows and processes it, returning how many
// rows it claimed.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	return w.round(ctx, ctx)
}

// round claims a batch under claim and processes it under work, which
// outlives claim so that a stop lets claimed rows finish.
func (w *Worker) round(claim, ctx context.Context) (int, error) {
	rows, err := w.opts.Store.ClaimOutbox(claim, w.opts.Batch, w.opts.Lease)
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	// Card changes of one merchant go out together: one query for their
	// targets, one round of pushes, one transaction for the outcomes.
	changed := map[string][]store.OutboxRow{}
	for _, r := range rows {
		switch r.Topic {
		case store.TopicCardChanged:
			changed[r.MerchantID] = append(changed[r.MerchantID], r)
		case store.TopicProgramChanged:
			if err := w.programChanged(ctx, r); err != nil {
				return len(rows), err
			}
		case store.TopicPushRetry:
			if err := w.retry(ctx, r); err != nil {
				return len(rows), err
			}
		default:
			w.log.Warn("outbox row with an unknown topic left alone", "topic", r.Topic, "id", r.ID)
		}
	}
	for merchant, rs := range changed {
		if err := w.cardsChanged(ctx, merchant, rs); err != nil {
			return len(rows), err
		}
	}
	return len(rows), nil
}

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
	targets, err := w.opts.Store.PushTargets(ctx, serials)
	if err != nil {
		return err
	}
	if err := w.pushAndRecord(ctx, merchant, targets, 1); err != nil {
		return err
	}
	if err := w.googleCards(ctx, merchant, serials); err != nil {
		return err
	}
	if err := w.fcmCards(ctx, merchant, serials); err != nil {
		return err
	}
	return w.opts.Store.CompleteOutbox(ctx, ids...)
}

// programChanged pushes every installed card of a program, page by page;
// pushed tags make a restart resume where it stopped.
func (w *Worker) programChanged(ctx context.Context, r store.OutboxRow) error {
	var p struct {
		ProgramID string `json:"program_id"`
	}
	if err := json.Unmarshal([]byte(r.Payload), &p); err != nil {
		return w.opts.Store.RescheduleOutbox(ctx, r.ID, w.opts.Now(), "bad payload: "+err.Error(), true)
	}
	after := ""
	for {
		targets, err := w.opts.Store.ProgramTargets(ctx, p.ProgramID, after, 1000)
		if err != nil {
			return err
		}
		if len(targets) == 0 {
			if err := w.googleProgram(ctx, r, p.ProgramID); err != nil {
				return err
			}
			if err := w.fcmProgram(ctx, r, p.ProgramID); err != nil {
				return err
			}
			return w.opts.Store.CompleteOutbox(ctx, r.ID)
		}
		if err := w.pushAndRecord(ctx, r.MerchantID, targets, 1); err != nil {
			return err
		}
		after = targets[len(targets)-1].Serial
		if err := w.opts.Store.ExtendLease(ctx, r.ID, w.opts.Lease); err != nil {
			return err
		}
	}
}

// retry pushes one device again; the row itself carries the attempts.
func (w *Worker) retry(ctx context.Context, r store.OutboxRow) error {
	var p struct {
		DeviceID string `json:"device_id"`
		Channel  string `json:"channel"`
		Token    string `json:"token"`
	}
	if err := json.Unmarshal([]byte(r.Payload), &p); err != nil {
		return w.opts.Store.RescheduleOutbox(ctx, r.ID, w.opts.Now(), "bad payload: "+err.Error(), true)
	}
	switch p.Channel {
	case store.ChannelGoogle:
		return w.retryGoogle(ctx, r)
	case store.ChannelFCM:
		return w.retryFCM(ctx, r, p.Token)
	}
	targets, err := w.opts.Store.DeviceTarget(ctx, p.DeviceID, r.Serial)
	if err != nil {
		return err
	}
	if len(targets) == 0 { // pushed since, or unregistered: nothing left to do
		return w.opts.Store.CompleteOutbox(ctx, r.ID)
	}
	outcomes := w.push(ctx, targets, r.Attempts)
	o := outcomes[0]
	switch {
	case o.Retry:
		return w.opts.Store.RescheduleOutbox(ctx, r.ID, o.RetryAt, o.Reason, false)
	case o.Dead:
		return w.opts.Store.RescheduleOutbox(ctx, r.ID, w.opts.Now(), o.Reason, true)
	}
	if err := w.opts.Store.RecordPushes(recording(ctx), r.MerchantID, outcomes); err != nil {
		return err
	}
	return w.opts.Store.CompleteOutbox(ctx, r.ID)
}

func (w *Worker) pushAndRecord(ctx context.Context, merchant string, targets []store.PushTarget, attempt int) error {
	if len(targets) == 0 {
		return nil
	}
	outcomes := w.push(ctx, targets, attempt)
	return w.opts.Store.RecordPushes(recording(ctx), merchant, outcomes)
}

// recording is the context for storing what a round of sends did: it is
// written even if the sends were cut short by the end of a stop's grace,
// since a device whose push went out but was not recorded would get it
// again after the restart.
func recording(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }

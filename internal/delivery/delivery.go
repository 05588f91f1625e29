// Package delivery is the outbox worker: it claims the durable rows the
// store writes with every card change and brings the card up to date
// wherever it is shown, through one Channel per way of reaching a phone:
// APNs for Apple Wallet and the Android pkpass apps' relays
// (devices.go), the card's Google Wallet object (google.go), a
// merchant app's FCM tokens (fcm.go) and a «Кошелёк» holder's messages
// (koshelek.go, added through Options.Channels). One fan-out sends every channel its
// targets, and one judge turns each result into what the store records
// (channel.go): dead targets pruned, passing failures retried with
// back-off, what keeps failing kept as a dead letter (internal/retry).
package delivery

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/loyalpass/loyalpass/internal/drain"
	"github.com/loyalpass/loyalpass/internal/retry"
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
	RecordOutcomes(ctx context.Context, merchantID string, outcomes []store.Outcome) error
	OutboxQueued() <-chan struct{}
	deviceStore
	googleStore
	fcmStore
}

// aggregates joins the store aggregates the delivery worker and its channels reads and writes.
type aggregates struct {
	*store.QueueStore
	*store.DeviceStore
}

// StoreOf returns the Store of the delivery worker and its channels on the database st.
func StoreOf(st *store.Store) Store { return aggregates{st.Queue(), st.Devices()} }

// ApplePusher sends pass-update pushes through APNs, reporting each
// token's result to done as it arrives (push/apns.Client.PushEach).
type ApplePusher interface {
	PushEach(ctx context.Context, tokens []string, done func(i int, r push.Result))
}

// RelayPusher posts tokens to an Android pkpass app's relay.
type RelayPusher interface {
	Push(ctx context.Context, vendor relay.Vendor, passTypeID, serviceURL string, tokens []string) []push.Result
}

// Options configures a Worker. Apple or Relays may be nil: that channel is
// off, and its pushes wait as retries until it is configured.
type Options struct {
	Store      Store
	Apple      ApplePusher
	Relays     RelayPusher
	Google     GoogleWallet // nil: Google Wallet objects are not patched
	FCM        FCMSender    // nil: FCM tokens are not sent to
	PassTypeID string
	// Channels are more channels, after the ones above; each name must be
	// its own.
	Channels []Channel
	Log      *slog.Logger
	Batch    int // outbox rows per claim (default 200)
	// Rounds is how many batches Run works on at once (default 4): while
	// one waits for APNs, another records its outcomes or claims the next
	// rows, so the round trips and the database writes overlap.
	Rounds      int
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
	// Observe, when set, is told each send's channel (a device's wallet
	// app) and outcome ("delivered", "gone", "retry" or "dead"); it is
	// called from several goroutines at once.
	Observe func(channel, outcome string)
}

// Worker processes the outbox until its context ends.
type Worker struct {
	opts     Options
	log      *slog.Logger
	policy   retry.Policy
	channels []Channel
	byName   map[string]Channel
	cards    inHand
}

// New returns a Worker with defaults filled in.
func New(opts Options) *Worker {
	if opts.Batch <= 0 {
		opts.Batch = 200
	}
	if opts.Rounds <= 0 {
		opts.Rounds = 4
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
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	w := &Worker{opts: opts, log: opts.Log.With("component", "delivery"), byName: map[string]Channel{},
		policy: retry.Policy{First: 5 * time.Second, Max: time.Hour, Jitter: true, Wait: opts.Backoff,
			MaxAttempts: opts.MaxAttempts}}
	// The device channels are always there: while off, their pushes wait
	// as retries. Google and FCM are left out until configured.
	chs := []Channel{apnsChannel{store: opts.Store, pusher: opts.Apple},
		relayChannel{store: opts.Store, pusher: opts.Relays, passTypeID: opts.PassTypeID}}
	if opts.Google != nil {
		chs = append(chs, googleChannel{store: opts.Store, wallet: opts.Google})
	}
	if opts.FCM != nil {
		chs = append(chs, fcmChannel{store: opts.Store, sender: opts.FCM})
	}
	for _, ch := range append(chs, opts.Channels...) {
		if _, dup := w.byName[ch.Name()]; dup {
			w.log.Error("two delivery channels share a name: the second is left out", "channel", ch.Name())
			continue
		}
		w.byName[ch.Name()] = ch
		w.channels = append(w.channels, ch)
	}
	return w
}

// Run claims and processes outbox rows until ctx ends. It wakes when the
// store queues outbox rows and polls otherwise, so due retries and rows
// queued by other instances run too. Up to Rounds batches are in hand at
// once: a round that claimed a full batch wakes another, since more rows
// are likely waiting. Once ctx ends it claims nothing more, and returns
// when the rows it holds are done (or Grace is up).
func (w *Worker) Run(ctx context.Context) {
	work, cancel := drain.Context(ctx, w.opts.Grace)
	defer cancel()
	more := make(chan struct{}, w.opts.Rounds)
	var wg sync.WaitGroup
	for range w.opts.Rounds {
		wg.Go(func() { w.loop(ctx, work, more) })
	}
	wg.Wait()
}

// loop is one of Run's rounds in hand.
func (w *Worker) loop(ctx, work context.Context, more chan struct{}) {
	for {
		n, err := w.round(ctx, work)
		if err != nil && ctx.Err() == nil {
			w.log.Error("outbox round failed", "err", err)
		}
		if ctx.Err() != nil {
			return
		}
		if n >= w.opts.Batch && err == nil {
			select {
			case more <- struct{}{}: // a sibling may take the next batch
			default:
			}
		}
		if n > 0 && err == nil {
			continue // more may be waiting
		}
		select {
		case <-ctx.Done():
			return
		case <-w.opts.Store.OutboxQueued():
		case <-more:
		case <-time.After(w.opts.Poll):
		}
	}
}

// RunOnce claims one batch of rows and processes it, returning how many
// rows it claimed. A row whose work fails is put back with back-off and
// the rest of the batch goes on: the error returned is the claim's.
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
	// Card changes of one merchant go out together: one query per channel
	// for their targets, one round of sends, one transaction for the
	// outcomes.
	changed := map[string][]store.OutboxRow{}
	var merchants []string
	for _, r := range rows {
		switch r.Topic {
		case store.TopicCardChanged:
			if changed[r.MerchantID] == nil {
				merchants = append(merchants, r.MerchantID)
			}
			changed[r.MerchantID] = append(changed[r.MerchantID], r)
		case store.TopicProgramChanged:
			w.isolate(ctx, []store.OutboxRow{r}, w.programChanged(ctx, r))
		case store.TopicPushRetry:
			w.isolate(ctx, []store.OutboxRow{r}, w.retry(ctx, r))
		default:
			w.log.Warn("outbox row with an unknown topic left alone", "topic", r.Topic, "id", r.ID)
		}
	}
	for _, m := range merchants {
		w.isolate(ctx, changed[m], w.cardsChanged(ctx, m, changed[m]))
	}
	return len(rows), nil
}

// isolate puts rows whose work failed with err back for another attempt
// after the back-off, or keeps them as dead letters once they have had
// their attempts; the rest of the batch is not held up. What went out
// before the failure is recorded, so the next attempt sends only the rest.
func (w *Worker) isolate(ctx context.Context, rows []store.OutboxRow, err error) {
	if err == nil || ctx.Err() != nil {
		return // done, or stopping: the lease brings the rows back
	}
	for _, r := range rows {
		due, dead := w.policy.Next(r.Attempts, time.Time{}, w.opts.Now(), 0)
		w.log.Error("outbox row failed", "topic", r.Topic, "id", r.ID, "attempts", r.Attempts, "dead", dead, "err", err)
		// Recorded even when the worker is stopping: the row must not
		// wait out its lease for nothing.
		if rerr := w.opts.Store.RescheduleOutbox(context.WithoutCancel(ctx), r.ID, due, err.Error(), dead); rerr != nil {
			w.log.Error("putting an outbox row back failed", "id", r.ID, "err", rerr)
		}
	}
}

// recording is the context for storing what a round of sends did: it is
// written even if the sends were cut short by the end of a stop's grace,
// since a device whose push went out but was not recorded would get it
// again after the restart.
func recording(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }

package delivery

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/loyalpass/loyalpass/internal/credential"
	"github.com/loyalpass/loyalpass/internal/locale"
	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/store"
	"github.com/loyalpass/loyalpass/push"
	"github.com/loyalpass/loyalpass/push/koshelek"
)

// KoshelekSender sends one message through Кошелёк's Push API
// (push/koshelek.Client).
type KoshelekSender interface {
	Send(ctx context.Context, acct koshelek.Account, m koshelek.Message) (koshelek.Sent, push.Result)
}

// KoshelekStore is what the «Кошелёк» channel needs of the database
// (store.KoshelekStore).
type KoshelekStore interface {
	Targets(ctx context.Context, serials []string) ([]store.Target, error)
	ProgramTargets(ctx context.Context, programID string, after store.Target, limit int) ([]store.Target, error)
	PushInfo(ctx context.Context, serials []string) (map[string]store.KoshelekPush, error)
	RecordSent(ctx context.Context, sent store.KoshelekSent) error
	Remove(ctx context.Context, serial string, at time.Time) (bool, error)
}

// KoshelekOptions configures the «Кошелёк» channel.
type KoshelekOptions struct {
	Store  KoshelekStore
	Sender KoshelekSender
	// Box opens the programs' Push API passwords.
	Box *credential.Box
	// StatusCallbacks asks Кошелёк to post each message's DELIVERED and
	// OPENED to the program's Callback API.
	StatusCallbacks bool
	Log             *slog.Logger
	Now             func() time.Time
}

// NewKoshelek returns the channel that tells a card's holder in «Кошелёк»
// of its changes with a message through the Push API, for
// Options.Channels. Кошелёк draws the card from our partner API; what a
// change needs is the holder's attention: a new balance as a
// TRANSACTION message, a lock-screen message as a PROMO one.
func NewKoshelek(opts KoshelekOptions) Channel {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	return &koshelekChannel{opts: opts, log: opts.Log.With("component", "delivery", "channel", store.ChannelKoshelek)}
}

type koshelekChannel struct {
	opts KoshelekOptions
	log  *slog.Logger
}

func (c *koshelekChannel) Name() string { return store.ChannelKoshelek }

func (c *koshelekChannel) Targets(ctx context.Context, serials []string) ([]store.Target, error) {
	return c.opts.Store.Targets(ctx, serials)
}

func (c *koshelekChannel) ProgramTargets(ctx context.Context, programID string, after store.Target, limit int) ([]store.Target, error) {
	return c.opts.Store.ProgramTargets(ctx, programID, after, limit)
}

// Send tells each card's holder what changed, a few cards at once; the
// Push API client keeps each account to its limit.
func (c *koshelekChannel) Send(ctx context.Context, targets []store.Target, done func(int, push.Result)) {
	serials := make([]string, len(targets))
	for i, t := range targets {
		serials[i] = t.Serial
	}
	info, err := c.opts.Store.PushInfo(ctx, serials)
	if err != nil {
		for i, t := range targets {
			done(i, push.Result{Token: t.Token, Outcome: push.Retry, Reason: "load koshelek cards: " + err.Error()})
		}
		return
	}
	sem := make(chan struct{}, channelParallelism)
	var wg sync.WaitGroup
	for i, t := range targets {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			p, ok := info[t.Serial]
			r := push.Result{Outcome: push.Delivered} // no longer in Кошелёк: nothing to tell
			if ok {
				r = c.sendCard(ctx, p)
			}
			r.Token = t.Token // the serial: a retry never carries the phone
			done(i, r)
		})
	}
	wg.Wait()
}

// koshelekNotice is one message a change makes, and what the holder
// knows once it went out.
type koshelekNotice struct {
	msg     koshelek.Message
	balance *int64
	text    *string
	state   *string
}

// koshelekNotices decides what a card's holder is told of its change, in
// the words of the program's kind (koshelek_notices.go): a new balance or
// state is a TRANSACTION message ("62 points added. Balance: 162
// points", "Штампы: 4 из 6", "Списано 500,00 ₽. Остаток: …", "coupon
// used", "your discount is now 10%"), a new lock-screen message of the
// merchant a PROMO one, if the holder allows it (koshelekPromoAllowed).
// A voided card, or a program that stopped sending, tells nothing. A
// merchant's text longer than a Кошелёк message is cut with "…".
func koshelekNotices(p store.KoshelekPush) []koshelekNotice {
	if p.Status != loyalty.CardActive || !p.Enabled || p.PushLogin == "" {
		return nil
	}
	l := locale.Shipped().Lang(p.Locale)
	title := koshelek.Clip(p.ProgramName, koshelek.MaxTitle)
	transaction := func(text string) koshelek.Message {
		return koshelek.Message{Type: koshelek.Transaction, MSISDN: p.MSISDN, Title: title, Text: koshelek.Clip(text, koshelek.MaxText)}
	}
	var out []koshelekNotice
	if text, ok := koshelekBalanceText(p, l); ok {
		out = append(out, koshelekNotice{balance: &p.Balance, msg: transaction(text)})
	}
	if text, ok := koshelekStateText(p, l); ok {
		out = append(out, koshelekNotice{state: &p.State, msg: transaction(text)})
	}
	if p.Message != p.SentMessage && p.Message != "" && koshelekPromoAllowed(p) {
		out = append(out, koshelekNotice{text: &p.Message, msg: koshelek.Message{Type: koshelek.Promo,
			MSISDN: p.MSISDN, Title: title, Text: koshelek.Clip(p.Message, koshelek.MaxText)}})
	}
	return out
}

// koshelekPromoAllowed is whether a merchant's own message may go to a
// holder. [Inf] Кошелёк counts it as advertising. It goes to holders who
// have not opted out of messages on our pages and whose latest answer
// through Кошелёк about "push" is not a deny; Кошелёк's own settings let
// a user mute a card. Confirm this with Cardsmobile at scenario approval.
func koshelekPromoAllowed(p store.KoshelekPush) bool {
	return !p.OptedOut && (p.PushConsent == nil || *p.PushConsent)
}

// sendCard sends one card's messages in order and records each as it
// goes, so a retry after a failure sends only what did not go out.
func (c *koshelekChannel) sendCard(ctx context.Context, p store.KoshelekPush) push.Result {
	notices := koshelekNotices(p)
	var acct koshelek.Account
	if len(notices) > 0 {
		var password string
		err := errors.New("no key to open it with")
		if c.opts.Box != nil {
			password, err = c.opts.Box.Open(p.PushPassword, p.ProgramID)
		}
		if err != nil {
			return push.Result{Outcome: push.Failed, Reason: "the program's Push API password does not open with this " +
				"server's key (koshelek.key_file): set it again with PATCH /api/v1/programs/{id}"}
		}
		acct = koshelek.Account{Login: p.PushLogin, Password: password}
	}
	record := func(s store.KoshelekSent) error {
		s.Serial, s.MerchantID, s.ProgramID = p.Serial, p.MerchantID, p.ProgramID
		return c.opts.Store.RecordSent(context.WithoutCancel(ctx), s)
	}
	for _, n := range notices {
		n.msg.StatusCallbacks = c.opts.StatusCallbacks
		sentAt := c.opts.Now()
		sent, r := c.opts.Sender.Send(ctx, acct, n.msg)
		switch r.Outcome {
		case push.Delivered:
			err := record(store.KoshelekSent{Balance: n.balance, Text: n.text, State: n.state, Message: &store.KoshelekMessage{
				MessageID: sent.MessageID, PushType: n.msg.Type, Title: n.msg.Title, Body: n.msg.Text, State: sent.State}})
			if err != nil {
				// It went out: the retry may send it twice, as the Push
				// API has no de-duplication key.
				return push.Result{Outcome: push.Retry, Reason: "record koshelek message: " + err.Error()}
			}
		case push.Gone:
			if _, err := c.opts.Store.Remove(context.WithoutCancel(ctx), p.Serial, sentAt); err != nil {
				return push.Result{Outcome: push.Retry, Reason: "remove koshelek card: " + err.Error()}
			}
			c.log.Info("Кошелёк no longer knows the card's holder: card removed from Кошелёк", "serial", p.Serial)
			return r
		default:
			return r
		}
	}
	// Told of everything: the holder is current with this version.
	if err := record(store.KoshelekSent{Version: p.Version, Balance: &p.Balance, Text: &p.Message, State: &p.State}); err != nil {
		if errors.Is(err, context.Canceled) {
			return push.Result{Outcome: push.Retry, Reason: "canceled"}
		}
		return push.Result{Outcome: push.Retry, Reason: "record koshelek card: " + err.Error()}
	}
	return push.Result{Outcome: push.Delivered}
}

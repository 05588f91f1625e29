package automation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/loyalpass/loyalpass/internal/locale"
	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/outreach"
	"github.com/loyalpass/loyalpass/internal/sms"
	"github.com/loyalpass/loyalpass/internal/store"
)

// SenderStore is what the sender needs of the database.
type SenderStore interface {
	AutomationByID(ctx context.Context, id string) (store.Automation, error)
	Program(ctx context.Context, merchantID, id string) (loyalty.Program, error)
	ClaimMessages(ctx context.Context, limit int, lease time.Duration) ([]store.OutgoingMessage, error)
	AbandonStaleMessages(ctx context.Context) (back, failed int64, err error)
	SkipMessage(ctx context.Context, m store.OutgoingMessage, reason string) error
	PostponeMessage(ctx context.Context, m store.OutgoingMessage, due time.Time) error
	DeliverOnCard(ctx context.Context, m store.OutgoingMessage, d store.CardDelivery) error
	ReserveText(ctx context.Context, m store.OutgoingMessage, capDays int, cost int64) (store.Reservation, error)
	TextSent(ctx context.Context, m store.OutgoingMessage, r store.Reservation, provider, providerID string, segments int,
		cost int64, bonus *loyalty.Posting, respond store.Respond) error
	TextNotSent(ctx context.Context, m store.OutgoingMessage, r store.Reservation, status, reason string, due time.Time) error
	MarkPhoneInvalid(ctx context.Context, customerID string) error
	OptOutCustomer(ctx context.Context, customerID, source string) error
}

// SenderOptions configures a Sender.
type SenderOptions struct {
	Store SenderStore
	// Texter sends the texts: the same one as the campaigns'.
	Texter *outreach.Texter
	// Prices say what a segment costs per provider: for the budget and
	// the report.
	Prices outreach.Prices
	// ShortURL is the base of the card links messages carry.
	ShortURL string
	Now      func() time.Time
	Log      *slog.Logger
	// Batch is how many messages one claim takes (default 50); Lease how
	// long a claimed message may take before it counts as abandoned
	// (default 10 minutes).
	Batch int
	Lease time.Duration
	// Texts word {points}; nil means the shipped catalogue.
	Texts *locale.Catalogue
}

// Sender sends due automation messages.
type Sender struct {
	opts SenderOptions
	log  *slog.Logger
}

// NewSender returns a Sender.
func NewSender(opts SenderOptions) *Sender {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Batch <= 0 {
		opts.Batch = 50
	}
	if opts.Lease <= 0 {
		opts.Lease = 10 * time.Minute
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Texts == nil {
		opts.Texts = locale.Shipped()
	}
	if opts.Texter == nil {
		opts.Texter = &outreach.Texter{Now: opts.Now, Log: opts.Log}
	}
	return &Sender{opts: opts, log: opts.Log.With("component", "automation")}
}

// Sent counts one round's messages by what became of them.
type Sent map[string]int

// RunOnce sends every due message until claim ends: then the message in
// hand finishes under ctx and the rest of the batch goes back. It first
// recovers the messages a dead sender left behind.
func (s *Sender) RunOnce(claim, ctx context.Context) (Sent, error) {
	back, failed, err := s.opts.Store.AbandonStaleMessages(ctx)
	if err != nil {
		return nil, err
	}
	if back > 0 {
		s.log.Warn("messages a stopped sender claimed but never handed over wait again", "messages", back)
	}
	if failed > 0 {
		s.log.Warn("texts interrupted while being handed to the provider are not sent again, so nobody gets two", "messages", failed)
	}
	sent := Sent{}
	round := map[string]*target{}
	for claim.Err() == nil {
		batch, err := s.opts.Store.ClaimMessages(claim, s.opts.Batch, s.opts.Lease)
		if err != nil {
			return sent, err
		}
		if len(batch) == 0 {
			return sent, nil
		}
		for i, m := range batch {
			if claim.Err() != nil {
				// Stopping: what is claimed but not begun goes back for the
				// next start, without counting an attempt.
				for _, rest := range batch[i:] {
					if err := s.opts.Store.PostponeMessage(ctx, rest, s.opts.Now()); err != nil {
						return sent, err
					}
				}
				return sent, nil
			}
			what, err := s.send(ctx, round, m)
			if err != nil {
				return sent, fmt.Errorf("message %d: %w", m.ID, err)
			}
			sent[what]++
		}
	}
	return sent, nil
}

// target is an automation with what its messages need, loaded once a round.
type target struct {
	a    store.Automation
	lang *locale.Lang
}

func (s *Sender) target(ctx context.Context, round map[string]*target, id string) (*target, error) {
	if t := round[id]; t != nil {
		return t, nil
	}
	a, err := s.opts.Store.AutomationByID(ctx, id)
	if err != nil {
		return nil, err
	}
	p, err := s.opts.Store.Program(ctx, a.MerchantID, a.ProgramID)
	if err != nil {
		return nil, err
	}
	tag := p.Locale
	if tag == "" {
		tag = outreach.DefaultLang
	}
	t := &target{a: a, lang: s.opts.Texts.Lang(tag)}
	round[id] = t
	return t, nil
}

// send sends one message, or says why not; it returns what became of it
// (a channel, "skipped", "postponed", "retry" or "failed").
func (s *Sender) send(ctx context.Context, round map[string]*target, m store.OutgoingMessage) (string, error) {
	t, err := s.target(ctx, round, m.AutomationID)
	if err != nil {
		return "", err
	}
	a, now := t.a, s.opts.Now()
	switch {
	case a.Status != store.AutomationActive:
		return "skipped", s.opts.Store.SkipMessage(ctx, m, "automation "+a.Status)
	case !m.CardActive:
		return "skipped", s.opts.Store.SkipMessage(ctx, m, "the card is voided")
	case m.Variant < 0 || m.Variant >= len(a.Variants):
		return "skipped", s.opts.Store.SkipMessage(ctx, m, "the message's variant is gone")
	}
	if q := a.Quiet(); q.Quiet(now) {
		return "postponed", s.opts.Store.PostponeMessage(ctx, m, q.Ends(now))
	}
	if loyalty.Capped(m.LastContact, now, a.FrequencyCapDays) {
		return "skipped", s.opts.Store.SkipMessage(ctx, m, "frequency cap: contacted "+m.LastContact.Format(time.DateOnly))
	}
	v := a.Variants[m.Variant]
	text := outreach.RenderText(v.Text, outreach.Fill{Name: m.Name, Bonus: v.Bonus, Lang: t.lang,
		Link: strings.TrimRight(s.opts.ShortURL, "/") + "/c/" + m.LinkToken})
	reach := m.Reach
	_, err = s.opts.Texter.Provider(a.Provider)
	reach.Provider, reach.Budget = err == nil, true // the budget is reserved, atomically, below
	channel, why := loyalty.Route(reach)
	if channel == "" {
		return "skipped", s.opts.Store.SkipMessage(ctx, m, why)
	}
	bonus, err := s.bonus(a, m, v)
	if err != nil {
		return "skipped", s.opts.Store.SkipMessage(ctx, m, err.Error())
	}
	if channel == loyalty.ChannelSMS {
		return s.text(ctx, a, m, text, bonus)
	}
	err = s.opts.Store.DeliverOnCard(ctx, m, store.CardDelivery{Channel: channel, Text: text, CapDays: a.FrequencyCapDays,
		Bonus: bonus, Respond: bonusAnswer})
	switch {
	case errors.Is(err, store.ErrCapped):
		return "skipped", s.opts.Store.SkipMessage(ctx, m, "frequency cap: contacted meanwhile")
	case errors.Is(err, loyalty.ErrCardVoided):
		return "skipped", s.opts.Store.SkipMessage(ctx, m, "the card is voided")
	case errors.Is(err, store.ErrMessageTaken):
		return "skipped", nil
	case err != nil:
		return "", err
	}
	return channel, nil
}

// bonus is the posting of the message's bonus, nil when there is none.
func (s *Sender) bonus(a store.Automation, m store.OutgoingMessage, v store.Variant) (*loyalty.Posting, error) {
	p, ok, err := loyalty.AutomationBonus(loyalty.AutomationMessage{ID: m.ID, AutomationID: a.ID, AutomationName: a.Name,
		MerchantID: m.MerchantID, Serial: m.Serial, Bonus: loyalty.Bonus{Kind: v.BonusKind, Amount: v.Bonus}})
	if err != nil || !ok {
		return nil, err
	}
	return &p, nil
}

// text sends the message as an SMS: the cap and the budget are reserved
// first, and settled or given back with the provider's answer, judged by
// outreach as for every text.
func (s *Sender) text(ctx context.Context, a store.Automation, m store.OutgoingMessage, text string, bonus *loyalty.Posting) (string, error) {
	cost := s.opts.Prices.Cost(a.Provider, sms.Count(text).Parts)
	r, err := s.opts.Store.ReserveText(ctx, m, a.FrequencyCapDays, cost)
	switch {
	case errors.Is(err, store.ErrCapped):
		return "skipped", s.opts.Store.SkipMessage(ctx, m, "frequency cap: contacted meanwhile")
	case errors.Is(err, store.ErrBudgetSpent):
		return "skipped", s.opts.Store.SkipMessage(ctx, m, "the program's SMS budget is spent")
	case errors.Is(err, store.ErrClaimLost):
		s.log.Warn("message recovered by another instance while this one held it: not sent here", "message", m.ID)
		return "skipped", nil
	case err != nil:
		return "", err
	}
	out := s.opts.Texter.Send(ctx, a.Provider, sms.Message{ID: "a" + strconv.FormatInt(m.ID, 10), To: m.Phone, Text: text},
		m.Attempts)
	now := s.opts.Now()
	switch out.Result {
	case outreach.TextSent:
		err := s.opts.Store.TextSent(ctx, m, r, a.Provider, out.ProviderID, out.Segments,
			s.opts.Prices.Cost(a.Provider, out.Segments), bonus, bonusAnswer)
		return loyalty.ChannelSMS, err
	case outreach.TextBadNumber:
		if err := s.opts.Store.MarkPhoneInvalid(ctx, m.CustomerID); err != nil {
			return "", err
		}
		return "failed", s.opts.Store.TextNotSent(ctx, m, r, "failed", out.Reason, now)
	case outreach.TextOptedOut:
		if err := s.opts.Store.OptOutCustomer(ctx, m.CustomerID, loyalty.SourceOperator); err != nil {
			return "", err
		}
		return "skipped", s.opts.Store.TextNotSent(ctx, m, r, "skipped", out.Reason, now)
	case outreach.TextRetry:
		return "retry", s.opts.Store.TextNotSent(ctx, m, r, "pending", out.Reason, out.RetryAt)
	}
	return "failed", s.opts.Store.TextNotSent(ctx, m, r, "failed", out.Reason, now)
}

// bonusAnswer is the answer stored with a bonus posting's key, as the
// API's would be.
func bonusAnswer(r store.Posted) (store.Answer, error) {
	body, err := json.Marshal(map[string]any{"transaction_id": r.Transaction.ID, "points": r.Transaction.Points})
	return store.Answer{Status: http.StatusCreated, Body: body}, err
}

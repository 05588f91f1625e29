// Package campaign texts win-back campaigns: it takes the planned
// recipients of running campaigns at each campaign's send rate, outside
// its quiet hours, skips anyone who withdrew consent or was texted too
// recently, and sends a text with a personal short link through the
// campaign's SMS provider. The text, the send and the judgement of the
// provider's answer are internal/outreach's, which automations share.
package campaign

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/loyalpass/loyalpass/internal/drain"
	"github.com/loyalpass/loyalpass/internal/locale"
	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/outreach"
	"github.com/loyalpass/loyalpass/internal/sms"
	"github.com/loyalpass/loyalpass/internal/store"
)

// Store is what the sender needs of the database.
type Store interface {
	RunningCampaigns(ctx context.Context) ([]store.Campaign, error)
	ClaimRecipients(ctx context.Context, campaignID string, limit int) ([]store.Recipient, error)
	NewRecipientLink(ctx context.Context, r store.Recipient) (string, error)
	MarkSent(ctx context.Context, r store.Recipient, providerID string, segments int, linkToken string) error
	MarkRecipient(ctx context.Context, r store.Recipient, status, reason string, due time.Time) error
	ReleaseRecipient(ctx context.Context, r store.Recipient) error
	MarkPhoneInvalid(ctx context.Context, customerID string) error
	OptOutCustomer(ctx context.Context, customerID, source string) error
	FinishIfDone(ctx context.Context, id string) (bool, error)
	Program(ctx context.Context, merchantID, id string) (loyalty.Program, error)
	// CampaignsQueued receives after a commit, on any instance, that gave
	// the sender recipients to text.
	CampaignsQueued() <-chan struct{}
}

// aggregates joins the store aggregates the campaign sender reads and writes.
type aggregates struct {
	*store.ProgramStore
	*store.CampaignStore
}

// StoreOf returns the Store of the campaign sender on the database st.
func StoreOf(st *store.Store) Store { return aggregates{st.Programs(), st.Campaigns()} }

// Options configures a Sender.
type Options struct {
	Store     Store
	Providers map[string]sms.Provider // by name; a campaign names its provider
	// ShortURL is the base of short links, e.g. "https://k.ru".
	ShortURL string
	// StatusCallback is where Twilio posts delivery statuses.
	StatusCallback string
	Log            *slog.Logger
	Now            func() time.Time
	// Tick is how often running campaigns are served (default 1 s); a
	// campaign started or resumed, here or on another instance, wakes the
	// sender at once.
	Tick time.Duration
	// MaxAttempts bounds retries of transient provider failures (default 3).
	MaxAttempts int
	// Grace is how long, once Run's context ends, a text in flight gets to
	// finish (default 20 s).
	Grace time.Duration
	// Observe, when set, is told the provider and status ("sent",
	// "invalid_number", "opted_out", "retry" or "failed") of every text
	// handed to a provider.
	Observe func(provider, status string)
	// Texts words {points} in the campaign program's language; nil means
	// the shipped catalogue.
	Texts *locale.Catalogue
}

// Sender texts running campaigns. It is safe to run one per instance:
// recipients are claimed in the database.
type Sender struct {
	opts    Options
	log     *slog.Logger
	texter  *outreach.Texter
	mu      sync.Mutex
	budgets map[string]float64 // campaign → texts it may still send now
	last    time.Time
}

// New returns a Sender.
func New(opts Options) *Sender {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Tick <= 0 {
		opts.Tick = time.Second
	}
	if opts.Grace <= 0 {
		opts.Grace = 20 * time.Second
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 3
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Texts == nil {
		opts.Texts = locale.Shipped()
	}
	log := opts.Log.With("component", "campaign")
	return &Sender{opts: opts, log: log, budgets: map[string]float64{},
		texter: &outreach.Texter{Providers: opts.Providers, StatusCallback: opts.StatusCallback, MaxAttempts: opts.MaxAttempts,
			Observe: opts.Observe, Now: opts.Now, Log: log}}
}

// Run serves running campaigns every tick, and at once when a campaign
// gets recipients to text, until ctx ends. Then it texts nobody new: the text in flight gets Grace to finish, and recipients
// claimed but not yet texted are given back for the next start.
func (s *Sender) Run(ctx context.Context) {
	work, cancel := drain.Context(ctx, s.opts.Grace)
	defer cancel()
	t := time.NewTicker(s.opts.Tick)
	defer t.Stop()
	for {
		if _, err := s.round(ctx, work); err != nil && ctx.Err() == nil {
			s.log.Error("campaign round failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.opts.Store.CampaignsQueued():
		}
	}
}

// RunOnce gives every running campaign the texts its rate allows since the
// last round, and reports how many texts went out.
func (s *Sender) RunOnce(ctx context.Context) (int, error) {
	return s.round(ctx, ctx)
}

// round takes recipients while claim lasts and texts them under work,
// which outlives claim so that a stop lets the text in flight finish.
func (s *Sender) round(claim, ctx context.Context) (int, error) {
	campaigns, err := s.opts.Store.RunningCampaigns(claim)
	if err != nil {
		return 0, err
	}
	now := s.opts.Now()
	s.mu.Lock()
	elapsed := now.Sub(s.last)
	if s.last.IsZero() || elapsed > time.Minute {
		elapsed = s.opts.Tick
	}
	s.last = now
	s.mu.Unlock()
	sent := 0
	for _, c := range campaigns {
		if QuietNow(c, now) {
			continue
		}
		if claim.Err() != nil {
			return sent, nil
		}
		n, err := s.serve(claim, ctx, c, elapsed)
		sent += n
		if err != nil {
			return sent, fmt.Errorf("campaign %s: %w", c.ID, err)
		}
		if _, err := s.opts.Store.FinishIfDone(ctx, c.ID); err != nil {
			return sent, err
		}
	}
	return sent, nil
}

// serve sends what the campaign's rate allows: a token bucket filled at
// SendRate per minute, holding at most a minute's worth.
func (s *Sender) serve(claim, ctx context.Context, c store.Campaign, elapsed time.Duration) (int, error) {
	s.mu.Lock()
	budget := s.budgets[c.ID] + float64(c.SendRate)*elapsed.Minutes()
	budget = min(budget, float64(max(c.SendRate, 1)))
	n := int(budget)
	s.budgets[c.ID] = budget - float64(n)
	s.mu.Unlock()
	if n == 0 {
		return 0, nil
	}
	if _, err := s.texter.Provider(c.Provider); err != nil {
		return 0, err
	}
	prog, err := s.opts.Store.Program(ctx, c.MerchantID, c.ProgramID)
	if err != nil {
		return 0, fmt.Errorf("load program of campaign %s: %w", c.ID, err)
	}
	tag := prog.Locale
	if tag == "" {
		tag = outreach.DefaultLang
	}
	lang := s.opts.Texts.Lang(tag)
	recipients, err := s.opts.Store.ClaimRecipients(claim, c.ID, n)
	if err != nil {
		return 0, err
	}
	sent := 0
	for i, r := range recipients {
		if claim.Err() != nil {
			return sent, s.release(ctx, recipients[i:])
		}
		ok, err := s.text(ctx, c, lang, r)
		if err != nil {
			return sent, err
		}
		if ok {
			sent++
		}
	}
	return sent, nil
}

// release gives back recipients claimed but not texted before a stop.
func (s *Sender) release(ctx context.Context, rs []store.Recipient) error {
	for _, r := range rs {
		if err := s.opts.Store.ReleaseRecipient(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

// text sends one recipient's message, or says why not. The send and
// the judgement of the provider's answer are outreach's, shared with
// automations.
func (s *Sender) text(ctx context.Context, c store.Campaign, lang *locale.Lang, r store.Recipient) (bool, error) {
	now := s.opts.Now()
	if !r.Consent {
		return false, s.opts.Store.MarkRecipient(ctx, r, "skipped", "no SMS consent or opted out", now)
	}
	if loyalty.Capped(r.LastTextedAt, now, c.FrequencyCapDays) {
		return false, s.opts.Store.MarkRecipient(ctx, r, "skipped", "frequency cap: texted "+r.LastTextedAt.Format(time.DateOnly), now)
	}
	token, err := s.opts.Store.NewRecipientLink(ctx, r)
	if errors.Is(err, store.ErrClaimLost) {
		s.log.Warn("recipient recovered by another instance while this one held it: not texted here", "recipient", r.ID)
		return false, nil
	}
	if err != nil {
		return false, err
	}
	text := outreach.RenderText(c.Template, outreach.Fill{Name: r.Name, Bonus: c.BonusPoints,
		Link: strings.TrimRight(s.opts.ShortURL, "/") + "/c/" + token, Lang: lang})
	out := s.texter.Send(ctx, c.Provider, sms.Message{ID: "r" + strconv.FormatInt(r.ID, 10), To: r.Phone, Text: text}, r.Attempts)
	switch out.Result {
	case outreach.TextSent:
		return true, s.opts.Store.MarkSent(ctx, r, out.ProviderID, out.Segments, token)
	case outreach.TextBadNumber:
		if err := s.opts.Store.MarkPhoneInvalid(ctx, r.CustomerID); err != nil {
			return false, err
		}
		return false, s.opts.Store.MarkRecipient(ctx, r, "failed", out.Reason, now)
	case outreach.TextOptedOut:
		if err := s.opts.Store.OptOutCustomer(ctx, r.CustomerID, loyalty.SourceOperator); err != nil {
			return false, err
		}
		return false, s.opts.Store.MarkRecipient(ctx, r, "skipped", out.Reason, now)
	case outreach.TextRetry:
		return false, s.opts.Store.MarkRecipient(ctx, r, "pending", out.Reason, out.RetryAt)
	}
	return false, s.opts.Store.MarkRecipient(ctx, r, "failed", out.Reason, now)
}

// QuietNow reports whether it is within the campaign's quiet hours in its
// time zone (the store's, not the phone number's: Russian mobile numbers
// carry no region).
func QuietNow(c store.Campaign, now time.Time) bool {
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		loc = time.UTC
	}
	return loyalty.QuietHours{Start: c.QuietStart, End: c.QuietEnd, Zone: loc}.Quiet(now)
}

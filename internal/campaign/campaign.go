// Package campaign texts win-back campaigns: it takes the planned
// recipients of running campaigns at each campaign's send rate, outside
// its quiet hours, skips anyone who withdrew consent or was texted too
// recently, sends a text with a personal short link through the
// campaign's SMS provider, and maps the provider's answer.
package campaign

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/loyalpass/loyalpass/internal/drain"
	"github.com/loyalpass/loyalpass/internal/locale"
	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/phone"
	"github.com/loyalpass/loyalpass/internal/retry"
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
	// Tick is how often running campaigns are served (default 1 s).
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
	return &Sender{opts: opts, log: opts.Log.With("component", "campaign"), budgets: map[string]float64{}}
}

// Run serves running campaigns every tick until ctx ends. Then it texts
// nobody new: the text in flight gets Grace to finish, and recipients
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
	provider, ok := s.opts.Providers[c.Provider]
	if !ok {
		return 0, fmt.Errorf("SMS provider %q is not configured", c.Provider)
	}
	prog, err := s.opts.Store.Program(ctx, c.MerchantID, c.ProgramID)
	if err != nil {
		return 0, fmt.Errorf("load program of campaign %s: %w", c.ID, err)
	}
	tag := prog.Locale
	if tag == "" {
		tag = defaultLang
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
		ok, err := s.text(ctx, c, lang, provider, r)
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

// text sends one recipient's message, or says why not.
func (s *Sender) text(ctx context.Context, c store.Campaign, lang *locale.Lang, provider sms.Provider, r store.Recipient) (bool, error) {
	now := s.opts.Now()
	if !r.Consent {
		return false, s.opts.Store.MarkRecipient(ctx, r, "skipped", "no SMS consent or opted out", now)
	}
	if c.FrequencyCapDays > 0 && r.LastTextedAt != nil && now.Sub(*r.LastTextedAt) < time.Duration(c.FrequencyCapDays)*24*time.Hour {
		return false, s.opts.Store.MarkRecipient(ctx, r, "skipped", "frequency cap: texted "+r.LastTextedAt.Format(time.DateOnly), now)
	}
	token, err := s.opts.Store.NewRecipientLink(ctx, r)
	if err != nil {
		return false, err
	}
	text := RenderText(c.Template, Fill{Name: r.Name, Bonus: c.BonusPoints, Link: strings.TrimRight(s.opts.ShortURL, "/") + "/c/" + token,
		Lang: lang})
	res, err := provider.Send(ctx, sms.Message{ID: "r" + strconv.FormatInt(r.ID, 10), To: r.Phone, Text: text,
		StatusCallback: s.opts.StatusCallback})
	if s.opts.Observe != nil {
		s.opts.Observe(provider.Name(), sendStatus(err, r.Attempts < s.opts.MaxAttempts))
	}
	if err == nil {
		return true, s.opts.Store.MarkSent(ctx, r, res.ProviderID, res.Segments, token)
	}
	log := s.log.With("recipient", r.ID, "phone", phone.Mask(r.Phone), "provider", provider.Name())
	switch kind := sms.KindOf(err); kind {
	case sms.InvalidNumber, sms.NotMobile:
		log.Info("number refused by the provider", "err", err)
		if err := s.opts.Store.MarkPhoneInvalid(ctx, r.CustomerID); err != nil {
			return false, err
		}
		return false, s.opts.Store.MarkRecipient(ctx, r, "failed", string(kind)+": "+err.Error(), now)
	case sms.OptedOut:
		log.Info("number opted out at the provider")
		if err := s.opts.Store.OptOutCustomer(ctx, r.CustomerID, loyalty.SourceOperator); err != nil {
			return false, err
		}
		return false, s.opts.Store.MarkRecipient(ctx, r, "skipped", "opted out at the provider", now)
	case sms.Transient:
		if due, dead := s.retry().Next(r.Attempts, time.Time{}, now, 0); !dead {
			log.Warn("transient SMS failure: will retry", "err", err)
			return false, s.opts.Store.MarkRecipient(ctx, r, "pending", err.Error(), due)
		}
		fallthrough
	default:
		log.Error("SMS failed", "err", err)
		return false, s.opts.Store.MarkRecipient(ctx, r, "failed", err.Error(), now)
	}
}

// retry is the policy for texts that failed for a passing reason: a
// minute more for each attempt, MaxAttempts in all.
func (s *Sender) retry() retry.Policy {
	return retry.Policy{Wait: func(attempt int) time.Duration { return time.Duration(attempt) * time.Minute },
		MaxAttempts: s.opts.MaxAttempts}
}

// Fill is what a template's placeholders are filled with.
type Fill struct {
	Name  string // {name}
	Bonus int64  // {bonus}, the bare number, and {points}
	Link  string // {link}
	// Lang words {points}: the bonus with the word for points in the form
	// the number needs ("21 балл", "50 баллов", "1 point"). nil means
	// Russian, loyalpass's default program language.
	Lang *locale.Lang
}

// Render is RenderText with {points} in Russian: for previews that know
// no program.
func Render(template, name string, bonus int64, link string) string {
	return RenderText(template, Fill{Name: name, Bonus: bonus, Link: link})
}

// RenderText fills a template's {name}, {bonus}, {points} and {link}.
// Without a name, "{name}, " and similar lead-ins are dropped rather than
// left dangling.
func RenderText(template string, f Fill) string {
	if strings.TrimSpace(f.Name) == "" {
		for _, lead := range []string{"{name}, ", "{name},", "{name}! ", "{name}!", " {name}"} {
			template = strings.ReplaceAll(template, lead, "")
		}
	}
	pairs := []string{"{name}", f.Name, "{bonus}", strconv.FormatInt(f.Bonus, 10), "{link}", f.Link}
	if strings.Contains(template, "{points}") {
		lang := f.Lang
		if lang == nil {
			lang = locale.Shipped().Lang(defaultLang)
		}
		// A no-break space is outside GSM-7: one would make a Latin text
		// UCS-2 and double its price. Cyrillic is UCS-2 anyway.
		pairs = append(pairs, "{points}", strings.ReplaceAll(lang.Points(f.Bonus), "\u00a0", " "))
	}
	return strings.NewReplacer(pairs...).Replace(template)
}

// defaultLang words {points} when no program language is known.
const defaultLang = "ru"

// QuietNow reports whether it is within the campaign's quiet hours in its
// time zone (the store's, not the phone number's: Russian mobile numbers
// carry no region).
func QuietNow(c store.Campaign, now time.Time) bool {
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		loc = time.UTC
	}
	h := now.In(loc).Hour()
	if c.QuietStart == c.QuietEnd {
		return false
	}
	if c.QuietStart < c.QuietEnd {
		return h >= c.QuietStart && h < c.QuietEnd
	}
	return h >= c.QuietStart || h < c.QuietEnd
}

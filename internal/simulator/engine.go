package simulator

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/loyalpass/loyalpass/internal/automation"
	"github.com/loyalpass/loyalpass/internal/lift"
	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/outreach"
	"github.com/loyalpass/loyalpass/internal/sms"
	"github.com/loyalpass/loyalpass/internal/store"
)

// Clock is the simulated time the store and the engine run on.
type Clock struct{ ns atomic.Int64 }

// Now returns the simulated time.
func (c *Clock) Now() time.Time { return time.Unix(0, c.ns.Load()).UTC() }

func (c *Clock) set(t time.Time) { c.ns.Store(t.UnixNano()) }

// NewClock returns a clock at Start: open the store with its Now.
func NewClock() *Clock {
	c := &Clock{}
	c.set(Start)
	return c
}

// Sent is one message the engine sent.
type Sent struct {
	Customer   int
	Automation string
	Trigger    string
	Variant    int
	Channel    string
	At         time.Time
}

// Fired is one message an automation made (sent or not, holdout included).
type Fired struct {
	Customer   int
	Automation string
	Trigger    string
	Holdout    bool
	Variant    int
	Status     string
	Reason     string
	At         time.Time // when the trigger fired
}

// Result is what a simulation did: the customers, every message made and
// sent, every purchase made, and the automations' reports.
type Result struct {
	Config    Config
	Customers []*Customer
	Fired     []Fired
	Sent      []Sent
	// Bought is each customer's purchases as made (base and responses).
	Bought      [][]time.Time
	Automations []Report
	// Assign tells where a customer falls in an automation.
	Assign func(automationID string, customer int) lift.Assignment
}

// Report is one automation's report, as the API gives it.
type Report struct {
	ID, Name, Trigger string
	Variants          []string
	Groups            []store.AutomationGroup
	Channels          []store.ChannelCount
	Holdout, Messaged outreach.Group
	PerVariant        []outreach.Group
	Overall           outreach.Comparison
	VariantTests      []outreach.Comparison
}

// plan is the automations a simulation runs: each trigger once, the
// repurchase reminder as an A/B test.
func plan(m store.Merchant, p loyalty.Program) []store.Automation {
	base := func(name string, t loyalty.Trigger, text string) store.Automation {
		return store.Automation{MerchantID: m.ID, ProgramID: p.ID, Name: name, Trigger: t, HoldoutBP: HoldoutBP,
			FrequencyCapDays: CapDays, QuietStart: 21, QuietEnd: 9, Timezone: "Europe/Moscow",
			PurchaseWindowDays: int(Window / (24 * time.Hour)), Provider: "sim",
			Variants: []store.Variant{{Text: text, BonusKind: loyalty.BonusPoints}}}
	}
	rep := base("Пора за кофе", loyalty.Trigger{Type: loyalty.TriggerRepurchaseDue}, "{name}, ваш кофе ждёт: {link}")
	rep.Variants = append(rep.Variants, store.Variant{Text: "{name}, дарим {points} к следующей чашке: {link}",
		BonusKind: loyalty.BonusPoints, Bonus: 50})
	return []store.Automation{rep,
		base("День рождения", loyalty.Trigger{Type: loyalty.TriggerBirthday, Days: 3}, "{name}, с наступающим! Ждём вас: {link}"),
		base("Скучаем", loyalty.Trigger{Type: loyalty.TriggerInactive, Days: 60}, "{name}, давно не виделись: {link}"),
		base("Баллы сгорают", loyalty.Trigger{Type: loyalty.TriggerPointsExpiring, Days: 7}, "{name}, баллы сгорят через неделю: {link}"),
		base("Серебро", loyalty.Trigger{Type: loyalty.TriggerTierChanged, Tier: "silver"}, "{name}, вы теперь Серебро: {link}"),
		base("Добро пожаловать", loyalty.Trigger{Type: loyalty.TriggerEnrolled, Days: 1}, "{name}, спасибо, что с нами: {link}"),
		base("Карта в кошельке", loyalty.Trigger{Type: loyalty.TriggerCardInstalled}, "Карта в кошельке! {link}"),
	}
}

// texts is the simulation's SMS provider: it takes every text.
type texts struct{ n atomic.Int64 }

func (*texts) Name() string { return "sim" }
func (t *texts) Send(_ context.Context, m sms.Message) (sms.SendResult, error) {
	return sms.SendResult{ProviderID: "sim-" + strconv.FormatInt(t.n.Add(1), 10), Status: sms.Sent,
		Segments: sms.Count(m.Text).Parts}, nil
}

// SMSPrice is what a simulated text segment costs (4.50 ₽).
const SMSPrice = 450

// observer records what the sender sends, on top of the real store.
type observer struct {
	automation.SenderStore
	mu    sync.Mutex
	sent  []store.OutgoingMessage
	chans []string
}

func (o *observer) DeliverOnCard(ctx context.Context, m store.OutgoingMessage, d store.CardDelivery) error {
	err := o.SenderStore.DeliverOnCard(ctx, m, d)
	if err == nil {
		o.record(m, d.Channel)
	}
	return err
}

func (o *observer) TextSent(ctx context.Context, m store.OutgoingMessage, r store.Reservation, provider, providerID string,
	segments int, cost int64, bonus *loyalty.Posting, respond store.Respond) error {
	err := o.SenderStore.TextSent(ctx, m, r, provider, providerID, segments, cost, bonus, respond)
	if err == nil {
		o.record(m, loyalty.ChannelSMS)
	}
	return err
}

func (o *observer) record(m store.OutgoingMessage, channel string) {
	o.mu.Lock()
	o.sent, o.chans = append(o.sent, m), append(o.chans, channel)
	o.mu.Unlock()
}

func (o *observer) take() ([]store.OutgoingMessage, []string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	s, c := o.sent, o.chans
	o.sent, o.chans = nil, nil
	return s, c
}

// Run simulates cfg on the real engine over st, whose clock must be
// clock: customers join and buy on their schedules, the scheduler and the
// sender run every simulated hour, and a customer who gets a message
// answers it as planted. progress, if set, is told each simulated day.
func Run(ctx context.Context, st *store.Store, clock *Clock, cfg Config, progress func(day int)) (*Result, error) {
	effects, other := cfg.effects()
	base := cfg.base()
	people := Population(cfg)
	res := &Result{Config: cfg, Customers: people, Bought: make([][]time.Time, len(people))}
	m, _, err := st.Merchants().EnsureMerchant(ctx, "Simulated coffee", "RU")
	if err != nil {
		return nil, err
	}
	prog := loyalty.Program{MerchantID: m.ID, Name: "Кофейня", CurrencyLabel: "баллы", EarnRateBP: 500,
		BarcodeFormat: "qr", Locale: "ru", PointsLifetimeDays: 90, TierBasis: loyalty.BasisPoints,
		Tiers: []loyalty.Tier{{Code: "base", Name: "Base"}, {Code: "silver", Name: "Серебро", Threshold: 500}}}
	if err := st.Programs().CreateProgram(ctx, &prog); err != nil {
		return nil, err
	}
	// «Кошелёк» sends (its Push API account is never called: the
	// simulator runs no delivery worker).
	if _, _, err := st.Koshelek().UpdateProgram(ctx, m.ID, prog.ID, nil, func(ks *store.KoshelekSettings) error {
		ks.Enabled, ks.Login, ks.PasswordHash, ks.PushLogin, ks.PushPassword = true, "sim", "-", "sim-push", "-"
		return nil
	}); err != nil {
		return nil, err
	}
	autos := plan(m, prog)
	for i := range autos {
		if err := st.Automations().CreateAutomation(ctx, &autos[i]); err != nil {
			return nil, err
		}
	}
	byID, automationIndex := map[string]store.Automation{}, map[string]int{}
	for i, a := range autos {
		byID[a.ID], automationIndex[a.ID] = a, i
	}
	answered := map[[2]int]bool{} // customer, automation: answered its first message
	as := automation.StoreOf(st)
	obs := &observer{SenderStore: as}
	quiet := slog.New(slog.DiscardHandler)
	scheduler := automation.NewScheduler(automation.SchedulerOptions{Store: as, Now: clock.Now, Every: time.Minute, Log: quiet})
	sender := automation.NewSender(automation.SenderOptions{Store: obs, ShortURL: "https://k.ru", Now: clock.Now, Log: quiet,
		Prices: outreach.Prices{"sim": SMSPrice},
		Texter: &outreach.Texter{Providers: map[string]sms.Provider{"sim": &texts{}}, Now: clock.Now}})

	w := &world{ctx: ctx, st: st, m: m, p: prog, people: people, ids: map[string]int{}, serials: make([]string, len(people)),
		custIDs: make([]string, len(people))}
	// Every customer's purchases, base and answers, by time.
	queue := &purchases{}
	for _, c := range people {
		for _, t := range c.Purchases {
			queue.add(t, c.Index)
		}
	}
	joins := slices.Clone(people)
	slices.SortFunc(joins, func(a, b *Customer) int { return a.Joined.Compare(b.Joined) })
	end := cfg.End()
	step := cfg.Step
	if step <= 0 {
		step = time.Hour
	}
	for now, day := Start, 0; now.Before(end); now = now.Add(step) {
		clock.set(now)
		for len(joins) > 0 && !joins[0].Joined.After(now) {
			if err := w.join(joins[0]); err != nil {
				return nil, err
			}
			joins = joins[1:]
		}
		due := queue.upTo(now)
		if err := w.buy(due, res); err != nil {
			return nil, err
		}
		if _, err := scheduler.RunOnce(ctx); err != nil {
			return nil, err
		}
		if _, err := sender.RunOnce(ctx, ctx); err != nil {
			return nil, err
		}
		sent, chans := obs.take()
		for i, msg := range sent {
			c := people[w.ids[msg.CustomerID]]
			a := byID[msg.AutomationID]
			res.Sent = append(res.Sent, Sent{Customer: c.Index, Automation: a.ID, Trigger: a.Trigger.Type,
				Variant: msg.Variant, Channel: chans[i], At: now})
			points := other
			if a.Trigger.Type == loyalty.TriggerRepurchaseDue && msg.Variant < len(effects) {
				points = effects[msg.Variant]
			}
			first := !answered[[2]int{c.Index, automationIndex[a.ID]}]
			answered[[2]int{c.Index, automationIndex[a.ID]}] = true
			if at, ok := c.Answer(points, base, now, buysWithin(queue.of(c.Index), now, now.Add(Window)), first); ok && at.Before(end) {
				queue.add(at, c.Index)
			}
		}
		if d := int(now.Sub(Start) / (24 * time.Hour)); d != day {
			day = d
			if progress != nil {
				progress(day)
			}
		}
	}
	res.Assign = func(id string, customer int) lift.Assignment {
		a := byID[id]
		if customer >= len(w.custIDs) || w.custIDs[customer] == "" {
			return lift.Assignment{Variant: -1}
		}
		return lift.Assign(a.ID, w.custIDs[customer], lift.Split{HoldoutBP: a.HoldoutBP, Variants: len(a.Variants), Winner: -1})
	}
	for _, a := range autos {
		r, err := report(ctx, st, a)
		if err != nil {
			return nil, err
		}
		res.Automations = append(res.Automations, r)
		for after := int64(0); ; {
			rows, err := st.Automations().Messages(ctx, a.ID, after, 1000)
			if err != nil {
				return nil, err
			}
			if len(rows) == 0 {
				break
			}
			for _, m := range rows {
				res.Fired = append(res.Fired, Fired{Customer: w.ids[m.CustomerID], Automation: a.ID, Trigger: a.Trigger.Type,
					Holdout: m.Holdout, Variant: m.Variant, Status: m.Status, Reason: m.Reason, At: m.CreatedAt})
			}
			after = rows[len(rows)-1].ID
		}
	}
	return res, nil
}

// world is what the engine run keeps of the store's side.
type world struct {
	ctx     context.Context
	st      *store.Store
	m       store.Merchant
	p       loyalty.Program
	people  []*Customer
	ids     map[string]int // customer id → index
	serials []string       // by index
	custIDs []string       // by index
}

// join issues the customer's card and installs it where they keep it.
func (w *world) join(c *Customer) error {
	ctx := w.ctx
	consent := c.Consent
	card, _, err := w.st.Cards().IssueCard(ctx, store.IssueCard{MerchantID: w.m.ID, ProgramID: w.p.ID, Phone: c.Phone,
		Name: c.Name, SMSConsent: &consent})
	if err != nil {
		return fmt.Errorf("customer %d: %w", c.Index, err)
	}
	if _, err := w.st.Customers().Update(ctx, w.m.ID, card.CustomerID, store.CustomerChange{Birthday: &c.Birthday}); err != nil {
		return fmt.Errorf("customer %d: %w", c.Index, err)
	}
	w.ids[card.CustomerID] = c.Index
	w.serials[c.Index], w.custIDs[c.Index] = card.SerialNumber, card.CustomerID
	switch {
	case c.Apple:
		_, err = w.st.Devices().Register(ctx, store.Registration{DeviceID: fmt.Sprintf("iphone-%d", c.Index),
			PassTypeID: "pass.sim", SerialNumber: card.SerialNumber, PushToken: fmt.Sprintf("%064x", c.Index), Channel: store.ChannelApple})
	case c.Google:
		obj := fmt.Sprintf("sim.%d", c.Index)
		if err = w.st.Devices().SaveGoogleObject(ctx, store.GoogleObject{Serial: card.SerialNumber, ObjectID: obj,
			ClassID: "sim.class", CardVersion: card.Version, ProgramVersion: w.p.Version}, time.Time{}); err == nil {
			_, err = w.st.Devices().RecordGoogleCallback(ctx, store.GoogleCallback{Nonce: obj, ObjectID: obj,
				ClassID: "sim.class", Serial: card.SerialNumber, Save: true})
		}
	case c.App:
		_, err = w.st.Devices().AddFCMToken(ctx, w.m.ID, card.SerialNumber, fmt.Sprintf("sim:%d", c.Index))
	case c.Koshelek:
		_, _, _, err = w.st.Koshelek().Issue(ctx, w.p.ID, store.KoshelekProfile{Phone: c.Phone})
	}
	return err
}

// buy posts the purchases due now, several at once as tills do.
func (w *world) buy(due []purchase, res *Result) error {
	var wg sync.WaitGroup
	errs := make(chan error, len(due))
	sem := make(chan struct{}, 8)
	for _, p := range due {
		serial := w.serials[p.customer]
		if serial == "" {
			continue // bought before joining: not a customer yet
		}
		res.Bought[p.customer] = append(res.Bought[p.customer], p.at)
		c := w.people[p.customer]
		key := fmt.Sprintf("sim-%d-%d", p.customer, p.at.Unix())
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			_, _, err := w.st.Cards().Post(w.ctx, loyalty.Posting{MerchantID: w.m.ID, Serial: serial, Kind: loyalty.Earn,
				PurchaseAmount: c.Amount, IdempotencyKey: key, RequestHash: []byte(key)},
				func(p store.Posted) (store.Answer, error) {
					return store.Answer{Status: 201, Body: []byte(p.Transaction.ID)}, nil
				})
			if err != nil {
				errs <- fmt.Errorf("customer %d buys: %w", c.Index, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// report reads an automation's report from the store and measures it.
func report(ctx context.Context, st *store.Store, a store.Automation) (Report, error) {
	groups, channels, err := st.Automations().AutomationReport(ctx, a.ID, time.Time{})
	if err != nil {
		return Report{}, err
	}
	r := Report{ID: a.ID, Name: a.Name, Trigger: a.Trigger.Type, Groups: groups, Channels: channels,
		PerVariant: make([]outreach.Group, len(a.Variants))}
	for _, v := range a.Variants {
		r.Variants = append(r.Variants, v.Text)
	}
	for _, g := range groups {
		og := outreach.Group{Assigned: g.Customers, Sent: g.Sent, Purchasers: g.Purchasers, Revenue: g.Revenue}
		if g.Holdout {
			r.Holdout = og
			continue
		}
		r.Messaged = outreach.Group{Assigned: r.Messaged.Assigned + og.Assigned, Sent: r.Messaged.Sent + og.Sent,
			Purchasers: r.Messaged.Purchasers + og.Purchasers, Revenue: r.Messaged.Revenue + og.Revenue}
		if g.Variant >= 0 && g.Variant < len(r.PerVariant) {
			r.PerVariant[g.Variant] = og
		}
	}
	r.Overall = outreach.Compare(r.Messaged, r.Holdout)
	for _, v := range r.PerVariant {
		r.VariantTests = append(r.VariantTests, outreach.Compare(v, r.Holdout))
	}
	return r, nil
}

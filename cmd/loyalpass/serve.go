package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/loyalpass/loyalpass/certs"
	"github.com/loyalpass/loyalpass/internal/api"
	"github.com/loyalpass/loyalpass/internal/automation"
	"github.com/loyalpass/loyalpass/internal/campaign"
	"github.com/loyalpass/loyalpass/internal/cardpass"
	"github.com/loyalpass/loyalpass/internal/config"
	"github.com/loyalpass/loyalpass/internal/console"
	"github.com/loyalpass/loyalpass/internal/couponissue"
	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/metrics"
	"github.com/loyalpass/loyalpass/internal/outreach"
	"github.com/loyalpass/loyalpass/internal/sms"
	"github.com/loyalpass/loyalpass/internal/store"
	"github.com/loyalpass/loyalpass/internal/webhooks"
	"github.com/loyalpass/loyalpass/passes"
)

// shutdownGrace is how long, on SIGTERM, requests in flight and the
// pushes, webhook posts and texts already under way get to finish.
const shutdownGrace = 20 * time.Second

func serveCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", stderr)
	cf := addConfigFlags(fs, true)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := cf.load(fs)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	// Listen first: without a configured public URL, passes, links and the
	// web service URL point at the address actually bound.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	defer ln.Close() // for early returns; Serve and Shutdown close it too
	if cfg.PublicURL == "" {
		cfg.PublicURL = config.ListenURL(cfg.Addr, ln.Addr().(*net.TCPAddr).Port)
	}

	key, err := serverKey(cfg, log)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, key, log)
	if err != nil {
		return err
	}
	defer st.Close()
	material, err := loadSigning(cfg, log)
	if err != nil {
		return err
	}
	if cfg.Demo {
		if err := ensureDemo(ctx, st, cfg, stdout); err != nil {
			return fmt.Errorf("create demo merchant: %w", err)
		}
	}

	providers, err := newSMSProviders(cfg, log)
	if err != nil {
		return err
	}
	// Before any worker claims: the claims of instances that stopped
	// without leaving (a crash, or this one's last life) are recovered.
	inst, err := joinInstance(ctx, st, time.Duration(cfg.InstanceLeaseSeconds)*time.Second, log)
	if err != nil {
		return err
	}
	defer inst.Leave(context.WithoutCancel(ctx)) // after the workers' wait below
	gc, err := newGoogleChannels(ctx, cfg, st, log)
	if err != nil {
		return err
	}
	outbound, err := newOutboundGuard(cfg, log)
	if err != nil {
		return err
	}
	koshelekBox, err := newKoshelekBox(cfg, key, log)
	if err != nil {
		return err
	}
	renderer := passes.NewRenderer(material, cfg.PublicURL+"/wallet")
	met := newMetrics(st)
	apiOpts := api.Options{
		Stores: api.StoresOf(st),
		Passes: cardpass.NewWithObserver(cardpass.StoreOf(st), renderer, log, met.PassRendered).
			WithReferralLinks(st.Referrals(), shortLinkBase(cfg)),
		Metrics:    met,
		Readiness:  readiness(st, material),
		Log:        log.With("component", "http"),
		PublicURL:  cfg.PublicURL,
		MaxBody:    cfg.MaxBodyBytes,
		PassTypeID: material.PassTypeID,
		ShortURL:   cfg.SMS.ShortURL,
		SMS: api.SMSOptions{Providers: providerNames(providers), DefaultProvider: cfg.SMS.Provider,
			TwilioAuthToken: cfg.SMS.TwilioAuthToken, CallbackSecret: cfg.SMS.CallbackSecret},
		// The join page texts its codes through the default provider: the
		// log one unless configured, so the code shows in the server log.
		Join: api.JoinOptions{Provider: providers[cfg.SMS.Provider]},
		Wallet: api.WalletOptions{MaxDevicesPerCard: int(cfg.Wallet.MaxDevicesPerCard),
			LogPerMinute: int(cfg.Wallet.LogPerMinute)},
		TrustedProxies: cfg.TrustedProxyList(),
		Koshelek:       api.KoshelekOptions{Box: koshelekBox},
	}
	apiOpts.Outbound, apiOpts.Development = outbound, cfg.Development()
	gc.apiOptions(&apiOpts)
	srv := api.New(apiOpts)
	apiHandler := srv.Handler()
	con := console.New(console.Options{Users: st.Users(), Sessions: st.Sessions(), Audit: st.Audit(),
		Keys: st.APIKeys(), Customers: st.Customers(), Merchants: st.Merchants(), Dashboard: st.Dashboard(), Images: st.Programs(), Joins: st.JoinFunnel(), Settings: st.ConsoleSettings(), CouponIssues: st.CouponIssues(), API: apiHandler,
		SMSProviders: providerNames(providers), ShortURL: cfg.SMS.ShortURL,
		Log: log.With("component", "console"), PublicURL: cfg.PublicURL, TrustedProxies: cfg.TrustedProxyList()})
	httpSrv := &http.Server{
		Handler:           con.Handler(apiHandler),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("loyalpass is serving", "addr", ln.Addr().String(), "public_url", cfg.PublicURL,
		"database", databaseKind(cfg.Database()), "version", buildVersion())

	// Background work stops claiming when workCtx ends (with ctx, on
	// SIGTERM), finishes what it holds within shutdownGrace, and is waited
	// for before the store closes.
	workCtx, stopWork := context.WithCancel(ctx)
	var work sync.WaitGroup
	defer work.Wait()
	defer stopWork()
	work.Go(func() { expireLoop(workCtx, st, time.Duration(cfg.ExpiryIntervalSeconds)*time.Second, log) })
	worker, err := newDeliveryWorker(cfg, material, st, gc, met, outbound, koshelekBox, log)
	if err != nil {
		return err
	}
	work.Go(func() { worker.Run(workCtx) })
	shortURL := shortLinkBase(cfg)
	sender := campaign.New(campaign.Options{Store: campaign.StoreOf(st), Providers: providers, ShortURL: shortURL, Log: log,
		StatusCallback: cfg.PublicURL + "/hooks/sms/twilio", Observe: met.SMS, Grace: shutdownGrace})
	work.Go(func() { sender.Run(workCtx) })
	automations, err := newAutomationRunner(cfg, st, providers, shortURL, met, log)
	if err != nil {
		return err
	}
	work.Go(func() { automations.Run(workCtx) })
	hooks := webhooks.New(webhooks.Options{Store: st.Webhooks(), Outbound: outbound, Development: cfg.Development(), Log: log,
		Grace: shutdownGrace})
	work.Go(func() { hooks.Run(workCtx) })
	coupons := couponissue.New(couponissue.Options{Store: st.CouponIssues(), Cards: st.Cards(), Log: log})
	work.Go(func() { coupons.Run(workCtx) })
	// Work other instances commit wakes this one's workers.
	work.Go(func() { st.Listen(workCtx, log) })

	errc := make(chan error, 1)
	go func() { errc <- httpSrv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing requests, pushes and webhook posts in flight", "grace", shutdownGrace)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	if err := httpSrv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	work.Wait()
	log.Info("stopped")
	return nil
}

// shortLinkBase is where short links (/c/, /r/) point: the SMS short
// domain, else the public URL.
func shortLinkBase(cfg config.Config) string {
	if cfg.SMS.ShortURL != "" {
		return cfg.SMS.ShortURL
	}
	return cfg.PublicURL
}

// newAutomationRunner wires the automations' scheduler and sender: the
// texts go through the same providers, callback and metrics as the
// campaigns', priced by sms.prices.
func newAutomationRunner(cfg config.Config, st *store.Store, providers map[string]sms.Provider, shortURL string,
	met *metrics.Metrics, log *slog.Logger) (*automation.Runner, error) {
	prices, err := cfg.SMS.PriceList()
	if err != nil {
		return nil, err
	}
	as := automation.StoreOf(st)
	texter := &outreach.Texter{Providers: providers, StatusCallback: cfg.PublicURL + "/hooks/sms/twilio", Observe: met.SMS,
		Log: log.With("component", "automation")}
	return &automation.Runner{
		Scheduler: automation.NewScheduler(automation.SchedulerOptions{Store: as, Log: log,
			Every: time.Duration(cfg.AutomationIntervalSeconds) * time.Second}),
		Sender: automation.NewSender(automation.SenderOptions{Store: as, Texter: texter, Prices: prices, ShortURL: shortURL,
			Log: log}),
		Queued: st.Automations().MessagesQueued(), Grace: shutdownGrace, Log: log,
	}, nil
}

// expireLoop expires lapsed points every interval until ctx ends.
func expireLoop(ctx context.Context, st *store.Store, interval time.Duration, log *slog.Logger) {
	log = log.With("component", "expiry")
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for {
			cards, points, err := st.Cards().ExpirePoints(ctx, time.Now(), 500)
			if err != nil {
				if ctx.Err() == nil {
					log.Error("expiring points failed", "err", err)
				}
				break
			}
			if cards > 0 {
				log.Info("points expired", "cards", cards, "points", points)
			}
			if cards < 500 {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// loadSigning returns the pass signing identity: the configured Apple
// certificate, or a development chain created once under the data dir.
func loadSigning(cfg config.Config, log *slog.Logger) (*certs.Material, error) {
	opts := certs.LoadOptions{
		CertFile: cfg.Pass.CertFile, KeyFile: cfg.Pass.KeyFile, P12File: cfg.Pass.P12File,
		IntermediateFile: cfg.Pass.WWDRFile, PassTypeID: cfg.Pass.TypeID, TeamID: cfg.Pass.TeamID,
	}
	if cfg.DevSigning() {
		dir := filepath.Join(cfg.DataDir, "certs")
		files, created, err := certs.EnsureDev(dir, certs.DevOptions{PassTypeID: cfg.Pass.TypeID, TeamID: cfg.Pass.TeamID})
		if err != nil {
			return nil, fmt.Errorf("development signing chain: %w", err)
		}
		opts.CertFile, opts.KeyFile, opts.IntermediateFile = files.Cert, files.Key, files.Intermediate
		if created {
			log.Info("created a development signing chain", "dir", dir)
		}
		log.Warn("DEVELOPMENT SIGNING: passes are signed with a generated certificate that no iPhone trusts. " +
			"Real devices need your Pass Type ID certificate from Apple and Apple's WWDR G4 intermediate: " +
			"set pass.cert_file + pass.key_file (or pass.p12_file) and pass.wwdr_file, and an https public_url.")
	} else {
		pw, err := cfg.Pass.P12PasswordValue()
		if err != nil {
			return nil, err
		}
		opts.P12Password = pw
	}
	m, err := certs.Load(opts)
	if err != nil {
		if cfg.DevSigning() {
			return nil, fmt.Errorf("%w (the development chain under %s was made for other settings: delete that folder to make a new one)",
				err, filepath.Join(cfg.DataDir, "certs"))
		}
		return nil, err
	}
	if m.ExpiresWithin(time.Now(), 30*24*time.Hour) {
		log.Warn("the pass signing certificate expires soon: renew it in the Apple developer account",
			"not_after", m.Leaf.NotAfter)
	}
	return m, nil
}

// demoOwner is the email of the demo merchant's owner.
const demoOwner = "owner@demo.loyalpass.local"

// ensureDemo creates, on the very first start, a demo merchant with a demo
// program, and prints its API key: the only time the key is ever shown.
func ensureDemo(ctx context.Context, st *store.Store, cfg config.Config, stdout io.Writer) error {
	m, created, err := st.Merchants().EnsureMerchant(ctx, "Demo Coffee", cfg.Country)
	if err != nil || !created {
		return err
	}
	p := loyalty.Program{MerchantID: m.ID, Name: "Кофейня «Демо»", CurrencyLabel: "баллы", EarnRateBP: 500,
		WelcomeBonus: 100, Terms: "5% от суммы покупки возвращается баллами. 1 балл = 1 рубль.",
		BarcodeFormat: passes.BarcodeQR, Locale: passes.LocaleRU, BackgroundColor: "#3b2416",
		ForegroundColor: "#ffffff", LabelColor: "#f5d7b5", LogoText: "Демо Кофе"}
	if err := st.Programs().CreateProgram(ctx, &p); err != nil {
		return err
	}
	key, err := createKey(ctx, st, m.Name, cfg.Country)
	if err != nil {
		return err
	}
	pw, err := console.CreateUser(ctx, st.Users(), console.NewUser{MerchantID: m.ID, Email: demoOwner,
		Role: console.Owner, By: "first start"})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, `
  Demo merchant "%s" created with program %s.
  Its API key (shown this once; make more with `+"`loyalpass keys create --merchant NAME`"+`):

      %s

  Try: curl -H "Authorization: Bearer %s" %s/api/v1/programs

  The console: %s/console, signing in as the demo owner (shown this once;
  add people with `+"`loyalpass users create --merchant NAME --email EMAIL --role ROLE`"+`):

      email     %s
      password  %s

`, m.Name, p.ID, key, key, cfg.PublicURL, cfg.PublicURL, demoOwner, pw)
	return nil
}

// databaseKind names the database for the log without its URL, which may
// hold a password.
func databaseKind(url string) string {
	if store.IsPostgresURL(url) {
		return "postgresql"
	}
	return "sqlite"
}

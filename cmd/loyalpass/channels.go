package main

import (
	"fmt"
	"log/slog"
	"os"
	"sort"

	"github.com/loyalpass/loyalpass/certs"
	"github.com/loyalpass/loyalpass/internal/config"
	"github.com/loyalpass/loyalpass/internal/credential"
	"github.com/loyalpass/loyalpass/internal/delivery"
	"github.com/loyalpass/loyalpass/internal/metrics"
	"github.com/loyalpass/loyalpass/internal/netguard"
	"github.com/loyalpass/loyalpass/internal/sms"
	"github.com/loyalpass/loyalpass/internal/store"
	"github.com/loyalpass/loyalpass/push/apns"
	"github.com/loyalpass/loyalpass/push/koshelek"
	"github.com/loyalpass/loyalpass/push/relay"
)

// newOutboundGuard builds the one guard that push relays, webhooks and the
// API's URL checks share, opening the ranges of outbound_allow.
func newOutboundGuard(cfg config.Config, log *slog.Logger) (*netguard.Guard, error) {
	allow, err := cfg.OutboundAllowList()
	if err != nil {
		return nil, err
	}
	if len(allow) > 0 {
		log.Warn("relays and webhooks may reach these internal ranges (outbound_allow)", "ranges", cfg.OutboundAllow)
	}
	return netguard.New(netguard.Options{Allow: allow}), nil
}

// newDeliveryWorker builds the outbox worker with the push channels the
// configuration turns on.
func newDeliveryWorker(cfg config.Config, m *certs.Material, st *store.Store, gc googleChannels, met *metrics.Metrics,
	outbound *netguard.Guard, box *credential.Box, log *slog.Logger) (*delivery.Worker, error) {
	opts := delivery.Options{Store: delivery.StoreOf(st), PassTypeID: m.PassTypeID, Log: log, Observe: met.Push, Grace: shutdownGrace}
	gc.deliveryOptions(&opts)
	kc, err := koshelek.New(koshelek.Options{BaseURL: cfg.Koshelek.PushURL, Outbound: outbound,
		PerMinute: int(cfg.Koshelek.PushPerMinute)})
	if err != nil {
		return nil, err
	}
	opts.Channels = append(opts.Channels, delivery.NewKoshelek(delivery.KoshelekOptions{Store: st.Koshelek(), Sender: kc,
		Box: box, StatusCallbacks: cfg.Koshelek.StatusCallbacks, Log: log}))
	if cfg.APNsOn() {
		ao := apns.Options{Topic: m.PassTypeID, Host: cfg.APNs.Host, Concurrency: int(cfg.APNs.Concurrency)}
		if cfg.APNs.CAFile != "" {
			pool, err := loadRoots(cfg.APNs.CAFile)
			if err != nil {
				return nil, fmt.Errorf("apns.ca_file: %w", err)
			}
			ao.RootCAs = pool
		}
		if cfg.APNs.KeyFile != "" {
			key, err := os.ReadFile(cfg.APNs.KeyFile)
			if err != nil {
				return nil, fmt.Errorf("apns key: %w", err)
			}
			ao.AuthKeyP8, ao.KeyID, ao.TeamID = key, cfg.APNs.KeyID, cfg.APNs.TeamID
		} else {
			cert := m.TLSCertificate()
			ao.Certificate = &cert
		}
		client, err := apns.New(ao)
		if err != nil {
			return nil, fmt.Errorf("apns: %w", err)
		}
		opts.Apple = client
		log.Info("APNs pushes are on", "host", cfg.APNs.Host)
	} else {
		log.Info("APNs pushes are off: Apple Wallet cards update only when the phone asks (set a real certificate or apns.enabled = on)")
	}
	r := cfg.Relays
	vendors := map[relay.Vendor]relay.Config{}
	for v, key := range map[relay.Vendor]string{relay.WalletPasses: r.WalletPassesKey, relay.Pass2U: r.Pass2UKey,
		relay.Passworks: r.PassworksKey, relay.PassHub: r.PassHubKey} {
		if key != "" {
			vendors[v] = relay.Config{APIKey: key}
		}
	}
	if r.WalletUnionURL != "" {
		vendors[relay.WalletUnion] = relay.Config{BaseURL: r.WalletUnionURL, APIKey: r.WalletUnionKey}
	}
	relays, err := relay.New(relay.Options{Vendors: vendors, Outbound: outbound})
	if err != nil {
		return nil, err
	}
	opts.Relays = relays
	return delivery.New(opts), nil
}

// newKoshelekBox seals the programs' Push API passwords with the
// server's key.
func newKoshelekBox(cfg config.Config, key []byte, log *slog.Logger) (*credential.Box, error) {
	path, create := cfg.KoshelekKeyFile()
	if create && store.IsPostgresURL(cfg.Database()) {
		log.Warn("koshelek.key_file is not set: every instance on this database must share one key, or one cannot "+
			"open the Push API passwords another sealed; set koshelek.key_file to the same file everywhere", "file", path)
	}
	return credential.NewBox(key)
}

// newSMSProviders builds every SMS provider the configuration can use;
// "log" is always there.
func newSMSProviders(cfg config.Config, log *slog.Logger) (map[string]sms.Provider, error) {
	c := cfg.SMS
	providers := map[string]sms.Provider{"log": sms.NewLog(log.With("component", "sms"))}
	if c.TwilioAccountSID != "" {
		p, err := sms.NewTwilio(sms.TwilioConfig{BaseURL: c.TwilioBaseURL, AccountSID: c.TwilioAccountSID,
			AuthToken: c.TwilioAuthToken, From: c.TwilioFrom, MessagingServiceSID: c.TwilioMessagingServiceSID})
		if err != nil {
			return nil, fmt.Errorf("twilio: %w", err)
		}
		providers["twilio"] = p
	}
	if c.SMSRuAPIID != "" {
		p, err := sms.NewSMSRu(sms.SMSRuConfig{BaseURL: c.SMSRuBaseURL, APIID: c.SMSRuAPIID, From: c.SMSRuFrom})
		if err != nil {
			return nil, fmt.Errorf("sms.ru: %w", err)
		}
		providers["smsru"] = p
	}
	if c.SMSCAPIKey != "" || c.SMSCLogin != "" {
		p, err := sms.NewSMSC(sms.SMSCConfig{BaseURL: c.SMSCBaseURL, Login: c.SMSCLogin, Password: c.SMSCPassword,
			APIKey: c.SMSCAPIKey, Sender: c.SMSCSender})
		if err != nil {
			return nil, fmt.Errorf("smsc: %w", err)
		}
		providers["smsc"] = p
	}
	return providers, nil
}

func providerNames(m map[string]sms.Provider) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

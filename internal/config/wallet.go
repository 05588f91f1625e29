package config

import (
	"fmt"
	"net/netip"
	"strings"
)

// Wallet limits the pass web service (/wallet/v1), whose log endpoint
// takes no authentication and whose registrations any card holder can make.
type Wallet struct {
	// MaxDevicesPerCard refuses (403) the registration of a card on one
	// more device once this many devices follow it.
	MaxDevicesPerCard int64 `toml:"max_devices_per_card" env:"WALLET_MAX_DEVICES_PER_CARD"`
	// LogPerMinute is how many log requests one client address may send a
	// minute, in bursts of as many; beyond it they get 429.
	LogPerMinute int64 `toml:"log_per_minute" env:"WALLET_LOG_PER_MINUTE"`
	// LogRetentionDays is how long stored device log messages are kept.
	LogRetentionDays int64 `toml:"log_retention_days" env:"WALLET_LOG_RETENTION_DAYS"`
	// LogMaxRows is how many device log messages are kept, the newest.
	LogMaxRows int64 `toml:"log_max_rows" env:"WALLET_LOG_MAX_ROWS"`
}

func defaultWallet() Wallet {
	return Wallet{MaxDevicesPerCard: 10, LogPerMinute: 60, LogRetentionDays: 7, LogMaxRows: 10000}
}

func (w Wallet) validate() []error {
	var errs []error
	for _, v := range []struct {
		key      string
		val, min int64
	}{
		{"wallet.max_devices_per_card", w.MaxDevicesPerCard, 1},
		{"wallet.log_per_minute", w.LogPerMinute, 1},
		{"wallet.log_retention_days", w.LogRetentionDays, 1},
		{"wallet.log_max_rows", w.LogMaxRows, 100},
	} {
		if v.val < v.min {
			errs = append(errs, fmt.Errorf("%s %d must be at least %d", v.key, v.val, v.min))
		}
	}
	return errs
}

// TrustedProxyList returns TrustedProxies as a list.
func (c Config) TrustedProxyList() []string {
	var out []string
	for _, p := range strings.Split(c.TrustedProxies, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (c Config) validateTrustedProxies() []error {
	var errs []error
	for _, p := range c.TrustedProxyList() {
		if _, err := netip.ParsePrefix(p); err == nil {
			continue
		}
		if _, err := netip.ParseAddr(p); err != nil {
			errs = append(errs, fmt.Errorf("trusted_proxies: %q is neither an IP address nor a CIDR", p))
		}
	}
	return errs
}

package config

import (
	"fmt"
)

// Wallet limits the pass web service (/wallet/v1), whose registrations
// any card holder can make.
type Wallet struct {
	// MaxDevicesPerCard refuses (403) the registration of a card on one
	// more device once this many devices follow it.
	MaxDevicesPerCard int64 `toml:"max_devices_per_card" env:"WALLET_MAX_DEVICES_PER_CARD"`
}

func defaultWallet() Wallet {
	return Wallet{MaxDevicesPerCard: 10}
}

func (w Wallet) validate() []error {
	var errs []error
	for _, v := range []struct {
		key      string
		val, min int64
	}{
		{"wallet.max_devices_per_card", w.MaxDevicesPerCard, 1},
	} {
		if v.val < v.min {
			errs = append(errs, fmt.Errorf("%s %d must be at least %d", v.key, v.val, v.min))
		}
	}
	return errs
}

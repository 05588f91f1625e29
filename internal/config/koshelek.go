package config

import (
	"fmt"
	"net/url"
	"path/filepath"
)

// Koshelek is the «Кошелёк» (Cardsmobile) integration. Each program turns
// its channel on with its own logins (PATCH /api/v1/programs/{id});
// these keys are the server's side of it.
type Koshelek struct {
	// PushURL is the base URL of Кошелёк's Push API; Cardsmobile names
	// the host with each partner's account.
	PushURL string `toml:"push_url" env:"KOSHELEK_PUSH_URL"`
	// PushPerMinute is how many messages one Push API account sends a
	// minute (Cardsmobile's documented limit is 1,000).
	PushPerMinute int64 `toml:"push_per_minute" env:"KOSHELEK_PUSH_PER_MINUTE"`
	// StatusCallbacks asks Кошелёк to post each message's delivery status
	// to the program's Push Callback API.
	StatusCallbacks bool `toml:"status_callbacks" env:"KOSHELEK_STATUS_CALLBACKS"`
	// KeyFile holds the 32-byte key (raw, base64 or hex) that seals the
	// programs' Push API passwords; empty means DataDir/koshelek.key,
	// created on the first start. Every instance on one database needs
	// the same key.
	KeyFile string `toml:"key_file" env:"KOSHELEK_KEY_FILE"`
}

func defaultKoshelek() Koshelek {
	return Koshelek{PushURL: "https://api.cardsmobile.ru", PushPerMinute: 1000, StatusCallbacks: true}
}

// KoshelekKeyFile returns the key file, defaulting under DataDir; created
// says whether a missing default may be made.
func (c Config) KoshelekKeyFile() (path string, create bool) {
	if c.Koshelek.KeyFile != "" {
		return c.Koshelek.KeyFile, false
	}
	return filepath.Join(c.DataDir, "koshelek.key"), true
}

func (k Koshelek) validate(development bool) []error {
	var errs []error
	u, err := url.Parse(k.PushURL)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		errs = append(errs, fmt.Errorf("koshelek.push_url %q must be an absolute https URL", k.PushURL))
	case u.Scheme != "https" && !development:
		errs = append(errs, fmt.Errorf("koshelek.push_url %q must use https: the Push API takes the account's password", k.PushURL))
	case u.User != nil:
		errs = append(errs, fmt.Errorf("koshelek.push_url must not carry a user name or password (each program has its own)"))
	}
	if k.PushPerMinute < 1 || k.PushPerMinute > 1_000_000 {
		errs = append(errs, fmt.Errorf("koshelek.push_per_minute %d must be 1 to 1000000", k.PushPerMinute))
	}
	return errs
}

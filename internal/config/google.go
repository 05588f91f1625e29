package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
)

// Google is Google Wallet: cards saved to it are kept current over the
// Wallet REST API, and save links are signed with the service account.
// It is off until service_account_file and issuer_id are set.
type Google struct {
	// ServiceAccountFile is the JSON key of a service account that is a
	// user (Developer) of the issuer in the Google Pay & Wallet Console.
	ServiceAccountFile string `toml:"service_account_file" env:"GOOGLE_SERVICE_ACCOUNT_FILE"`
	// IssuerID is the numeric issuer ID from the console.
	IssuerID string `toml:"issuer_id" env:"GOOGLE_ISSUER_ID"`
	// Origins is a comma-separated list of web origins allowed to show a
	// save button (the save JWT's origins); plain links need none.
	Origins string `toml:"origins" env:"GOOGLE_ORIGINS"`
	// Endpoint overrides the Wallet API's base URL (tests).
	Endpoint string `toml:"endpoint" env:"GOOGLE_ENDPOINT"`
	// CallbackKeysFile holds Google's root signing keys for save/delete
	// callbacks, as published at https://pay.google.com/gp/m/issuer/keys;
	// operators fetch it (Google rotates the keys, each carries its
	// expiry). Without it callbacks are refused.
	CallbackKeysFile string `toml:"callback_keys_file" env:"GOOGLE_CALLBACK_KEYS_FILE"`
}

// FCM is Firebase Cloud Messaging for a merchant's own app: its tokens,
// registered per card, get a data message on every change. It is off
// until project_id is set.
type FCM struct {
	// CredentialsFile is a service-account JSON key of the Firebase project.
	CredentialsFile string `toml:"credentials_file" env:"FCM_CREDENTIALS_FILE"`
	ProjectID       string `toml:"project_id" env:"FCM_PROJECT_ID"`
	// Endpoint overrides FCM's base URL (tests).
	Endpoint string `toml:"endpoint" env:"FCM_ENDPOINT"`
}

// On reports whether Google Wallet is configured.
func (g Google) On() bool { return g.ServiceAccountFile != "" || g.IssuerID != "" }

// OriginList returns Origins as a list.
func (g Google) OriginList() []string {
	var out []string
	for _, o := range strings.Split(g.Origins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			out = append(out, o)
		}
	}
	return out
}

// On reports whether FCM is configured.
func (f FCM) On() bool { return f.ProjectID != "" || f.CredentialsFile != "" }

func (g Google) validate() []error {
	if !g.On() {
		if g.CallbackKeysFile != "" || g.Origins != "" || g.Endpoint != "" {
			return []error{errors.New("google: set google.service_account_file and google.issuer_id to turn Google Wallet on")}
		}
		return nil
	}
	var errs []error
	switch {
	case g.IssuerID == "":
		errs = append(errs, errors.New("google.issuer_id is missing: copy the numeric issuer ID from the Google Pay & Wallet Console"))
	case strings.Trim(g.IssuerID, "0123456789") != "":
		errs = append(errs, fmt.Errorf("google.issuer_id %q must be the numeric issuer ID", g.IssuerID))
	}
	if g.ServiceAccountFile == "" {
		errs = append(errs, errors.New("google.service_account_file is missing: the JSON key of a service account added under Users in the Pay & Wallet Console"))
	} else if err := checkServiceAccount(g.ServiceAccountFile); err != nil {
		errs = append(errs, fmt.Errorf("google.service_account_file: %w", err))
	}
	for _, o := range g.OriginList() {
		if u, err := url.Parse(o); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "" {
			errs = append(errs, fmt.Errorf("google.origins: %q is not a web origin like https://shop.example", o))
		}
	}
	if err := checkEndpoint(g.Endpoint); err != nil {
		errs = append(errs, fmt.Errorf("google.endpoint: %w", err))
	}
	if g.CallbackKeysFile != "" {
		if _, err := os.Stat(g.CallbackKeysFile); err != nil {
			errs = append(errs, fmt.Errorf("google.callback_keys_file: %w (fetch it from https://pay.google.com/gp/m/issuer/keys)", err))
		}
	}
	return errs
}

func (f FCM) validate() []error {
	if !f.On() {
		if f.Endpoint != "" {
			return []error{errors.New("fcm: set fcm.project_id and fcm.credentials_file to turn FCM on")}
		}
		return nil
	}
	var errs []error
	if f.ProjectID == "" {
		errs = append(errs, errors.New("fcm.project_id is missing: the Firebase project of the app"))
	}
	if f.CredentialsFile == "" {
		errs = append(errs, errors.New("fcm.credentials_file is missing: a service-account JSON key of the Firebase project"))
	} else if err := checkServiceAccount(f.CredentialsFile); err != nil {
		errs = append(errs, fmt.Errorf("fcm.credentials_file: %w", err))
	}
	if err := checkEndpoint(f.Endpoint); err != nil {
		errs = append(errs, fmt.Errorf("fcm.endpoint: %w", err))
	}
	return errs
}

// checkServiceAccount reads a key file far enough to say whether it is a
// Google service-account key; it never quotes the key.
func checkServiceAccount(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var k struct {
		Type        string `json:"type"`
		ClientEmail string `json:"client_email"`
		PrivateKey  string `json:"private_key"`
	}
	if err := json.Unmarshal(b, &k); err != nil {
		return fmt.Errorf("%s is not JSON: download the key as JSON from the Google Cloud console", path)
	}
	if k.Type != "service_account" || k.ClientEmail == "" || k.PrivateKey == "" {
		return fmt.Errorf("%s is not a service account key (type %q): create a key for a service account in the Google Cloud console", path, k.Type)
	}
	return nil
}

func checkEndpoint(s string) error {
	if s == "" {
		return nil
	}
	if u, err := url.Parse(s); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%q must be an absolute http(s) URL", s)
	}
	return nil
}

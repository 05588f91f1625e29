// Package config reads loyalpass's configuration: built-in defaults, then
// a TOML file, then LOYALPASS_* environment variables, then flags, each
// overriding the one before. Secrets come from files or the environment,
// never from flags.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"

	"github.com/loyalpass/loyalpass/internal/netguard"
)

// EnvPrefix starts every environment variable loyalpass reads.
const EnvPrefix = "LOYALPASS_"

// Config is the whole configuration. The env tag names the variable after
// EnvPrefix; the toml tag names the key in the file.
type Config struct {
	// Addr is the listen address of the HTTP server.
	Addr string `toml:"addr" env:"ADDR"`
	// DataDir holds the SQLite database and the development signing chain.
	DataDir string `toml:"data" env:"DATA"`
	// PublicURL is where phones and merchants reach this server; passes
	// carry PublicURL + "/wallet" as their web service URL. Empty means
	// http on the listen address (see ListenURL), which only development
	// signing allows.
	PublicURL string `toml:"public_url" env:"PUBLIC_URL"`
	// DatabaseURL is "sqlite:PATH" or "postgres://USER@HOST:5432/DB" (for
	// several instances on one database; the password belongs in
	// PGPASSWORD or ~/.pgpass); empty means DataDir/loyalpass.db.
	DatabaseURL string `toml:"database_url" env:"DATABASE_URL"`
	// LogLevel is debug, info, warn or error; LogFormat is text or json.
	LogLevel  string `toml:"log_level" env:"LOG_LEVEL"`
	LogFormat string `toml:"log_format" env:"LOG_FORMAT"`
	// MaxBodyBytes caps JSON request bodies.
	MaxBodyBytes int64 `toml:"max_body_bytes" env:"MAX_BODY_BYTES"`
	// Demo creates a demo merchant and program on the first start.
	Demo bool `toml:"demo" env:"DEMO"`
	// Country is the default region for new merchants' phone numbers.
	Country string `toml:"country" env:"COUNTRY"`
	// ExpiryIntervalSeconds is how often lapsed points are expired.
	ExpiryIntervalSeconds int64 `toml:"expiry_interval_seconds" env:"EXPIRY_INTERVAL_SECONDS"`
	// AutomationIntervalSeconds is how often each automation's trigger is
	// evaluated (over what changed since the last evaluation).
	AutomationIntervalSeconds int64 `toml:"automation_interval_seconds" env:"AUTOMATION_INTERVAL_SECONDS"`
	// InstanceLeaseSeconds is how long an instance counts as alive after
	// its last heartbeat (one every third of it). Once it has run out,
	// other instances recover the work it had claimed.
	InstanceLeaseSeconds int64 `toml:"instance_lease_seconds" env:"INSTANCE_LEASE_SECONDS"`
	// TrustedProxies is a comma-separated list of the addresses or CIDRs of
	// reverse proxies whose X-Forwarded-For names the client; empty means
	// the client is the connection's peer.
	TrustedProxies string `toml:"trusted_proxies" env:"TRUSTED_PROXIES"`
	// OutboundAllow is a comma-separated list of CIDR prefixes or
	// addresses ("10.20.0.0/16, ::1") that push relays and webhooks may
	// reach although they are internal. Outbound calls to loopback,
	// private, link-local, CGNAT, multicast and cloud metadata addresses
	// are refused otherwise, because devices and merchants choose those
	// URLs.
	OutboundAllow string `toml:"outbound_allow" env:"OUTBOUND_ALLOW"`

	Pass   Pass   `toml:"pass"`
	APNs   APNs   `toml:"apns"`
	Relays Relays `toml:"relays"`
	SMS    SMS    `toml:"sms"`
	Google Google `toml:"google"`
	FCM    FCM    `toml:"fcm"`
	Wallet Wallet `toml:"wallet"`
	// Koshelek is the «Кошелёк» integration (koshelek.go).
	Koshelek Koshelek `toml:"koshelek"`
}

// SMS is the win-back texting. Secrets (auth token, password, API id and
// key, callback secret) come only from the environment.
type SMS struct {
	// Provider is the default provider of campaigns: log (texts are only
	// logged), twilio, smsru or smsc.
	Provider string `toml:"provider" env:"SMS_PROVIDER"`
	// ShortURL is the base of short links in texts, e.g. https://k.ru;
	// empty means public_url. Keep it short: /c/<token> adds 15 characters.
	ShortURL string `toml:"short_url" env:"SHORT_URL"`

	TwilioAccountSID          string `toml:"twilio_account_sid" env:"TWILIO_ACCOUNT_SID"`
	TwilioAuthToken           string `toml:"-" env:"TWILIO_AUTH_TOKEN"`
	TwilioFrom                string `toml:"twilio_from" env:"TWILIO_FROM"`
	TwilioMessagingServiceSID string `toml:"twilio_messaging_service_sid" env:"TWILIO_MESSAGING_SERVICE_SID"`
	TwilioBaseURL             string `toml:"twilio_base_url" env:"TWILIO_BASE_URL"`

	SMSRuAPIID   string `toml:"-" env:"SMSRU_API_ID"`
	SMSRuFrom    string `toml:"smsru_from" env:"SMSRU_FROM"`
	SMSRuBaseURL string `toml:"smsru_base_url" env:"SMSRU_BASE_URL"`

	SMSCLogin    string `toml:"smsc_login" env:"SMSC_LOGIN"`
	SMSCPassword string `toml:"-" env:"SMSC_PASSWORD"`
	SMSCAPIKey   string `toml:"-" env:"SMSC_API_KEY"`
	SMSCSender   string `toml:"smsc_sender" env:"SMSC_SENDER"`
	SMSCBaseURL  string `toml:"smsc_base_url" env:"SMSC_BASE_URL"`

	// CallbackSecret is the path secret of the SMS.ru and SMSC delivery
	// callbacks (/hooks/sms/smsru/<secret>), which carry no signature.
	CallbackSecret string `toml:"-" env:"SMS_CALLBACK_SECRET"`

	// Prices is what one SMS segment costs per provider, in the merchants'
	// currency, e.g. "smsru=4.50, smsc=3.90, twilio=7.90": automation
	// reports show the money spent and SMS budgets are counted with it. A
	// provider without a price costs 0.
	Prices string `toml:"prices" env:"SMS_PRICES"`
}

// PriceList parses Prices into minor units (kopecks, cents) per segment,
// by provider.
func (s SMS) PriceList() (map[string]int64, error) {
	out := map[string]int64{}
	for _, item := range strings.Split(s.Prices, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, price, ok := strings.Cut(item, "=")
		name, price = strings.TrimSpace(name), strings.TrimSpace(price)
		whole, frac, _ := strings.Cut(price, ".")
		if !ok || name == "" || len(frac) > 2 {
			return nil, fmt.Errorf("sms.prices %q: write provider=price with at most 2 decimals, e.g. smsru=4.50", item)
		}
		frac += strings.Repeat("0", 2-len(frac))
		major, err1 := strconv.ParseInt(whole, 10, 64)
		minor, err2 := strconv.ParseInt(frac, 10, 64)
		if err1 != nil || err2 != nil || major < 0 || minor < 0 || major > 1_000_000 {
			return nil, fmt.Errorf("sms.prices %q: the price is not a number from 0 to 1000000", item)
		}
		out[name] = major*100 + minor
	}
	return out, nil
}

// APNs is how pass updates reach Apple Wallet.
type APNs struct {
	// Enabled is "auto" (on with a real Pass Type ID certificate, off with
	// the development chain, which Apple refuses), "on" or "off".
	Enabled string `toml:"enabled" env:"APNS_ENABLED"`
	// Host is the APNs base URL; the default is production, the only
	// environment that delivers pass updates.
	Host string `toml:"host" env:"APNS_HOST"`
	// KeyFile, KeyID and TeamID select token authentication with a .p8
	// key of the pass's team; without them the Pass Type ID certificate
	// authenticates, as Apple documents.
	KeyFile string `toml:"key_file" env:"APNS_KEY_FILE"`
	// CAFile, if set, is the PEM of the root certificates to trust for
	// Host instead of the system's (a test APNs, or a TLS proxy).
	CAFile string `toml:"ca_file" env:"APNS_CA_FILE"`
	KeyID  string `toml:"key_id" env:"APNS_KEY_ID"`
	TeamID string `toml:"team_id" env:"APNS_TEAM_ID"`
	// Concurrency bounds the pushes in flight to APNs (default 500):
	// throughput is about Concurrency / round trip. It also bounds what
	// an instance killed mid-way leaves pushed but not recorded, which
	// goes out again after the restart.
	Concurrency int64 `toml:"concurrency" env:"APNS_CONCURRENCY"`
}

// Relays are the push relays of the Android pkpass apps. PassWallet needs
// nothing (each registration names its relay); WalletPasses works without
// a key but is rate-limited; the others need the key the vendor issues.
type Relays struct {
	WalletPassesKey string `toml:"walletpasses_key" env:"RELAY_WALLETPASSES_KEY"`
	Pass2UKey       string `toml:"pass2u_key" env:"RELAY_PASS2U_KEY"`
	WalletUnionURL  string `toml:"walletunion_url" env:"RELAY_WALLETUNION_URL"`
	WalletUnionKey  string `toml:"walletunion_key" env:"RELAY_WALLETUNION_KEY"`
	PassworksKey    string `toml:"passworks_key" env:"RELAY_PASSWORKS_KEY"`
	PassHubKey      string `toml:"passhub_key" env:"RELAY_PASSHUB_KEY"`
}

// Pass is the Apple Wallet signing identity. With no certificate set,
// loyalpass generates a development chain under DataDir/certs.
type Pass struct {
	TypeID string `toml:"type_id" env:"PASS_TYPE_ID"`
	TeamID string `toml:"team_id" env:"PASS_TEAM_ID"`
	// CertFile and KeyFile are PEM files; or P12File, a PKCS#12 bundle.
	CertFile string `toml:"cert_file" env:"PASS_CERT_FILE"`
	KeyFile  string `toml:"key_file" env:"PASS_KEY_FILE"`
	P12File  string `toml:"p12_file" env:"PASS_P12_FILE"`
	// P12PasswordFile holds the PKCS#12 password; P12Password is read only
	// from the environment (LOYALPASS_PASS_P12_PASSWORD), never a file or flag.
	P12PasswordFile string `toml:"p12_password_file" env:"PASS_P12_PASSWORD_FILE"`
	P12Password     string `toml:"-" env:"PASS_P12_PASSWORD"`
	// WWDRFile is Apple's WWDR intermediate (G4) that issued the certificate.
	WWDRFile string `toml:"wwdr_file" env:"PASS_WWDR_FILE"`
}

// Default returns the configuration used when nothing is set.
func Default() Config {
	return Config{
		Addr:                      ":8080",
		DataDir:                   "./data",
		LogLevel:                  "info",
		LogFormat:                 "text",
		MaxBodyBytes:              64 << 10,
		Demo:                      true,
		Country:                   "RU",
		ExpiryIntervalSeconds:     60,
		AutomationIntervalSeconds: 60,
		InstanceLeaseSeconds:      30,
		Pass:                      Pass{TypeID: "pass.dev.loyalpass.card", TeamID: "LOYALDEV01"},
		APNs:                      APNs{Enabled: "auto", Concurrency: 500},
		SMS:                       SMS{Provider: "log"},
		Wallet:                    defaultWallet(),
		Koshelek:                  defaultKoshelek(),
	}
}

// Load returns the defaults overridden by the TOML file at path (if path is
// not empty) and then by the environment (as returned by os.Environ).
func Load(path string, environ []string) (Config, error) {
	cfg := Default()
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return cfg, fmt.Errorf("read config file: %w", err)
		}
		dec := toml.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&cfg); err != nil {
			var strict *toml.StrictMissingError
			if errors.As(err, &strict) {
				return cfg, fmt.Errorf("config file %s: unknown keys:\n%s", path, strict.String())
			}
			return cfg, fmt.Errorf("config file %s: %w", path, err)
		}
	}
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, EnvPrefix) {
			env[strings.TrimPrefix(k, EnvPrefix)] = v
		}
	}
	if err := applyEnv(reflect.ValueOf(&cfg).Elem(), env); err != nil {
		return cfg, err
	}
	return cfg, nil
}

func applyEnv(v reflect.Value, env map[string]string) error {
	for i := range v.NumField() {
		f, field := v.Type().Field(i), v.Field(i)
		if f.Type.Kind() == reflect.Struct {
			if err := applyEnv(field, env); err != nil {
				return err
			}
			continue
		}
		val, ok := env[f.Tag.Get("env")]
		if !ok || f.Tag.Get("env") == "" {
			continue
		}
		switch field.Kind() {
		case reflect.String:
			field.SetString(val)
		case reflect.Bool:
			b, err := strconv.ParseBool(val)
			if err != nil {
				return fmt.Errorf("%s%s: want true or false, got %q", EnvPrefix, f.Tag.Get("env"), val)
			}
			field.SetBool(b)
		case reflect.Int64:
			n, err := strconv.ParseInt(val, 10, 64)
			if err != nil {
				return fmt.Errorf("%s%s: want an integer, got %q", EnvPrefix, f.Tag.Get("env"), val)
			}
			field.SetInt(n)
		}
	}
	return nil
}

// APNsOn reports whether pass updates go to APNs.
func (c Config) APNsOn() bool {
	return c.APNs.Enabled == "on" || (c.APNs.Enabled == "auto" && !c.DevSigning())
}

// DevSigning reports whether no signing certificate is configured, so a
// development chain is used.
func (c Config) DevSigning() bool {
	return c.Pass.CertFile == "" && c.Pass.P12File == ""
}

// Development reports whether the server runs in development mode: the
// generated signing chain, with which an http public_url is accepted, and
// so are http webhook URLs.
func (c Config) Development() bool { return c.DevSigning() }

// OutboundAllowList returns OutboundAllow parsed; Validate has checked it.
func (c Config) OutboundAllowList() ([]netip.Prefix, error) {
	p, err := netguard.ParseAllow(c.OutboundAllow)
	if err != nil {
		return nil, fmt.Errorf("outbound_allow: %w", err)
	}
	return p, nil
}

// ListenURL is the public URL of a server that listens on addr (the
// configured listen address) and got port (the one actually bound, which
// differs for port 0): http, with the host of addr, or localhost when addr
// names no host or a wildcard one (":8080", "0.0.0.0:8080", "[::]:8080").
func ListenURL(addr string, port int) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = ""
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(port))
}

// Database returns the database URL, defaulting to SQLite under DataDir.
func (c Config) Database() string {
	if c.DatabaseURL != "" {
		return c.DatabaseURL
	}
	return "sqlite:" + filepath.Join(c.DataDir, "loyalpass.db")
}

// Validate checks the configuration once, at start-up, and says what is
// wrong in terms an operator can act on.
func (c Config) Validate() error {
	var errs []error
	u, err := url.Parse(c.PublicURL)
	switch {
	case c.PublicURL == "" && !c.DevSigning():
		errs = append(errs, errors.New("public_url must be set to the https URL iPhones reach this server at (only the generated development certificates let it default to http on the listen address)"))
	case c.PublicURL == "":
	case err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https"):
		errs = append(errs, fmt.Errorf("public_url %q must be an absolute http(s) URL", c.PublicURL))
	case u.Scheme != "https" && !c.Development():
		errs = append(errs, fmt.Errorf("public_url %q must use https: iPhones talk to the pass web service only over HTTPS (http is for development with the generated certificates)", c.PublicURL))
	case u.Path != "" && u.Path != "/" || u.RawQuery != "":
		errs = append(errs, fmt.Errorf("public_url %q must have no path or query", c.PublicURL))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("data directory must not be empty"))
	}
	if c.Pass.TypeID == "" || c.Pass.TeamID == "" {
		errs = append(errs, errors.New("pass.type_id and pass.team_id must be set"))
	}
	p := c.Pass
	switch {
	case p.CertFile != "" && p.P12File != "":
		errs = append(errs, errors.New("set either pass.cert_file/key_file or pass.p12_file, not both"))
	case p.CertFile != "" && p.KeyFile == "":
		errs = append(errs, errors.New("pass.cert_file needs pass.key_file"))
	}
	if p.P12Password != "" && p.P12PasswordFile != "" {
		errs = append(errs, errors.New("set the PKCS#12 password by file or by environment, not both"))
	}
	switch c.APNs.Enabled {
	case "auto", "on", "off":
	default:
		errs = append(errs, fmt.Errorf("apns.enabled %q must be auto, on or off", c.APNs.Enabled))
	}
	if (c.APNs.KeyFile != "") != (c.APNs.KeyID != "") || (c.APNs.KeyFile != "") != (c.APNs.TeamID != "") {
		errs = append(errs, errors.New("apns token authentication needs apns.key_file, apns.key_id and apns.team_id together"))
	}
	if c.APNs.Concurrency < 1 || c.APNs.Concurrency > 10_000 {
		errs = append(errs, fmt.Errorf("apns.concurrency %d must be 1 to 10000", c.APNs.Concurrency))
	}
	if c.Relays.WalletUnionKey != "" && c.Relays.WalletUnionURL == "" {
		errs = append(errs, errors.New("relays.walletunion_key needs relays.walletunion_url (WalletUnion hands out its endpoint with the key)"))
	}
	switch c.SMS.Provider {
	case "log":
	case "twilio":
		if c.SMS.TwilioAccountSID == "" || c.SMS.TwilioAuthToken == "" || (c.SMS.TwilioFrom == "" && c.SMS.TwilioMessagingServiceSID == "") {
			errs = append(errs, errors.New("sms.provider twilio needs twilio_account_sid, LOYALPASS_TWILIO_AUTH_TOKEN and twilio_from or twilio_messaging_service_sid"))
		}
	case "smsru":
		if c.SMS.SMSRuAPIID == "" {
			errs = append(errs, errors.New("sms.provider smsru needs LOYALPASS_SMSRU_API_ID"))
		}
	case "smsc":
		if c.SMS.SMSCAPIKey == "" && (c.SMS.SMSCLogin == "" || c.SMS.SMSCPassword == "") {
			errs = append(errs, errors.New("sms.provider smsc needs LOYALPASS_SMSC_API_KEY or smsc_login and LOYALPASS_SMSC_PASSWORD"))
		}
	default:
		errs = append(errs, fmt.Errorf("sms.provider %q must be log, twilio, smsru or smsc", c.SMS.Provider))
	}
	if c.SMS.ShortURL != "" {
		if u, err := url.Parse(c.SMS.ShortURL); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			errs = append(errs, fmt.Errorf("sms.short_url %q must be an absolute http(s) URL", c.SMS.ShortURL))
		}
	}
	if _, err := c.OutboundAllowList(); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, c.Google.validate()...)
	errs = append(errs, c.FCM.validate()...)
	errs = append(errs, c.Wallet.validate()...)
	errs = append(errs, c.Koshelek.validate(c.Development())...)
	errs = append(errs, c.validateTrustedProxies()...)
	if c.AutomationIntervalSeconds < 1 {
		errs = append(errs, fmt.Errorf("automation_interval_seconds %d must be at least 1", c.AutomationIntervalSeconds))
	}
	if _, err := c.SMS.PriceList(); err != nil {
		errs = append(errs, err)
	}
	if c.InstanceLeaseSeconds < 3 {
		errs = append(errs, fmt.Errorf("instance_lease_seconds %d must be at least 3", c.InstanceLeaseSeconds))
	}
	if c.ExpiryIntervalSeconds < 1 {
		errs = append(errs, fmt.Errorf("expiry_interval_seconds %d must be at least 1", c.ExpiryIntervalSeconds))
	}
	if c.MaxBodyBytes < 1024 {
		errs = append(errs, fmt.Errorf("max_body_bytes %d is too small", c.MaxBodyBytes))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log_level %q must be debug, info, warn or error", c.LogLevel))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("log_format %q must be text or json", c.LogFormat))
	}
	return errors.Join(errs...)
}

// P12PasswordValue returns the PKCS#12 password from its file or the
// environment; a trailing newline in the file is not part of it.
func (p Pass) P12PasswordValue() (string, error) {
	if p.P12PasswordFile == "" {
		return p.P12Password, nil
	}
	b, err := os.ReadFile(p.P12PasswordFile)
	if err != nil {
		return "", fmt.Errorf("read PKCS#12 password file: %w", err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

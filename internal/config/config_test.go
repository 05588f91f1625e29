package config

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

func TestExampleFileLoadsToTheDefaults(t *testing.T) {
	cfg, err := Load("../../loyalpass.example.toml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg != Default() {
		t.Fatalf("example file differs from the defaults:\n%+v\n%+v", cfg, Default())
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestPrecedenceFileThenEnv(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.toml")
	os.WriteFile(path, []byte("addr = \":9000\"\npublic_url = \"https://a.example\"\n[pass]\nteam_id = \"FILE\"\n"), 0o600)
	cfg, err := Load(path, []string{"LOYALPASS_ADDR=:9100", "LOYALPASS_DEMO=false", "LOYALPASS_PASS_P12_PASSWORD=s3cret", "OTHER=x"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != ":9100" || cfg.PublicURL != "https://a.example" || cfg.Pass.TeamID != "FILE" || cfg.Demo || cfg.Pass.P12Password != "s3cret" {
		t.Fatalf("cfg = %+v", cfg)
	}
}

func TestLoadRefuses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.toml")
	os.WriteFile(path, []byte("adr = \":9000\"\n"), 0o600)
	if _, err := Load(path, nil); err == nil || !strings.Contains(err.Error(), "adr") {
		t.Fatalf("unknown key: %v", err)
	}
	os.WriteFile(path, []byte("[pass]\np12_password = \"x\"\n"), 0o600)
	if _, err := Load(path, nil); err == nil {
		t.Fatal("a password in the config file was accepted")
	}
	if _, err := Load("", []string{"LOYALPASS_DEMO=maybe"}); err == nil || !strings.Contains(err.Error(), "LOYALPASS_DEMO") {
		t.Fatalf("bad bool: %v", err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"relative public url", func(c *Config) { c.PublicURL = "localhost:8080" }, "public_url"},
		{"http with real certificate", func(c *Config) { c.Pass.CertFile, c.Pass.KeyFile = "a", "b" }, "https"},
		{"path in public url", func(c *Config) { c.PublicURL = "http://x.example/app" }, "no path"},
		{"cert without key", func(c *Config) { c.PublicURL, c.Pass.CertFile = "https://x.example", "a" }, "key_file"},
		{"cert and p12", func(c *Config) {
			c.PublicURL, c.Pass.CertFile, c.Pass.KeyFile, c.Pass.P12File = "https://x.example", "a", "b", "c"
		}, "not both"},
		{"bad log level", func(c *Config) { c.LogLevel = "loud" }, "log_level"},
		{"no devices per card", func(c *Config) { c.Wallet.MaxDevicesPerCard = 0 }, "wallet.max_devices_per_card"},
		{"no log rate", func(c *Config) { c.Wallet.LogPerMinute = 0 }, "wallet.log_per_minute"},
		{"no log retention", func(c *Config) { c.Wallet.LogRetentionDays = 0 }, "wallet.log_retention_days"},
		{"tiny log cap", func(c *Config) { c.Wallet.LogMaxRows = 5 }, "wallet.log_max_rows"},
		{"bad trusted proxy", func(c *Config) { c.TrustedProxies = "10.0.0.0/8, proxy.local" }, "trusted_proxies"},
		{"bad outbound allow-list", func(c *Config) { c.OutboundAllow = "127.0.0.0/8, localhost" }, "outbound_allow"},
		{"a price without a provider", func(c *Config) { c.SMS.Prices = "=4.50" }, "sms.prices"},
		{"a price in thousandths", func(c *Config) { c.SMS.Prices = "smsru=4.505" }, "sms.prices"},
		{"a price that is not a number", func(c *Config) { c.SMS.Prices = "smsru=four" }, "sms.prices"},
		{"no automation interval", func(c *Config) { c.AutomationIntervalSeconds = 0 }, "automation_interval_seconds"},
		{"no public url with real certificate", func(c *Config) { c.Pass.CertFile, c.Pass.KeyFile = "a", "b" }, "public_url must be set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Default()
			tt.change(&cfg)
			if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate = %v, want mention of %q", err, tt.want)
			}
		})
	}
}

func TestPriceList(t *testing.T) {
	prices, err := SMS{Prices: " smsru=4.50, smsc=3.9 ,twilio=8, log=0"}.PriceList()
	want := map[string]int64{"smsru": 450, "smsc": 390, "twilio": 800, "log": 0}
	if err != nil || len(prices) != len(want) {
		t.Fatalf("prices %v %v", prices, err)
	}
	for k, v := range want {
		if prices[k] != v {
			t.Errorf("%s = %d, want %d", k, prices[k], v)
		}
	}
	if empty, err := (SMS{}).PriceList(); err != nil || len(empty) != 0 {
		t.Fatalf("no prices: %v %v", empty, err)
	}
}

func TestOutboundAllow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.toml")
	os.WriteFile(path, []byte("outbound_allow = \"10.20.0.0/16\"\n"), 0o600)
	cfg, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := cfg.OutboundAllowList(); err != nil || len(p) != 1 || p[0].String() != "10.20.0.0/16" {
		t.Fatalf("from the file: %v %v", p, err)
	}
	cfg, err = Load(path, []string{"LOYALPASS_OUTBOUND_ALLOW=127.0.0.0/8, ::1"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := cfg.OutboundAllowList()
	if err != nil || len(p) != 2 || p[0].String() != "127.0.0.0/8" || p[1].String() != "::1/128" {
		t.Fatalf("from the environment: %v %v", p, err)
	}
	if p, err := Default().OutboundAllowList(); err != nil || len(p) != 0 {
		t.Fatalf("default allows %v (%v), want nothing", p, err)
	}
}

// TestExampleFileListsEveryKey holds loyalpass.example.toml to every key
// Load accepts, found by reflecting over the toml tags of Config: each is
// set (to its default) or shown commented out ("# key = …") in its
// section with its LOYALPASS_ variable, and the file shows no key that
// Load would refuse.
func TestExampleFileListsEveryKey(t *testing.T) {
	accepted := map[string]string{} // key → environment variable
	var walk func(prefix string, typ reflect.Type)
	walk = func(prefix string, typ reflect.Type) {
		for f := range typ.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
			if name == "-" || name == "" {
				continue
			}
			if f.Type.Kind() == reflect.Struct {
				walk(prefix+name+".", f.Type)
				continue
			}
			accepted[prefix+name] = EnvPrefix + f.Tag.Get("env")
		}
	}
	walk("", reflect.TypeFor[Config]())

	b, err := os.ReadFile("../../loyalpass.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	keyLine := regexp.MustCompile(`^#?\s*([a-z0-9_]+)\s*=`)
	listed := map[string]string{} // key → its lines
	section := ""
	for line := range strings.Lines(string(b)) {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") {
			section = strings.Trim(line, "[]") + "."
			continue
		}
		if m := keyLine.FindStringSubmatch(line); m != nil {
			listed[section+m[1]] += line + "\n"
		}
	}
	for key, env := range accepted {
		switch lines, ok := listed[key]; {
		case !ok:
			t.Errorf("loyalpass.example.toml does not list %s", key)
		case !regexp.MustCompile(regexp.QuoteMeta(env) + `\b`).MatchString(lines):
			t.Errorf("loyalpass.example.toml lists %s without its variable %s", key, env)
		}
	}
	for key := range listed {
		if _, ok := accepted[key]; !ok {
			t.Errorf("loyalpass.example.toml lists %s, which the config does not accept", key)
		}
	}
	if len(accepted) < 40 {
		t.Errorf("found %d keys by reflection; the walk missed some", len(accepted))
	}
}

func TestListenURL(t *testing.T) {
	tests := []struct {
		addr string
		port int
		want string
	}{
		{":8080", 8080, "http://localhost:8080"},
		{"127.0.0.1:18080", 18080, "http://127.0.0.1:18080"},
		{"127.0.0.1:0", 41234, "http://127.0.0.1:41234"}, // the port actually bound
		{"0.0.0.0:8080", 8080, "http://localhost:8080"},
		{"[::]:8080", 8080, "http://localhost:8080"},
		{"[::1]:9000", 9000, "http://[::1]:9000"},
		{"cards.lan:80", 80, "http://cards.lan:80"},
	}
	for _, tt := range tests {
		if got := ListenURL(tt.addr, tt.port); got != tt.want {
			t.Errorf("ListenURL(%q, %d) = %q, want %q", tt.addr, tt.port, got, tt.want)
		}
	}
}

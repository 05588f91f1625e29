package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGoogleAndFCMValidation(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	sa := write("sa.json", `{"type":"service_account","client_email":"a@p.iam.gserviceaccount.com","private_key":"-----BEGIN PRIVATE KEY-----\n…"}`)
	user := write("user.json", `{"type":"authorized_user","client_id":"x"}`)
	notJSON := write("key.p12", "\x30\x82binary")
	keys := write("keys.json", `{"keys":[]}`)

	tests := []struct {
		name   string
		change func(*Config)
		want   string // "" means valid
	}{
		{"google on", func(c *Config) {
			c.Google = Google{ServiceAccountFile: sa, IssuerID: "3388000000012345678", Origins: "https://a.example, https://b.example",
				CallbackKeysFile: keys}
		}, ""},
		{"issuer id missing", func(c *Config) { c.Google.ServiceAccountFile = sa }, "google.issuer_id is missing"},
		{"issuer id not numeric", func(c *Config) { c.Google = Google{ServiceAccountFile: sa, IssuerID: "issuer-1"} }, "numeric"},
		{"key file missing", func(c *Config) { c.Google.IssuerID = "1" }, "google.service_account_file is missing"},
		{"key file absent", func(c *Config) {
			c.Google = Google{ServiceAccountFile: filepath.Join(dir, "nope.json"), IssuerID: "1"}
		}, "no such file"},
		{"key not JSON", func(c *Config) { c.Google = Google{ServiceAccountFile: notJSON, IssuerID: "1"} }, "not JSON"},
		{"key not a service account", func(c *Config) { c.Google = Google{ServiceAccountFile: user, IssuerID: "1"} },
			`not a service account key (type "authorized_user")`},
		{"bad origin", func(c *Config) { c.Google = Google{ServiceAccountFile: sa, IssuerID: "1", Origins: "shop.example/x"} }, "google.origins"},
		{"callback keys absent", func(c *Config) {
			c.Google = Google{ServiceAccountFile: sa, IssuerID: "1", CallbackKeysFile: filepath.Join(dir, "k.json")}
		}, "pay.google.com/gp/m/issuer/keys"},
		{"callback keys without google", func(c *Config) { c.Google.CallbackKeysFile = keys }, "turn Google Wallet on"},
		{"fcm on", func(c *Config) { c.FCM = FCM{CredentialsFile: sa, ProjectID: "app", Endpoint: "http://127.0.0.1:1"} }, ""},
		{"fcm project missing", func(c *Config) { c.FCM.CredentialsFile = sa }, "fcm.project_id is missing"},
		{"fcm credentials missing", func(c *Config) { c.FCM.ProjectID = "app" }, "fcm.credentials_file is missing"},
		{"fcm credentials not a service account", func(c *Config) { c.FCM = FCM{CredentialsFile: user, ProjectID: "app"} }, "not a service account"},
		{"fcm bad endpoint", func(c *Config) { c.FCM = FCM{CredentialsFile: sa, ProjectID: "app", Endpoint: "fcm"} }, "fcm.endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Default()
			tt.change(&cfg)
			err := cfg.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate = %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Validate = %v, want mention of %q", err, tt.want)
			}
		})
	}
}

func TestGoogleFromEnvironment(t *testing.T) {
	cfg, err := Load("", []string{"LOYALPASS_GOOGLE_SERVICE_ACCOUNT_FILE=/k.json", "LOYALPASS_GOOGLE_ISSUER_ID=42",
		"LOYALPASS_GOOGLE_ORIGINS=https://a.example,https://b.example", "LOYALPASS_FCM_PROJECT_ID=app"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Google.ServiceAccountFile != "/k.json" || cfg.Google.IssuerID != "42" || cfg.FCM.ProjectID != "app" ||
		strings.Join(cfg.Google.OriginList(), " ") != "https://a.example https://b.example" {
		t.Fatalf("cfg = %+v %+v", cfg.Google, cfg.FCM)
	}
	if Default().Google.On() || Default().FCM.On() {
		t.Fatal("Google Wallet or FCM on by default")
	}
}

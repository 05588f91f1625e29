package google

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var testRSAKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048) // Google's service-account keys are RSA 2048
	if err != nil {
		panic(err)
	}
	return k
})

// serviceAccountJSON renders a key file shaped like the ones the Cloud
// console downloads (PKCS#8 PEM in private_key).
func serviceAccountJSON(t *testing.T, mutate func(map[string]any)) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(testRSAKey())
	if err != nil {
		t.Fatal(err)
	}
	f := map[string]any{
		"type":           "service_account",
		"project_id":     "loyalpass-test",
		"private_key_id": "0123456789abcdef0123456789abcdef01234567",
		"private_key":    string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email":   "wallet@loyalpass-test.iam.gserviceaccount.com",
		"client_id":      "100000000000000000001",
		"token_uri":      "https://oauth2.googleapis.com/token",
	}
	if mutate != nil {
		mutate(f)
	}
	b, _ := json.Marshal(f)
	return b
}

func TestSaveURL(t *testing.T) {
	sa, err := LoadServiceAccount(serviceAccountJSON(t, nil), testIssuerID)
	if err != nil {
		t.Fatal(err)
	}
	objectID, _ := testIssuer().ObjectID(testSerial)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	u, err := SaveURL(sa, Loyalty(objectID), nil, now)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("save link for a realistic object ID: %d characters", len(u))
	if len(u) >= MaxSaveURLLen {
		t.Errorf("save link is %d characters, limit %d", len(u), MaxSaveURLLen)
	}
	raw, ok := strings.CutPrefix(u, "https://pay.google.com/gp/v/save/")
	if !ok {
		t.Fatalf("link %q has the wrong prefix", u)
	}

	claims := jwt.MapClaims{}
	tok, err := jwt.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return &testRSAKey().PublicKey, nil },
		jwt.WithValidMethods([]string{"RS256"}))
	if err != nil || !tok.Valid {
		t.Fatalf("jwt does not verify with the service account's public key: %v", err)
	}
	if tok.Header["kid"] != "0123456789abcdef0123456789abcdef01234567" {
		t.Errorf("kid = %v", tok.Header["kid"])
	}
	want := `{"aud":"google","iat":1772366400,"iss":"wallet@loyalpass-test.iam.gserviceaccount.com",` +
		`"origins":[],"payload":{"loyaltyObjects":[{"id":"3388000000022141777.k7q2m4xw9zt5r3ybn6vc8dh2aj"}]},"typ":"savetowallet"}`
	if got, _ := json.Marshal(claims); string(got) != want {
		t.Errorf("claims\n got %s\nwant %s", got, want)
	}

	other, _ := rsa.GenerateKey(rand.Reader, 1024)
	if _, err := jwt.Parse(raw, func(*jwt.Token) (any, error) { return &other.PublicKey, nil }); err == nil {
		t.Error("jwt verifies with a foreign key")
	}
}

func TestSaveURLOrigins(t *testing.T) {
	sa, _ := LoadServiceAccount(serviceAccountJSON(t, nil), testIssuerID)
	u, err := SaveURL(sa, Loyalty(testIssuerID+".a", testIssuerID+".b"), []string{"https://cards.example.com"}, time.Unix(1, 0))
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.MapClaims{}
	if _, err := jwt.ParseWithClaims(strings.TrimPrefix(u, SaveURLPrefix), claims,
		func(*jwt.Token) (any, error) { return &testRSAKey().PublicKey, nil }); err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal([]any{claims["origins"], claims["payload"]})
	if want := `[["https://cards.example.com"],{"loyaltyObjects":[{"id":"3388000000022141777.a"},{"id":"3388000000022141777.b"}]}]`; string(got) != want {
		t.Errorf("got %s", got)
	}
}

func TestSaveURLRejects(t *testing.T) {
	sa, _ := LoadServiceAccount(serviceAccountJSON(t, nil), testIssuerID)
	now := time.Now()
	if _, err := SaveURL(sa, Loyalty("1234.card"), nil, now); !errors.Is(err, ErrInvalidID) {
		t.Errorf("foreign issuer: err = %v", err)
	}
	if _, err := SaveURL(sa, Loyalty(testIssuerID+".a b"), nil, now); !errors.Is(err, ErrInvalidID) {
		t.Errorf("bad suffix: err = %v", err)
	}
	if _, err := SaveURL(sa, nil, nil, now); err == nil {
		t.Error("no objects: no error")
	}
	if _, err := SaveURL(nil, Loyalty(testIssuerID+".a"), nil, now); err == nil {
		t.Error("no key: no error")
	}
	many := make([]string, 40)
	for i := range many {
		many[i] = testIssuerID + "." + testSerial
	}
	if _, err := SaveURL(sa, Loyalty(many...), nil, now); !errors.Is(err, ErrSaveURLTooLong) {
		t.Errorf("40 objects: err = %v, want ErrSaveURLTooLong", err)
	}
}

func TestLoadServiceAccountRejects(t *testing.T) {
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ecKey)
	tests := []struct {
		name, issuer, wantErr string
		mutate                func(map[string]any)
	}{
		{"wrong type", testIssuerID, `type is "authorized_user"`, func(f map[string]any) { f["type"] = "authorized_user" }},
		{"no email", testIssuerID, "client_email is missing", func(f map[string]any) { delete(f, "client_email") }},
		{"no key", testIssuerID, "private_key is missing", func(f map[string]any) { delete(f, "private_key") }},
		{"garbage key", testIssuerID, "not an RSA key in PEM", func(f map[string]any) {
			f["private_key"] = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
		}},
		{"EC key", testIssuerID, "not an RSA key in PEM", func(f map[string]any) {
			f["private_key"] = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER}))
		}},
		{"bad issuer", "acme", "not numeric", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadServiceAccount(serviceAccountJSON(t, tt.mutate), tt.issuer)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "BEGIN") {
				t.Errorf("error quotes the key: %v", err)
			}
		})
	}
	if _, err := LoadServiceAccount([]byte("{"), testIssuerID); err == nil || !strings.Contains(err.Error(), "not JSON") {
		t.Errorf("truncated file: err = %v", err)
	}
}

package gwallet

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"

	"google.golang.org/api/option"

	"github.com/loyalpass/loyalpass/push"
	"github.com/loyalpass/loyalpass/push/gwallet/gwallettest"
)

// TestServiceAccountAuth runs the production path: a service-account key
// file whose token_uri is the fake's, a JWT-bearer token exchange, and
// bearer tokens on every API call.
func TestServiceAccountAuth(t *testing.T) {
	srv := gwallettest.NewServer(t)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	const email = "wallet@loyalpass-test.iam.gserviceaccount.com"
	srv.RequireServiceAccount(email, &key.PublicKey)
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	keyFile, _ := json.Marshal(map[string]string{
		"type":           "service_account",
		"project_id":     "loyalpass-test",
		"private_key_id": "0123456789abcdef",
		"private_key":    string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email":   email,
		"client_id":      "100000000000000000001",
		"token_uri":      srv.TokenURL(),
	})

	ctx := context.Background()
	c, err := New(ctx, keyFile, option.WithEndpoint(srv.URL+"/"))
	if err != nil {
		t.Fatal(err)
	}
	if r := c.EnsureClass(ctx, class(t, program())); r.Outcome != push.Delivered {
		t.Fatalf("EnsureClass = %+v", r)
	}
	if r := c.EnsureObject(ctx, object(t, 0)); r.Outcome != push.Delivered {
		t.Fatalf("EnsureObject = %+v", r)
	}
	if n := srv.TokenExchanges(); n != 1 {
		t.Errorf("token exchanges = %d, want 1 (the token is cached)", n)
	}
	for _, r := range srv.Requests() {
		if got := r.Header.Get("Authorization"); got != "Bearer ya29.fake-1" {
			t.Errorf("%s %s: Authorization %q", r.Method, r.Path, got)
		}
	}

	anon, err := New(ctx, nil, option.WithEndpoint(srv.URL+"/"), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	if r := anon.EnsureClass(ctx, class(t, program())); r.Outcome != push.Failed || !strings.HasPrefix(r.Reason, "HTTP 401") {
		t.Errorf("unauthenticated EnsureClass = %+v, want Failed HTTP 401", r)
	}
}

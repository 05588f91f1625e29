package certs

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestTLSCertificate presents the material as a TLS client certificate to a
// server that verifies it against the dev root, as APNs does with Apple's.
func TestTLSCertificate(t *testing.T) {
	fx := fixtures(t)
	m := loadDev(t, writeChain(t, fx.a))

	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chains := r.TLS.VerifiedChains
		if len(chains) == 0 || len(chains[0]) != 3 {
			http.Error(w, "unverified", http.StatusForbidden)
			return
		}
		io.WriteString(w, chains[0][0].Subject.CommonName)
	}))
	roots := x509.NewCertPool()
	roots.AddCert(fx.a.root) // the intermediate must come from the client
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: roots}
	srv.StartTLS()
	defer srv.Close()

	client := srv.Client()
	client.Transport.(*http.Transport).TLSClientConfig.Certificates = []tls.Certificate{m.TLSCertificate()}
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(body) != "Pass Type ID: "+testPassTypeID {
		t.Fatalf("server saw %d %q", resp.StatusCode, body)
	}
}

func TestIsDevelopment(t *testing.T) {
	fx := fixtures(t)
	// An Apple-named intermediate (signed by our root, reusing keys) and a
	// leaf under it: the chain loads, but it is not development material.
	now := time.Now()
	appleTmpl := caTemplate(pkix.Name{
		CommonName:         "Apple Worldwide Developer Relations Certification Authority",
		OrganizationalUnit: []string{"G4"},
		Organization:       []string{"Apple Inc."},
		Country:            []string{"US"},
	}, now.Add(-time.Hour), now.Add(2*year), 0)
	apple, err := signCert(appleTmpl, fx.a.root, fx.b.keys.intermediate.Public(), fx.a.keys.root)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl, err := passTemplate(DevOptions{PassTypeID: testPassTypeID, TeamID: testTeamID}.withDefaults(), now.Add(-time.Hour), now.Add(year))
	if err != nil {
		t.Fatal(err)
	}
	appleLeaf, err := signCert(leafTmpl, apple, fx.a.keys.leaf.Public(), fx.b.keys.intermediate)
	if err != nil {
		t.Fatal(err)
	}
	appleFiles := writeChain(t, &devChain{root: fx.a.root, intermediate: apple, leaf: appleLeaf, keys: fx.a.keys})

	tests := []struct {
		name string
		m    *Material
		want bool
	}{
		{"generated chain", loadDev(t, writeChain(t, fx.a)), true},
		{"Apple-named chain", loadDev(t, appleFiles), false},
		{"intermediate that did not issue the leaf", &Material{Leaf: fx.a.leaf, Intermediate: fx.b.root}, false},
		{"no intermediate", &Material{Leaf: fx.a.leaf}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.m.IsDevelopment(); got != tt.want {
				t.Errorf("IsDevelopment = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestExpiresWithin(t *testing.T) {
	fx := fixtures(t)
	m := &Material{Leaf: fx.a.leaf}
	now := time.Now()
	tests := []struct {
		name string
		d    time.Duration
		want bool
	}{
		{"a month ahead", 30 * 24 * time.Hour, false},
		{"two years ahead", 2 * year, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := m.ExpiresWithin(now, tt.d); got != tt.want {
				t.Errorf("ExpiresWithin(%v) = %v, want %v", tt.d, got, tt.want)
			}
		})
	}
}

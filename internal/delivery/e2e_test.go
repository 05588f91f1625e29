package delivery_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"database/sql"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"archive/zip"
	"io"

	"github.com/loyalpass/loyalpass/certs"
	"github.com/loyalpass/loyalpass/certs/certstest"
	"github.com/loyalpass/loyalpass/internal/api"
	"github.com/loyalpass/loyalpass/internal/apikey"
	"github.com/loyalpass/loyalpass/internal/cardpass"
	"github.com/loyalpass/loyalpass/internal/delivery"
	"github.com/loyalpass/loyalpass/internal/netguard/netguardtest"
	"github.com/loyalpass/loyalpass/internal/store"
	"github.com/loyalpass/loyalpass/passes"
	"github.com/loyalpass/loyalpass/push/apns"
	"github.com/loyalpass/loyalpass/push/apns/apnstest"
	"github.com/loyalpass/loyalpass/push/relay"
	"github.com/loyalpass/loyalpass/push/relay/relaytest"
)

func devChain(t *testing.T) (certs.DevFiles, *certs.Material) { return certstest.Chain(t) }

// world is the server, a phone's view of it, the fakes and the worker.
type world struct {
	t      *testing.T
	store  *store.Store
	http   http.Handler
	apns   *apnstest.Server
	relays *relaytest.Server
	worker *delivery.Worker
	key    string
	files  certs.DevFiles
	typeID string
	clock  *clock
	db     *sql.DB // a second connection, for asserting on rows
}

// clock is the test's time, shared by the store and the worker.
type clock struct{ ns atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

func newWorld(t *testing.T, apnsTimeout time.Duration) *world {
	t.Helper()
	files, material := devChain(t)
	clk := &clock{}
	clk.ns.Store(time.Now().UnixNano())
	path := filepath.Join(t.TempDir(), "w.db")
	st, err := store.Open(context.Background(), store.Options{URL: "sqlite:" + path, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(); st.Close() })
	roots := x509.NewCertPool()
	roots.AddCert(material.Intermediate)
	rootPEM, _ := os.ReadFile(files.Root)
	roots.AppendCertsFromPEM(rootPEM)

	fakeAPNs := apnstest.NewServer(t, apnstest.WithClientCAs(roots))
	cert := material.TLSCertificate()
	apnsClient, err := apns.New(apns.Options{Certificate: &cert, Topic: material.PassTypeID, Host: fakeAPNs.URL,
		RootCAs: fakeAPNs.CertPool(), Timeout: apnsTimeout})
	if err != nil {
		t.Fatal(err)
	}
	fakeRelays := relaytest.NewServer(t)
	relays, err := relay.New(relay.Options{Vendors: fakeRelays.Config(), Outbound: netguardtest.Loopback()})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv := api.New(api.Options{Stores: api.StoresOf(st), PublicURL: "https://cards.example.com", PassTypeID: material.PassTypeID, Log: log,
		Outbound: netguardtest.Loopback(), // PassWallet devices register the fake relay's loopback URL
		Passes:   cardpass.New(cardpass.StoreOf(st), passes.NewRenderer(material, "https://cards.example.com/wallet"), nil)})
	w := &world{t: t, store: st, http: srv.Handler(), apns: fakeAPNs, relays: fakeRelays, files: files,
		typeID: material.PassTypeID, clock: clk, db: db}
	w.worker = delivery.New(delivery.Options{Store: delivery.StoreOf(st), Apple: apnsClient, Relays: relays, PassTypeID: material.PassTypeID,
		Log: log, MaxAttempts: 3, Backoff: func(int) time.Duration { return time.Minute },
		Now: clk.Now})

	ctx := context.Background()
	m, _, _ := st.Merchants().EnsureMerchant(ctx, "shop", "RU")
	k := apikey.New()
	if err := st.Merchants().CreateAPIKey(ctx, store.APIKey{ID: k.ID, MerchantID: m.ID, SecretHash: k.Hash()}); err != nil {
		t.Fatal(err)
	}
	w.key = k.String()
	return w
}

type testLog struct{ t *testing.T }

func (l testLog) Write(b []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

func (w *world) do(method, path string, header map[string]string, body string) *httptest.ResponseRecorder {
	w.t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	w.http.ServeHTTP(rec, req)
	return rec
}

func (w *world) merchant(method, path, body string, idem string) map[string]any {
	w.t.Helper()
	h := map[string]string{"Authorization": "Bearer " + w.key, "Content-Type": "application/json"}
	if idem != "" {
		h["Idempotency-Key"] = idem
	}
	rec := w.do(method, path, h, body)
	if rec.Code >= 300 {
		w.t.Fatalf("%s %s = %d %s", method, path, rec.Code, rec.Body.String())
	}
	var out map[string]any
	json.Unmarshal(rec.Body.Bytes(), &out)
	return out
}

// issue makes a card and returns its serial and authentication token (as
// the phone reads it from pass.json).
func (w *world) issue(phone string) (serial, token string) {
	w.t.Helper()
	prog := w.merchant("POST", "/api/v1/programs", `{"name":"Кофейня","earn_rate_bp":1000}`, "")["id"].(string)
	serial = w.merchant("POST", "/api/v1/programs/"+prog+"/cards", `{"phone":"`+phone+`"}`, "")["serial_number"].(string)
	rec := w.do("GET", "/api/v1/cards/"+serial+"/pass.pkpass", map[string]string{"Authorization": "Bearer " + w.key}, "")
	pass := passJSON(w.t, rec.Body.Bytes())
	return serial, pass["authenticationToken"].(string)
}

func (w *world) earn(serial, idem string, amount string) {
	w.t.Helper()
	w.merchant("POST", "/api/v1/cards/"+serial+"/transactions", `{"kind":"earn","purchase_amount":`+amount+`}`, idem)
}

// drain runs the worker until the outbox has nothing due.
func (w *world) drain() {
	w.t.Helper()
	for range 20 {
		n, err := w.worker.RunOnce(context.Background())
		if err != nil {
			w.t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
	w.t.Fatal("outbox never drained")
}

func passJSON(t *testing.T, pkpass []byte) map[string]any {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(pkpass), int64(len(pkpass)))
	if err != nil {
		t.Fatalf("not a pkpass: %v", err)
	}
	for _, f := range zr.File {
		if f.Name == "pass.json" {
			rc, _ := f.Open()
			b, _ := io.ReadAll(rc)
			rc.Close()
			var m map[string]any
			json.Unmarshal(b, &m)
			return m
		}
	}
	t.Fatal("no pass.json")
	return nil
}

// verifyWithOpenSSL checks a package's signature against the dev root.
func verifyWithOpenSSL(t *testing.T, pkpass []byte, root string) {
	t.Helper()
	dir := t.TempDir()
	zr, _ := zip.NewReader(bytes.NewReader(pkpass), int64(len(pkpass)))
	for _, f := range zr.File {
		if f.Name == "manifest.json" || f.Name == "signature" {
			rc, _ := f.Open()
			b, _ := io.ReadAll(rc)
			rc.Close()
			os.WriteFile(filepath.Join(dir, f.Name), b, 0o600)
		}
	}
	out, err := exec.Command("openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", filepath.Join(dir, "signature"),
		"-content", filepath.Join(dir, "manifest.json"), "-CAfile", root, "-purpose", "any", "-out", os.DevNull).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl cms -verify: %v\n%s", err, out)
	}
}

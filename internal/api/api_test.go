package api_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loyalpass/loyalpass/certs"
	"github.com/loyalpass/loyalpass/certs/certstest"
	"github.com/loyalpass/loyalpass/internal/api"
	"github.com/loyalpass/loyalpass/internal/apikey"
	"github.com/loyalpass/loyalpass/internal/cardpass"
	"github.com/loyalpass/loyalpass/internal/store"
	"github.com/loyalpass/loyalpass/passes"
)

func devChain(t *testing.T) (certs.DevFiles, *certs.Material) { return certstest.Chain(t) }

// testServer is an API server on a fresh database with real signing.
type testServer struct {
	t     *testing.T
	store *store.Store
	http  http.Handler
	roots certs.DevFiles
	db    *sql.DB // a second connection, for asserting on rows
}

// newTestServer builds the server; tweaks may change its options first.
func newTestServer(t *testing.T, tweaks ...func(*api.Options)) *testServer {
	t.Helper()
	files, material := devChain(t)
	path := filepath.Join(t.TempDir(), "api.db")
	st, err := store.Open(context.Background(), store.Options{URL: "sqlite:" + path})
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(); st.Close() })
	opts := api.Options{
		Stores:     api.StoresOf(st),
		Passes:     cardpass.New(cardpass.StoreOf(st), passes.NewRenderer(material, "https://cards.example.com/wallet"), nil),
		PublicURL:  "https://cards.example.com",
		FCM:        true,
		MaxBody:    4096,
		PassTypeID: material.PassTypeID,
		SMS:        api.SMSOptions{Providers: []string{"log"}, DefaultProvider: "log"},
		Log:        slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Koshelek:   api.KoshelekOptions{Box: testBox(t)},
	}
	for _, tweak := range tweaks {
		tweak(&opts)
	}
	srv := api.New(opts)
	return &testServer{t: t, store: st, http: srv.Handler(), roots: files, db: db}
}

// merchant creates a merchant with an API key and returns the key.
func (ts *testServer) merchant(name string) string {
	ts.t.Helper()
	ctx := context.Background()
	m, _, err := ts.store.Merchants().EnsureMerchant(ctx, name, "RU")
	if err != nil {
		ts.t.Fatal(err)
	}
	k := apikey.New()
	if err := ts.store.Merchants().CreateAPIKey(ctx, store.APIKey{ID: k.ID, MerchantID: m.ID, SecretHash: k.Hash()}); err != nil {
		ts.t.Fatal(err)
	}
	return k.String()
}

type response struct {
	*httptest.ResponseRecorder
}

// json decodes the response body into a generic map.
func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body.Bytes(), &m); err != nil {
		t.Fatalf("response is not JSON: %v\n%s", err, r.Body.String())
	}
	return m
}

// errorOf returns the code and field of a JSON error answer.
func (r response) errorOf(t *testing.T) (code, field string) {
	t.Helper()
	e, ok := r.json(t)["error"].(map[string]any)
	if !ok {
		t.Fatalf("no error object in %s", r.Body.String())
	}
	if msg, _ := e["message"].(string); msg == "" {
		t.Fatalf("error without a message: %s", r.Body.String())
	}
	code, _ = e["code"].(string)
	field, _ = e["field"].(string)
	return code, field
}

// do sends a request; body may be nil, a string (sent raw) or a value
// (sent as JSON).
func (ts *testServer) do(method, path, key string, body any) response {
	ts.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = bytes.NewBufferString(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			ts.t.Fatal(err)
		}
		r = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, r)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	ts.http.ServeHTTP(rec, req)
	checkResponse(ts.t, req, rec)
	return response{rec}
}

// mustDo is do that fails the test unless the status is want.
func (ts *testServer) mustDo(want int, method, path, key string, body any) map[string]any {
	ts.t.Helper()
	res := ts.do(method, path, key, body)
	if res.Code != want {
		ts.t.Fatalf("%s %s = %d, want %d\n%s", method, path, res.Code, want, res.Body.String())
	}
	return res.json(ts.t)
}

func (ts *testServer) program(key string) string {
	ts.t.Helper()
	p := ts.mustDo(201, "POST", "/api/v1/programs", key, map[string]any{"name": "Кофейня", "welcome_bonus": 100})
	return p["id"].(string)
}

func (ts *testServer) count(table string) int {
	ts.t.Helper()
	var n int
	if err := ts.db.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		ts.t.Fatal(err)
	}
	return n
}

// testLog sends server logs to the test's log, shown when a test fails.
type testLog struct{ t *testing.T }

func (l testLog) Write(b []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

func rootPool(t *testing.T, path string) *x509.CertPool {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		t.Fatalf("%s holds no certificate", path)
	}
	return pool
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

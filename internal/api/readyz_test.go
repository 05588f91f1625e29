package api_test

import (
	"context"
	"crypto/x509"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/api"
	"github.com/loyalpass/loyalpass/internal/store"
)

var _ api.SchemaStore = (*store.Store)(nil)

// behindStore is a database that answers but misses the last migration.
type behindStore struct{ *store.Store }

func (b behindStore) SchemaVersion(ctx context.Context) (int, error) {
	v, err := b.Store.SchemaVersion(ctx)
	return v - 1, err
}

func TestReadyz(t *testing.T) {
	_, material := devChain(t)
	leaf := func() *x509.Certificate { return material.Leaf }
	closed, err := store.Open(context.Background(), store.Options{URL: "sqlite:" + filepath.Join(t.TempDir(), "closed.db")})
	if err != nil {
		t.Fatal(err)
	}
	closed.Close()
	tests := []struct {
		name       string
		readiness  func(ts *store.Store) api.Readiness
		ready      func() bool
		wantStatus int
		wantFailed []string
	}{
		{"all good", func(*store.Store) api.Readiness { return api.Readiness{Certificate: leaf} }, nil, 200, nil},
		{"closed database", func(*store.Store) api.Readiness { return api.Readiness{Store: closed, Certificate: leaf} }, nil, 503, []string{"database"}},
		{"migrations behind", func(st *store.Store) api.Readiness { return api.Readiness{Store: behindStore{st}, Certificate: leaf} }, nil, 503, []string{"database"}},
		{"certificate expires in 3 days", func(*store.Store) api.Readiness {
			return api.Readiness{Certificate: leaf, Now: func() time.Time { return material.Leaf.NotAfter.Add(-72 * time.Hour) }}
		}, nil, 503, []string{"certificate"}},
		{"certificate expires in 8 days", func(*store.Store) api.Readiness {
			return api.Readiness{Certificate: leaf, Now: func() time.Time { return material.Leaf.NotAfter.Add(-8 * 24 * time.Hour) }}
		}, nil, 200, nil},
		{"certificate expired", func(*store.Store) api.Readiness {
			return api.Readiness{Certificate: leaf, Now: func() time.Time { return material.Leaf.NotAfter.Add(time.Hour) }}
		}, nil, 503, []string{"certificate"}},
		{"no certificate", func(*store.Store) api.Readiness {
			return api.Readiness{Certificate: func() *x509.Certificate { return nil }}
		}, nil, 503, []string{"certificate"}},
		{"everything wrong", func(*store.Store) api.Readiness {
			return api.Readiness{Store: closed, Certificate: leaf, Now: func() time.Time { return material.Leaf.NotAfter }}
		}, func() bool { return false }, 503, []string{"startup", "database", "certificate"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, func(o *api.Options) {
				o.Readiness = tt.readiness(o.Stores.Schema.(*store.Store))
				o.Ready = tt.ready
			})
			res := ts.do("GET", "/readyz", "", nil)
			if res.Code != tt.wantStatus {
				t.Fatalf("GET /readyz = %d, want %d\n%s", res.Code, tt.wantStatus, res.Body.String())
			}
			body := res.json(t)
			var failed []string
			if list, ok := body["failed"].([]any); ok {
				for _, f := range list {
					failed = append(failed, f.(string))
				}
			}
			if !slices.Equal(failed, tt.wantFailed) {
				t.Errorf("failed = %v, want %v\n%s", failed, tt.wantFailed, res.Body.String())
			}
			checks, _ := body["checks"].(map[string]any)
			for _, name := range []string{"startup", "database", "certificate"} {
				msg, _ := checks[name].(string)
				if slices.Contains(tt.wantFailed, name) == (msg == "ok") || msg == "" {
					t.Errorf("check %s = %q\n%s", name, msg, res.Body.String())
				}
			}
			// The liveness probe does not look at the database or the certificate.
			if tt.ready == nil {
				if res := ts.do("GET", "/healthz", "", nil); res.Code != 200 {
					t.Errorf("GET /healthz = %d, want 200", res.Code)
				}
			}
		})
	}
}

// A server whose readiness has no database to check is not ready: an
// unwired dependency fails the probe instead of being skipped.
func TestReadyzWithoutDatabaseFails(t *testing.T) {
	_, material := devChain(t)
	ts := newTestServer(t, func(o *api.Options) {
		o.Stores.Schema = nil
		o.Readiness = api.Readiness{Certificate: func() *x509.Certificate { return material.Leaf }}
	})
	res := ts.do("GET", "/readyz", "", nil)
	if res.Code != 503 {
		t.Fatalf("GET /readyz = %d, want 503\n%s", res.Code, res.Body.String())
	}
	checks, _ := res.json(t)["checks"].(map[string]any)
	if msg, _ := checks["database"].(string); msg != "no database is wired to the readiness check" {
		t.Errorf("database check = %q, want the unwired database named\n%s", msg, res.Body.String())
	}
}

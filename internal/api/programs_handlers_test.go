package api

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/store"
	"github.com/loyalpass/loyalpass/passes"
)

// memPrograms is programStore in memory: what the program handlers need,
// and nothing of a database.
type memPrograms struct {
	mu   sync.Mutex
	byID map[string]loyalty.Program
}

var _ programStore = (*memPrograms)(nil)

func (m *memPrograms) CreateProgram(_ context.Context, p *loyalty.Program) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	p.ID, p.Version = fmt.Sprintf("prg_%03d", len(m.byID)+1), 1
	p.CreatedAt = time.Date(2026, 1, 1, 0, 0, len(m.byID), 0, time.UTC)
	p.UpdatedAt = p.CreatedAt
	m.byID[p.ID] = *p
	return nil
}

func (m *memPrograms) Program(_ context.Context, merchantID, id string) (loyalty.Program, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.byID[id]
	if !ok || p.MerchantID != merchantID {
		return loyalty.Program{}, store.ErrNotFound
	}
	return p, nil
}

// Programs lists in creation order after the cursor, as the store does.
func (m *memPrograms) Programs(_ context.Context, merchantID string, after store.Cursor, limit int) ([]loyalty.Program, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	all := slices.SortedFunc(maps.Values(m.byID), func(a, b loyalty.Program) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
	})
	var out []loyalty.Program
	for _, p := range all {
		if p.MerchantID == merchantID && len(out) < limit &&
			(p.CreatedAt.After(after.Time) || p.CreatedAt.Equal(after.Time) && p.ID > after.ID) {
			out = append(out, p)
		}
	}
	return out, nil
}

func (m *memPrograms) UpdateProgram(ctx context.Context, merchantID, id string, change func(*loyalty.Program) error) (loyalty.Program, error) {
	p, err := m.Program(ctx, merchantID, id)
	if err != nil {
		return p, err
	}
	if err := change(&p); err != nil {
		return loyalty.Program{}, err
	}
	p.Version++
	m.mu.Lock()
	defer m.mu.Unlock()
	m.byID[id] = p
	return p, nil
}

func (m *memPrograms) SetProgramImages(ctx context.Context, merchantID, programID, kind string, files map[string][]byte) error {
	p, err := m.Program(ctx, merchantID, programID)
	if err != nil {
		return err
	}
	p.CustomImages = slices.DeleteFunc(slices.Clone(p.CustomImages), func(k string) bool { return k == kind })
	if files != nil {
		p.CustomImages = append(p.CustomImages, kind)
	}
	p.Version++
	m.mu.Lock()
	defer m.mu.Unlock()
	m.byID[programID] = p
	return nil
}

func TestProgramHandlersOnAnInMemoryStore(t *testing.T) {
	programs := &memPrograms{byID: map[string]loyalty.Program{}}
	rig := newHandlerRig(t, func(b base, v1 gin.IRouter) {
		(&programHandlers{base: b, store: programs, images: passes.NewImageScaler(0)}).routes(v1)
	})
	alice, bob := rig.merchant("mrc_alice"), rig.merchant("mrc_bob")

	created := rig.mustDo(201, "POST", "/api/v1/programs", alice, `{"name":"Кофейня","welcome_bonus":100}`)
	id, _ := created["id"].(string)
	stored, ok := programs.byID[id]
	if !ok || stored.MerchantID != "mrc_alice" || stored.Name != "Кофейня" || stored.WelcomeBonus != 100 {
		t.Fatalf("store holds %+v under %q, want alice's Кофейня with bonus 100", stored, id)
	}
	// The create fills in the defaults before the store sees the program.
	if stored.EarnRateBP != 500 || stored.BarcodeFormat != passes.BarcodeQR || stored.LogoText != "Кофейня" ||
		created["earn_rate_bp"] != 500.0 || created["version"] != 1.0 {
		t.Fatalf("defaults: stored %+v, answered %v", stored, created)
	}

	got := rig.mustDo(200, "GET", "/api/v1/programs/"+id, alice, "")
	if got["id"] != id || got["name"] != "Кофейня" {
		t.Fatalf("get = %v", got)
	}

	updated := rig.mustDo(200, "PATCH", "/api/v1/programs/"+id, alice, `{"earn_rate_bp":700}`)
	if updated["earn_rate_bp"] != 700.0 || updated["welcome_bonus"] != 100.0 || updated["version"] != 2.0 {
		t.Fatalf("an update changes what it names and raises the version: %v", updated)
	}

	t.Run("list pages in creation order", func(t *testing.T) {
		second := rig.mustDo(201, "POST", "/api/v1/programs", alice, `{"name":"Пекарня"}`)["id"]
		page := rig.mustDo(200, "GET", "/api/v1/programs?limit=1", alice, "")
		list, _ := page["programs"].([]any)
		cursor, _ := page["next_cursor"].(string)
		if len(list) != 1 || list[0].(map[string]any)["id"] != id || cursor == "" {
			t.Fatalf("first page = %v", page)
		}
		page = rig.mustDo(200, "GET", "/api/v1/programs?limit=1&cursor="+cursor, alice, "")
		if list, _ = page["programs"].([]any); len(list) != 1 || list[0].(map[string]any)["id"] != second {
			t.Fatalf("second page = %v", page)
		}
		page = rig.mustDo(200, "GET", "/api/v1/programs?limit=1&cursor="+page["next_cursor"].(string), alice, "")
		if list, _ = page["programs"].([]any); len(list) != 0 || page["next_cursor"] != "" {
			t.Fatalf("past the end = %v", page)
		}
	})

	t.Run("another merchant sees none of it", func(t *testing.T) {
		before := programs.byID[id]
		for _, req := range [][3]string{
			{"GET", "/api/v1/programs/" + id, ""},
			{"PATCH", "/api/v1/programs/" + id, `{"name":"Захват"}`},
			{"DELETE", "/api/v1/programs/" + id + "/images/logo", ""},
		} {
			status, out := rig.do(req[0], req[1], bob, req[2])
			if code, _ := errorOf(out); status != 404 || code != "not_found" {
				t.Errorf("bob: %s %s = %d %v, want 404 not_found", req[0], req[1], status, out)
			}
		}
		if list := rig.mustDo(200, "GET", "/api/v1/programs", bob, "")["programs"].([]any); len(list) != 0 {
			t.Errorf("bob lists %v", list)
		}
		if after := programs.byID[id]; after.Name != before.Name || after.Version != before.Version {
			t.Errorf("bob's requests changed alice's program: %+v → %+v", before, after)
		}
	})

	t.Run("refusals", func(t *testing.T) {
		tests := []struct {
			name, method, path, key, body string
			status                        int
			code, field                   string
		}{
			{"no key", "GET", "/api/v1/programs", "", "", 401, "unauthorized", ""},
			{"unknown program", "GET", "/api/v1/programs/prg_nope", alice, "", 404, "not_found", ""},
			{"update unknown program", "PATCH", "/api/v1/programs/prg_nope", alice, `{"name":"x"}`, 404, "not_found", ""},
			{"unknown image kind", "DELETE", "/api/v1/programs/" + id + "/images/banner", alice, "", 404, "not_found", ""},
			{"rate out of range", "POST", "/api/v1/programs", alice, `{"name":"x","earn_rate_bp":20000}`, 422, "invalid_field", "earn_rate_bp"},
			{"update out of range", "PATCH", "/api/v1/programs/" + id, alice, `{"design":{"background_color":"red"}}`, 422, "invalid_field", "design.background_color"},
			{"no name", "POST", "/api/v1/programs", alice, `{"welcome_bonus":5}`, 422, "invalid_field", "name"},
			{"bad cursor", "GET", "/api/v1/programs?cursor=zzz", alice, "", 400, "invalid_query", "cursor"},
			// Unknown fields are named by their path, found by exact name.
			{"unknown nested field", "POST", "/api/v1/programs", alice, `{"name":"x","design":{"colour":"#000000"}}`, 400, "unknown_field", "design.colour"},
			{"field in the wrong case", "POST", "/api/v1/programs", alice, `{"Name":"x"}`, 400, "unknown_field", "Name"},
			{"unknown field in a tier", "POST", "/api/v1/programs", alice, `{"name":"x","tiers":[{"code":"a","threshold":0,"nmae":"A"}]}`, 400, "unknown_field", "tiers[0].nmae"},
			{"unknown field before more data", "POST", "/api/v1/programs", alice, `{"name":"x","nmae":"y"} {}`, 400, "unknown_field", "nmae"},
			{"null", "PATCH", "/api/v1/programs/" + id, alice, `{"terms":null}`, 400, "wrong_type", "terms"},
			{"wrong type", "POST", "/api/v1/programs", alice, `{"name":7}`, 400, "wrong_type", "name"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := maps.Clone(programs.byID)
				status, out := rig.do(tt.method, tt.path, tt.key, tt.body)
				if code, field := errorOf(out); status != tt.status || code != tt.code || field != tt.field {
					t.Fatalf("= %d %s/%s, want %d %s/%s: %v", status, code, field, tt.status, tt.code, tt.field, out)
				}
				if !maps.EqualFunc(before, programs.byID, func(a, b loyalty.Program) bool { return a.Version == b.Version }) {
					t.Fatalf("a refused request changed the store")
				}
			})
		}
	})
}

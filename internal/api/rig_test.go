package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/apikey"
	"github.com/loyalpass/loyalpass/internal/store"
)

// memKeys is keyStore in memory.
type memKeys map[string]store.APIKey

func (m memKeys) APIKey(_ context.Context, id string) (store.APIKey, error) {
	k, ok := m[id]
	if !ok {
		return store.APIKey{}, store.ErrNotFound
	}
	return k, nil
}

// handlerRig is one handler group's routes mounted as Server.Handler
// mounts them (behind authenticate, errors through the one renderer), on
// in-memory doubles of their stores.
type handlerRig struct {
	t    *testing.T
	http http.Handler
	keys memKeys
}

func newHandlerRig(t *testing.T, mount func(b base, v1 gin.IRouter)) *handlerRig {
	rig := &handlerRig{t: t, keys: memKeys{}}
	b := base{log: slog.New(slog.DiscardHandler), maxBody: 4096}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.NoRoute(b.noRoute)
	mount(b, r.Group("/api/v1", b.wrap(authenticate(rig.keys))))
	rig.http = r
	return rig
}

// merchant makes an API key for merchantID.
func (rig *handlerRig) merchant(merchantID string) string {
	k := apikey.New()
	rig.keys[k.ID] = store.APIKey{ID: k.ID, MerchantID: merchantID, SecretHash: k.Hash()}
	return k.String()
}

// do sends body (raw JSON, "" for none) and returns the status and the
// decoded answer (nil for an empty body).
func (rig *handlerRig) do(method, path, key, body string) (int, map[string]any) {
	rig.t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	rig.http.ServeHTTP(rec, req)
	if rec.Body.Len() == 0 {
		return rec.Code, nil
	}
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		rig.t.Fatalf("%s %s: answer is not JSON: %v\n%s", method, path, err, rec.Body.String())
	}
	return rec.Code, out
}

func (rig *handlerRig) mustDo(want int, method, path, key, body string) map[string]any {
	rig.t.Helper()
	status, out := rig.do(method, path, key, body)
	if status != want {
		rig.t.Fatalf("%s %s = %d, want %d: %v", method, path, status, want, out)
	}
	return out
}

func errorOf(out map[string]any) (code, field string) {
	e, _ := out["error"].(map[string]any)
	code, _ = e["code"].(string)
	field, _ = e["field"].(string)
	return code, field
}

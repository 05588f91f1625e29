package api

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

// TestAsMerchant: a request made in-process under AsMerchant reaches the
// handlers as that merchant without a key, and sees only its data; the
// same request without it, or with an empty merchant, is refused.
func TestAsMerchant(t *testing.T) {
	progs := &memPrograms{byID: map[string]loyalty.Program{}}
	rig := newHandlerRig(t, func(b base, v1 gin.IRouter) {
		(&programHandlers{base: b, store: progs}).routes(v1)
	})
	created := rig.mustDo(http.StatusCreated, "POST", "/api/v1/programs", rig.merchant("mer_a"), `{"name":"A"}`)
	id := created["id"].(string)

	get := func(merchant string, in bool) int {
		req := httptest.NewRequest("GET", "/api/v1/programs/"+id, nil)
		if in {
			req = req.WithContext(AsMerchant(req.Context(), merchant))
		}
		rec := httptest.NewRecorder()
		rig.http.ServeHTTP(rec, req)
		return rec.Code
	}
	for _, tt := range []struct {
		name     string
		merchant string
		in       bool
		want     int
	}{
		{"its merchant", "mer_a", true, http.StatusOK},
		{"another merchant", "mer_b", true, http.StatusNotFound},
		{"no merchant", "", true, http.StatusUnauthorized},
		{"from the network", "mer_a", false, http.StatusUnauthorized},
	} {
		if got := get(tt.merchant, tt.in); got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
	}
}

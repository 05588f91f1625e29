package api_test

import (
	"context"
	"errors"
	"mime"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/api"
)

// spec is the parsed OpenAPI description, loaded once per test binary.
var spec struct {
	once   sync.Once
	doc    *openapi3.T
	router routers.Router
	err    error
}

func openAPI(t *testing.T) (*openapi3.T, routers.Router) {
	t.Helper()
	spec.once.Do(func() {
		loader := openapi3.NewLoader()
		spec.doc, spec.err = loader.LoadFromData(api.OpenAPI())
		if spec.err == nil {
			spec.err = spec.doc.Validate(loader.Context)
		}
		if spec.err == nil {
			spec.router, spec.err = gorillamux.NewRouter(spec.doc)
		}
	})
	if spec.err != nil {
		t.Fatalf("openapi.json: %v", spec.err)
	}
	return spec.doc, spec.router
}

// checkResponse validates an answer to an /api/v1 request against the
// description. Routes the description lacks are left to
// TestOpenAPICoversEveryRoute.
func checkResponse(t *testing.T, req *http.Request, rec *httptest.ResponseRecorder) {
	t.Helper()
	if !strings.HasPrefix(req.URL.Path, "/api/v1/") {
		return
	}
	if err := responseProblem(t, req, rec); err != nil && !errors.Is(err, routers.ErrPathNotFound) &&
		!errors.Is(err, routers.ErrMethodNotAllowed) {
		t.Errorf("%s %s = %d does not match openapi.json: %v\n%s", req.Method, req.URL.Path, rec.Code, err, rec.Body.String())
	}
}

func responseProblem(t *testing.T, req *http.Request, rec *httptest.ResponseRecorder) error {
	t.Helper()
	_, router := openAPI(t)
	route, params, err := router.FindRoute(req)
	if err != nil {
		return err
	}
	opts := &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}
	if ct, _, _ := mime.ParseMediaType(rec.Header().Get("Content-Type")); ct != "application/json" || rec.Body.Len() == 0 {
		opts.ExcludeResponseBody = true
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 rec.Code, Header: rec.Header(), Options: opts,
	}
	in.SetBodyBytes(rec.Body.Bytes())
	return openapi3filter.ValidateResponse(context.Background(), in)
}

// TestResponseValidationBites makes sure the validation in ts.do would
// catch an answer that breaks the description.
func TestResponseValidationBites(t *testing.T) {
	tests := []struct {
		name, method, path, body string
		status                   int
		wantErr                  bool
	}{
		{"good list", "GET", "/api/v1/programs", `{"programs":[],"next_cursor":""}`, 200, false},
		{"wrong type", "GET", "/api/v1/programs", `{"programs":"none","next_cursor":""}`, 200, true},
		{"missing field", "GET", "/api/v1/cards", `{"next_cursor":""}`, 200, true},
		{"good error", "GET", "/api/v1/cards/abc", `{"error":{"code":"not_found","message":"card not found"}}`, 404, false},
		{"bad error", "GET", "/api/v1/cards/abc", `{"error":"not found"}`, 404, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, nil)
			rec := httptest.NewRecorder()
			rec.Header().Set("Content-Type", "application/json; charset=utf-8")
			rec.WriteHeader(tt.status)
			rec.WriteString(tt.body)
			if err := responseProblem(t, req, rec); (err != nil) != tt.wantErr {
				t.Fatalf("validation error %v, want error: %v", err, tt.wantErr)
			}
		})
	}
}

var ginParam = regexp.MustCompile(`:([^/]+)`)

// TestOpenAPICoversEveryRoute holds the routes Gin serves under /api/v1
// and the operations of the description to each other, both ways.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	doc, _ := openAPI(t)
	ts := newTestServer(t)
	var served, described []string
	for _, r := range ts.http.(*gin.Engine).Routes() {
		if path, ok := strings.CutPrefix(r.Path, "/api/v1"); ok {
			served = append(served, r.Method+" "+ginParam.ReplaceAllString(path, "{$1}"))
		}
	}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			described = append(described, method+" "+path)
		}
	}
	for _, r := range served {
		if !slices.Contains(described, r) {
			t.Errorf("route %s is not in openapi.json", r)
		}
	}
	for _, d := range described {
		if !slices.Contains(served, d) {
			t.Errorf("openapi.json describes %s, which is not served", d)
		}
	}
	if len(served) < 20 {
		t.Fatalf("only %d routes under /api/v1: %v", len(served), served)
	}
}

func TestOpenAPIIsServed(t *testing.T) {
	ts := newTestServer(t)
	res := ts.do("GET", "/api/openapi.json", "", nil)
	if res.Code != 200 || res.Body.String() != string(api.OpenAPI()) {
		t.Fatalf("GET /api/openapi.json = %d, %d bytes", res.Code, res.Body.Len())
	}
	if v, _ := res.json(t)["openapi"].(string); v != "3.1.0" {
		t.Fatalf("openapi = %q, want 3.1.0", v)
	}
}

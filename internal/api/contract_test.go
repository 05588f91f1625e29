package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"maps"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/loyalpass/loyalpass/internal/api"
)

// TestContract sends every operation requests generated from
// openapi.json (contractgen_test.go) and holds the server to it: a
// request the description allows is never refused for a reason the
// description does not state, and one it forbids is never accepted.
func TestContract(t *testing.T) {
	doc, _ := openAPI(t)
	problems, sent := contractProblems(t, doc)
	for _, p := range problems {
		t.Error(p)
	}
	if sent < 300 {
		t.Errorf("only %d requests sent; the generator lost its way", sent)
	}
}

// TestContractCatchesPlantedMismatches alters a copy of the description
// the way it drifts from the code and expects the contract to notice.
func TestContractCatchesPlantedMismatches(t *testing.T) {
	schema := func(d *openapi3.T, name, prop string) *openapi3.Schema {
		return d.Components.Schemas[name].Value.Properties[prop].Value
	}
	tests := []struct {
		name, op string
		plant    func(*openapi3.T)
	}{
		{"a range wider than the handler's", "createProgram", func(d *openapi3.T) {
			schema(d, "ProgramInput", "earn_rate_bp").Max = ptr(20000.0)
		}},
		{"an enum value the handler refuses", "createProgram", func(d *openapi3.T) {
			s := schema(d, "ProgramInput", "barcode_format")
			s.Enum = append(s.Enum, "ean13")
		}},
		{"a minimum the handler does not hold", "createProgram", func(d *openapi3.T) {
			schema(d, "ProgramInput", "welcome_bonus").Min = ptr(1.0)
		}},
		{"a cross-field rule left out of the description", "createCampaign", func(d *openapi3.T) {
			d.Paths.Value("/campaigns").Post.Description = "Drafts a campaign."
		}},
		{"a 4xx answer not listed", "createWebhook", func(d *openapi3.T) {
			d.Paths.Value("/webhooks").Post.Responses.Delete("422")
		}},
		{"a query limit wider than the handler's", "listPrograms", func(d *openapi3.T) {
			d.Components.Parameters["limit"].Value.Schema.Value.Max = ptr(500.0)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loader := openapi3.NewLoader()
			doc, err := loader.LoadFromData(api.OpenAPI())
			if err != nil {
				t.Fatal(err)
			}
			tt.plant(doc)
			problems, _ := contractProblems(t, doc, tt.op)
			if len(problems) == 0 {
				t.Fatalf("the contract test passes a description with %s", tt.name)
			}
			t.Logf("caught: %s", problems[0])
		})
	}
}

func ptr[T any](v T) *T { return &v }

// contractCase is one generated request of an operation.
type contractCase struct {
	what        string
	valid       bool
	bodyVaries  bool              // the body, not a parameter, is what this case varies
	params      map[string]string // "path:id", "query:limit", "header:Idempotency-Key"
	body        []byte            // nil: no body
	contentType string
}

// contractProblems runs the generated requests of every operation of doc
// (or of the named ones) against a fresh server with real fixtures and
// returns where server and description disagree.
func contractProblems(t *testing.T, doc *openapi3.T, only ...string) (problems []string, sent int) {
	t.Helper()
	// The production body cap: a 4096-character FCM token is valid.
	ts := newTestServer(t, func(o *api.Options) { o.MaxBody = 0 })
	key := ts.merchant("contract")
	for _, path := range doc.Paths.InMatchingOrder() {
		for method, op := range doc.Paths.Value(path).Operations() {
			if len(only) > 0 && !slices.Contains(only, op.OperationID) {
				continue
			}
			fx := ts.fixtures(key)
			for _, c := range contractCases(path, op, fx) {
				if p := selfCheck(op, c); p != "" {
					problems = append(problems, fmt.Sprintf("%s %s, %s: the generator is wrong: %s", method, path, c.what, p))
					continue
				}
				sent++
				res := ts.sendCase(key, method, path, c, fmt.Sprint(sent))
				if p := judge(op, c, res); p != "" {
					problems = append(problems, fmt.Sprintf("%s %s, %s: %s\n%s", method, path, c.what, p, res.Body.String()))
				}
			}
		}
	}
	return problems, sent
}

// sendCase sends c to the operation at method and path; fresh stands in
// for {fresh} in headers, so each request has an idempotency key of its own.
func (ts *testServer) sendCase(key, method, path string, c contractCase, fresh string) response {
	req := httptest.NewRequest(method, "/api/v1"+fillPath(path, c.params), bytes.NewReader(c.body))
	req.Header.Set("Authorization", "Bearer "+key)
	if c.contentType != "" {
		req.Header.Set("Content-Type", c.contentType)
	}
	q := url.Values{}
	for k, v := range c.params {
		switch in, name, _ := strings.Cut(k, ":"); in {
		case "query":
			q.Set(name, v)
		case "header":
			req.Header.Set(name, strings.ReplaceAll(v, "{fresh}", fresh))
		}
	}
	req.URL.RawQuery = q.Encode()
	rec := httptest.NewRecorder()
	ts.http.ServeHTTP(rec, req)
	checkResponse(ts.t, req, rec)
	return response{rec}
}

// selfCheck holds the generator to the schema it reads: a valid JSON
// body must pass kin-openapi's validation and an invalid one must fail it.
func selfCheck(op *openapi3.Operation, c contractCase) string {
	if op.RequestBody == nil || c.contentType != "application/json" || c.body == nil || !c.valid && !c.bodyVaries {
		return ""
	}
	mt := op.RequestBody.Value.Content.Get("application/json")
	if mt == nil {
		return ""
	}
	var v any
	if err := json.Unmarshal(c.body, &v); err != nil {
		return err.Error()
	}
	err := mt.Schema.Value.VisitJSON(v, openapi3.EnableJSONSchema2020())
	switch {
	case c.valid && err != nil:
		return fmt.Sprintf("%s is called valid, the schema says %v", c.body, err)
	case !c.valid && err == nil:
		return fmt.Sprintf("%s is called invalid, the schema accepts it", c.body)
	}
	return ""
}

// judge returns what is wrong with the answer to c, "" when nothing.
func judge(op *openapi3.Operation, c contractCase, res response) string {
	code := res.Code
	if code >= 400 && code < 500 && op.Responses.Value(fmt.Sprint(code)) == nil {
		return fmt.Sprintf("answered %d, which the operation does not list", code)
	}
	switch {
	case !c.valid && code < 300:
		return fmt.Sprintf("the description forbids it, the server accepted it (%d)", code)
	case c.valid && (code == 400 || code == 413 || code == 415):
		return fmt.Sprintf("the description allows it, the server refused it (%d)", code)
	case c.valid && code == 422:
		var e struct{ Error struct{ Field string } }
		_ = json.Unmarshal(res.Body.Bytes(), &e)
		field, _, _ := strings.Cut(e.Error.Field, "[")
		if field == "" || !strings.Contains(op.Description, "`"+field+"`") {
			return fmt.Sprintf("refused with 422 on %q, a rule the description does not state", e.Error.Field)
		}
	}
	return ""
}

// contractCases generates the valid and the invalid requests of op.
func contractCases(path string, op *openapi3.Operation, fx map[string]string) []contractCase {
	base := contractCase{what: "plain", valid: true, params: map[string]string{}}
	var params []*openapi3.Parameter
	for _, p := range op.Parameters {
		params = append(params, p.Value)
		switch {
		case p.Value.In == "path" && len(p.Value.Schema.Value.Enum) == 0:
			base.params["path:"+p.Value.Name] = fx[fixtureName(path, p.Value.Name)]
		case p.Value.Name == "Idempotency-Key":
			base.params["header:"+p.Value.Name] = "contract-{fresh}"
		case p.Value.Required:
			base.params[p.Value.In+":"+p.Value.Name] = fmt.Sprint(validValues(p.Value.Schema.Value)[0].value)
		}
	}
	var bodySchema *openapi3.Schema
	image := false
	if rb := op.RequestBody; rb != nil {
		if mt := rb.Value.Content.Get("application/json"); mt != nil {
			bodySchema = mt.Schema.Value
			base.body, base.contentType = mustMarshal(withFixtures(validValues(bodySchema)[0].value, fx)), "application/json"
		} else {
			image, base.body, base.contentType = true, tinyPNG(), "image/png"
		}
	}
	cases := []contractCase{base}
	add := func(what string, valid bool, change func(*contractCase)) {
		c := base
		c.what, c.valid, c.params = what, valid, maps.Clone(base.params)
		change(&c)
		cases = append(cases, c)
	}
	for _, p := range params {
		k, s := p.In+":"+p.Name, p.Schema.Value
		if p.In == "path" && len(s.Enum) == 0 && s.Pattern == "" {
			continue // an id: the fixture is the value worth sending
		}
		if p.Name != "Idempotency-Key" { // a key is good once; the base sends fresh ones
			for _, v := range validValues(s) {
				add(p.Name+"="+v.what, true, func(c *contractCase) { c.params[k] = fmt.Sprint(v.value) })
			}
		}
		for _, v := range invalidParamValues(s) {
			add(fmt.Sprintf("%s=%q", p.Name, v), false, func(c *contractCase) { c.params[k] = v })
		}
		if p.Required && p.In == "header" {
			add("without "+p.Name, false, func(c *contractCase) { delete(c.params, k) })
		}
	}
	switch {
	case image:
		add("not a PNG", false, func(c *contractCase) { c.body = []byte("GIF89a") })
		add("JSON for an image", false, func(c *contractCase) { c.body, c.contentType = []byte(`{}`), "application/json" })
	case bodySchema != nil:
		for _, v := range validValues(bodySchema)[1:] {
			add(v.what, true, func(c *contractCase) { c.body, c.bodyVaries = mustMarshal(withFixtures(v.value, fx)), true })
		}
		for _, v := range invalidValues(bodySchema) {
			add(v.what, false, func(c *contractCase) { c.body, c.bodyVaries = mustMarshal(withFixtures(v.value, fx)), true })
		}
		add("no body", false, func(c *contractCase) { c.body = nil })
		add("a text body", false, func(c *contractCase) { c.contentType = "text/plain" })
	}
	return cases
}

// fixtures makes a program, a card, a draft campaign, a webhook and an
// FCM token for one operation's requests, keyed by the names fixtureName
// gives them.
func (ts *testServer) fixtures(key string) map[string]string {
	ts.t.Helper()
	prog := ts.program(key)
	serial := ts.card(key, prog, "+79123456789")
	camp := ts.mustDo(201, "POST", "/api/v1/campaigns", key, map[string]any{"program_id": prog, "name": "Back", "template": "{link}"})
	hook := ts.mustDo(201, "POST", "/api/v1/webhooks", key, map[string]any{"url": "https://hooks.example.com/lp", "events": []string{"card.issued"}})
	ts.mustDo(201, "POST", "/api/v1/cards/"+serial+"/fcm-tokens", key, map[string]any{"token": "fixture:token"})
	cust := ts.mustDo(200, "GET", "/api/v1/cards/"+serial, key, nil)["customer"].(map[string]any)["id"].(string)
	coupon := ts.mustDo(201, "POST", "/api/v1/programs", key, map[string]any{"name": "Купон", "kind": "coupon",
		"offer": "−20%", "valid_days": 30})["id"].(string)
	issue := ts.mustDo(202, "POST", "/api/v1/programs/"+coupon+"/coupon-issues", key, map[string]any{"source_program_id": prog})
	return map[string]string{"program": prog, "card": serial, "campaign": camp["id"].(string),
		"webhook": hook["id"].(string), "token": "fixture:token", "customer": cust, "coupon": coupon,
		"couponIssue": issue["id"].(string)}
}

// fixtureName says which fixture a path parameter names.
func fixtureName(path, param string) string {
	switch {
	case param == "serial":
		return "card"
	case path == "/programs/{id}/coupon-issues":
		return "coupon"
	case strings.HasPrefix(path, "/coupon-issues/"):
		return "couponIssue"
	case param == "token":
		return "token"
	case strings.HasPrefix(path, "/programs/"):
		return "program"
	case strings.HasPrefix(path, "/campaigns/"):
		return "campaign"
	case strings.HasPrefix(path, "/webhooks/"):
		return "webhook"
	case strings.HasPrefix(path, "/customers/"):
		return "customer"
	}
	return param
}

func fillPath(path string, params map[string]string) string {
	for k, v := range params {
		if name, ok := strings.CutPrefix(k, "path:"); ok {
			path = strings.ReplaceAll(path, "{"+name+"}", url.PathEscape(v))
		}
	}
	return path
}

// withFixtures puts the fixture program where a body names a program by
// the generator's plainest id.
func withFixtures(v any, fx map[string]string) any {
	if obj, ok := v.(map[string]any); ok && obj["program_id"] == "a" {
		return with(obj, "program_id", fx["program"])
	}
	return v
}

func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func tinyPNG() []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewRGBA(image.Rect(0, 0, 8, 8))); err != nil {
		panic(err)
	}
	return b.Bytes()
}

package api

import (
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// TestRequestSchemasNameEveryField holds each request body schema of
// openapi.json and the Go type its handler decodes into to the same field
// names, at every depth: the contract test can only send the fields the
// description names, so a field the handler takes and the description
// leaves out would go unnoticed there.
func TestRequestSchemasNameEveryField(t *testing.T) {
	inputs := map[string]reflect.Type{
		"ProgramInput":     reflect.TypeFor[programInput](),
		"ProgramUpdate":    reflect.TypeFor[programInput](),
		"CardInput":        reflect.TypeFor[issueCardInput](),
		"TransactionInput": reflect.TypeFor[transactionInput](),
		"MessageInput":     reflect.TypeFor[messageInput](),
		"FCMTokenInput":    reflect.TypeFor[fcmTokenInput](),
		"CampaignInput":    reflect.TypeFor[campaignInput](),
		"WebhookInput":     reflect.TypeFor[webhookInput](),
	}
	doc, err := openapi3.NewLoader().LoadFromData(openAPI)
	if err != nil {
		t.Fatal(err)
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.RequestBody == nil || op.RequestBody.Value.Content.Get("application/json") == nil {
				continue
			}
			ref := op.RequestBody.Value.Content.Get("application/json").Schema.Ref
			if _, ok := inputs[strings.TrimPrefix(ref, "#/components/schemas/")]; !ok {
				t.Errorf("%s %s takes %q, which this test does not know: add its Go type", method, path, ref)
			}
		}
	}
	for name, typ := range inputs {
		s := doc.Components.Schemas[name]
		if s == nil {
			t.Errorf("openapi.json has no schema %s", name)
			continue
		}
		compareFields(t, name, s.Value, typ)
	}
}

func compareFields(t *testing.T, at string, s *openapi3.Schema, typ reflect.Type) {
	t.Helper()
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	switch typ.Kind() {
	case reflect.Slice:
		if s.Items != nil {
			compareFields(t, at+"[]", s.Items.Value, typ.Elem())
		}
		return
	case reflect.Struct:
	default:
		return
	}
	fields := map[string]reflect.Type{}
	for f := range typ.Fields() {
		if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name != "-" && f.IsExported() {
			fields[name] = f.Type
		}
	}
	if got, want := slices.Sorted(maps.Keys(s.Properties)), slices.Sorted(maps.Keys(fields)); !slices.Equal(got, want) {
		t.Errorf("%s: openapi.json names %v, the handler takes %v", at, got, want)
	}
	if s.AdditionalProperties.Has == nil || *s.AdditionalProperties.Has {
		t.Errorf("%s: the handler refuses unknown fields; say additionalProperties: false", at)
	}
	for name, ft := range fields {
		if p := s.Properties[name]; p != nil {
			compareFields(t, at+"."+name, p.Value, ft)
		}
	}
}

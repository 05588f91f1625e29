package api

import (
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/loyalpass/loyalpass/internal/locale"
	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/store"
)

// TestRequestSchemasNameEveryField holds each request body schema of
// openapi.json and the Go type its handler decodes into to the same field
// names, at every depth: the contract test can only send the fields the
// description names, so a field the handler takes and the description
// leaves out would go unnoticed there.
func TestRequestSchemasNameEveryField(t *testing.T) {
	inputs := map[string]reflect.Type{
		"ProgramInput":     reflect.TypeFor[programInput](),
		"ProgramUpdate":    reflect.TypeFor[programUpdateInput](),
		"CardInput":        reflect.TypeFor[issueCardInput](),
		"TransactionInput": reflect.TypeFor[transactionInput](),
		"MessageInput":     reflect.TypeFor[messageInput](),
		"FCMTokenInput":    reflect.TypeFor[fcmTokenInput](),
		"CampaignInput":    reflect.TypeFor[campaignInput](),
		"WebhookInput":     reflect.TypeFor[webhookInput](),
		"CustomerUpdate":   reflect.TypeFor[customerInput](),
		"AutomationInput":  reflect.TypeFor[automationInput](),
		"SMSBudgetInput":   reflect.TypeFor[budgetInput](),
		"CouponIssueInput": reflect.TypeFor[couponIssueInput](),
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
	jsonFields(typ, fields) // as the decoder sees them: embedded fields promoted
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

// TestEnumsListWhatHandlersTake holds the enums of openapi.json to the Go
// lists the handlers check against. The contract test sees an enum value
// the handler refuses, but not one it takes and the enum leaves out.
func TestEnumsListWhatHandlersTake(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(openAPI)
	if err != nil {
		t.Fatal(err)
	}
	prop := func(schema, name string) *openapi3.Schema {
		return doc.Components.Schemas[schema].Value.Properties[name].Value
	}
	param := func(path, method, name string) *openapi3.Schema {
		return doc.Paths.Value(path).GetOperation(method).Parameters.GetByInAndName("query", name).Schema.Value
	}
	pathParam := func(path, method, name string) *openapi3.Schema {
		return doc.Paths.Value(path).GetOperation(method).Parameters.GetByInAndName("path", name).Schema.Value
	}
	tests := []struct {
		name   string
		schema *openapi3.Schema
		want   []string
	}{
		{"locale", prop("ProgramInput", "locale"), locale.Shipped().Tags()},
		{"barcode_format", prop("ProgramInput", "barcode_format"), barcodeFormats},
		{"tier_basis", prop("ProgramInput", "tier_basis"), []string{loyalty.BasisPoints, loyalty.BasisSpend}},
		{"events", prop("WebhookInput", "events").Items.Value, store.WebhookEvents},
		{"card status", param("/cards", "GET", "status"), cardStatuses},
		{"image kind", pathParam("/programs/{id}/images/{kind}", "PUT", "kind"), imageKinds},
		{"image kind (delete)", pathParam("/programs/{id}/images/{kind}", "DELETE", "kind"), imageKinds},
		{"consent channel", prop("ConsentInput", "channel"), loyalty.ConsentChannels},
		{"consent source", prop("ConsentInput", "source"), loyalty.APIConsentSources},
		{"consent record source", prop("ConsentRecord", "source"), loyalty.ConsentSources},
		{"poster lang", param("/programs/{id}/poster.pdf", "GET", "lang"), locale.Shipped().Tags()},
	}
	for _, tt := range tests {
		var got []string
		for _, v := range tt.schema.Enum {
			got = append(got, v.(string))
		}
		if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(tt.want))) {
			t.Errorf("%s: openapi.json lists %v, the handler takes %v", tt.name, got, tt.want)
		}
	}
}

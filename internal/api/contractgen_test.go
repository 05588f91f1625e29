package api_test

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
)

// This file generates request values from the OpenAPI schemas: values a
// schema accepts, pushing one constraint at a time to its edge, and values
// it refuses, breaking one constraint at a time. contract_test.go sends
// them to the server.

// genValue is a generated value and what it exercises ("earn_rate_bp=10000",
// "missing name").
type genValue struct {
	what  string
	value any
}

// validValues returns values s accepts: the plainest first (the example,
// the lower bound, the first enum value, an object with only its required
// fields), then one per edge: every enum value, both bounds, each optional
// field added on its own.
func validValues(s *openapi3.Schema) []genValue {
	switch {
	case s.Type.Is("object"):
		base := baseObject(s)
		out := []genValue{{"plain", base}}
		for _, name := range slices.Sorted(maps.Keys(s.Properties)) {
			for _, v := range validValues(s.Properties[name].Value) {
				out = append(out, genValue{name + "=" + v.what, with(base, name, v.value)})
			}
		}
		return out
	case s.Type.Is("array"):
		items := validValues(s.Items.Value)
		var out []genValue
		if s.MinItems == 0 {
			out = append(out, genValue{"[]", []any{}})
		}
		for _, it := range items {
			out = append(out, genValue{"[" + it.what + "]", []any{it.value}})
		}
		if s.UniqueItems && len(s.Items.Value.Enum) > 1 {
			out = append(out, genValue{"every value", slices.Clone(s.Items.Value.Enum)})
		}
		return out
	case len(s.Enum) > 0:
		out := make([]genValue, len(s.Enum))
		for i, v := range s.Enum {
			out[i] = genValue{fmt.Sprint(v), v}
		}
		return out
	case s.Type.Is("integer"):
		var out []genValue
		switch {
		case s.Example != nil:
			out = append(out, genValue{fmt.Sprint(s.Example), s.Example})
		case s.Min != nil:
			out = append(out, genValue{"minimum", int64(*s.Min)})
		default:
			out = append(out, genValue{"0", 0})
		}
		if s.Max != nil {
			out = append(out, genValue{"maximum", int64(*s.Max)})
		}
		return out
	case s.Type.Is("boolean"):
		return []genValue{{"true", true}, {"false", false}}
	case s.Type.Is("string"):
		var out []genValue
		if s.Example != nil {
			out = append(out, genValue{"example", s.Example})
		}
		for _, n := range []uint64{s.MinLength, maxLength(s)} {
			if v := strings.Repeat("a", int(n)); matches(s, v) && !slices.ContainsFunc(out, func(x genValue) bool { return x.value == v }) {
				out = append(out, genValue{fmt.Sprintf("%d characters", n), v})
			}
		}
		return out
	}
	return []genValue{{"empty object", map[string]any{}}}
}

// invalidValues returns values s refuses, one per constraint.
func invalidValues(s *openapi3.Schema) []genValue {
	var out []genValue
	if !s.Type.IncludesNull() {
		out = append(out, genValue{"null", nil})
	}
	switch {
	case s.Type.Is("object"):
		base := baseObject(s)
		out = append(out, genValue{"a string for an object", "x"})
		for _, name := range s.Required {
			out = append(out, genValue{"missing " + name, without(base, name)})
		}
		for _, name := range slices.Sorted(maps.Keys(s.Properties)) {
			for _, v := range invalidValues(s.Properties[name].Value) {
				out = append(out, genValue{name + ": " + v.what, with(base, name, v.value)})
			}
		}
		if s.AdditionalProperties.Has != nil && !*s.AdditionalProperties.Has {
			out = append(out, genValue{"unknown field", with(base, "unexpected_field", 1)})
			if names := slices.Sorted(maps.Keys(s.Properties)); len(names) > 0 {
				folded := strings.ToUpper(names[0][:1]) + names[0][1:]
				v := validValues(s.Properties[names[0]].Value)[0].value
				out = append(out, genValue{"case-folded " + folded, with(base, folded, v)})
			}
		}
	case s.Type.Is("array"):
		out = append(out, genValue{"a string for an array", "x"})
		item := validValues(s.Items.Value)[0].value
		if s.MinItems > 0 {
			out = append(out, genValue{"too few items", []any{}})
		}
		if s.MaxItems != nil {
			out = append(out, genValue{"too many items", slices.Repeat([]any{item}, int(*s.MaxItems)+1)})
		}
		if s.UniqueItems {
			out = append(out, genValue{"an item twice", []any{item, item}})
		}
		for _, v := range invalidValues(s.Items.Value) {
			out = append(out, genValue{"item " + v.what, []any{v.value}})
		}
	case s.Type.Is("integer"):
		out = append(out, genValue{"a string for an integer", "1"}, genValue{"a fraction", 1.5})
		if s.Min != nil {
			out = append(out, genValue{"below the minimum", int64(*s.Min) - 1})
		}
		if s.Max != nil {
			out = append(out, genValue{"above the maximum", int64(*s.Max) + 1})
		}
	case s.Type.Is("boolean"):
		out = append(out, genValue{"a string for a boolean", "true"})
	case s.Type.Is("string"):
		out = append(out, genValue{"a number for a string", 12345})
		if len(s.Enum) > 0 {
			out = append(out, genValue{"not in the enum", "not-a-listed-value"})
		}
		if s.MinLength > 0 {
			out = append(out, genValue{"too short", strings.Repeat("a", int(s.MinLength)-1)})
		}
		if s.MaxLength != nil {
			out = append(out, genValue{"too long", strings.Repeat("a", int(*s.MaxLength)+1)})
		}
		if s.Pattern != "" {
			if v, ok := mismatch(s); ok {
				out = append(out, genValue{fmt.Sprintf("%q against the pattern", v), v})
			}
		}
	}
	return out
}

// invalidParamValues returns what a path, query or header parameter of
// schema s refuses, written as the parameter would carry it.
func invalidParamValues(s *openapi3.Schema) []string {
	var out []string
	if len(s.Enum) > 0 {
		out = append(out, "not-a-listed-value")
	}
	if s.Type.Is("integer") {
		out = append(out, "x", "1.5")
		if s.Min != nil {
			out = append(out, fmt.Sprint(int64(*s.Min)-1))
		}
		if s.Max != nil {
			out = append(out, fmt.Sprint(int64(*s.Max)+1))
		}
	}
	if s.Type.Is("string") && s.MaxLength != nil {
		out = append(out, strings.Repeat("a", int(*s.MaxLength)+1))
	}
	if v, ok := mismatch(s); ok && s.Type.Is("string") && s.Pattern != "" {
		out = append(out, v)
	}
	return out
}

// baseObject is the object with only its required fields, each at its
// plainest valid value.
func baseObject(s *openapi3.Schema) map[string]any {
	obj := map[string]any{}
	for _, name := range s.Required {
		obj[name] = validValues(s.Properties[name].Value)[0].value
	}
	return obj
}

func with(obj map[string]any, key string, v any) map[string]any {
	out := maps.Clone(obj)
	out[key] = v
	return out
}

func without(obj map[string]any, key string) map[string]any {
	out := maps.Clone(obj)
	delete(out, key)
	return out
}

func maxLength(s *openapi3.Schema) uint64 {
	if s.MaxLength == nil {
		return s.MinLength
	}
	return *s.MaxLength
}

// patternCandidates are strings tried, in order, for one that breaks a
// pattern while keeping to the length limits.
var patternCandidates = []string{"a\u001bb", "ab\u0000cd", "line\u0007bell", "a\u0001", "red", "abc!", "#12345g"}

func mismatch(s *openapi3.Schema) (string, bool) {
	for _, c := range patternCandidates {
		n := uint64(utf8.RuneCountInString(c))
		if !matches(s, c) && n >= s.MinLength && (s.MaxLength == nil || n <= *s.MaxLength) {
			return c, true
		}
	}
	return "", false
}

// codepoint rewrites the ECMA-262 \uXXXX escapes of a JSON Schema pattern
// for Go, as kin-openapi does.
var codepoint = regexp.MustCompile(`\\u([0-9A-Fa-f]{4})`)

func matches(s *openapi3.Schema, v string) bool {
	if s.Pattern == "" {
		return true
	}
	return regexp.MustCompile(codepoint.ReplaceAllString(s.Pattern, `\x{$1}`)).MatchString(v)
}

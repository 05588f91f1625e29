package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"
)

// decodeJSON reads the request body into dst strictly: the body must be one
// JSON object of at most b.maxBody bytes, with no fields dst does not have
// and no values of the wrong type. Every refusal names the problem.
func (b base) decodeJSON(c *gin.Context, dst any) error {
	return decodeJSONLimit(c, dst, b.maxBody)
}

// decodeJSONLimit is decodeJSON with a cap of limit bytes.
func decodeJSONLimit(c *gin.Context, dst any, limit int64) error {
	if ct := c.GetHeader("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return &Error{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type",
				Message: "send the body as application/json"}
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, limit))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large",
			Message: fmt.Sprintf("the body is larger than %d bytes", limit)}
	}
	if err != nil {
		return badRequest("bad_body", "", "could not read the body")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return badRequest("malformed_json", "", "the body is empty; send a JSON object")
	}
	if bytes.TrimSpace(body)[0] != '{' {
		// encoding/json takes a bare null as "nothing to do".
		return badRequest("malformed_json", "", "the body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		if e := jsonError(err); e != nil {
			return e
		}
		// encoding/json has no error type for an unknown field, and its
		// message names only the key: checkKeys finds it, with its path,
		// by the field names themselves (exactly, so it finds every key
		// the decoder refused).
		if k := checkKeys(body, reflect.TypeOf(dst)); k != nil {
			return k
		}
		// Other decoder errors name Go types; say what is wrong in JSON terms.
		return badRequest("malformed_json", "", "the body is not a JSON object of the expected shape")
	}
	if dec.More() {
		return badRequest("malformed_json", "", "there is more data after the JSON object; send exactly one object")
	}
	// encoding/json matches keys to fields ignoring case, so {"Kind":…}
	// would fill "kind", and it skips null: names must match exactly and
	// a field is either given a value or left out.
	if k := checkKeys(body, reflect.TypeOf(dst)); k != nil {
		return k
	}
	return nil
}

func unknownField(path string) *Error {
	return badRequest("unknown_field", path, "%q is not a field of this request (field names are lower case and match exactly)", path)
}

// jsonError maps the decoder's typed errors; nil means err is of no type
// it knows (an unknown field among them).
func jsonError(err error) *Error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return badRequest("malformed_json", "", "the body is not valid JSON: %s at byte %d", strings.TrimPrefix(syntax.Error(), "json: "), syntax.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("malformed_json", "", "the JSON body ends too early")
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return badRequest("malformed_json", "", "the body must be a JSON object, not %s", typ.Value)
		}
		return badRequest("wrong_type", field, "%s must be %s, not %s", field, jsonTypeName(typ.Type), typ.Value)
	}
	return nil
}

// checkKeys refuses the first key in body's first JSON value that the
// type t has no field for, comparing names exactly, or whose value is
// null. The error names its path: "design.colour", "tiers[1].Code". Only
// the first value is read, as the decoder reads it, so data after it does
// not hide an unknown key.
func checkKeys(body []byte, t reflect.Type) *Error {
	var v any
	if json.NewDecoder(bytes.NewReader(body)).Decode(&v) != nil {
		return nil
	}
	path, null := findUnknown(v, t, "")
	switch {
	case path == "":
		return nil
	case null:
		return badRequest("wrong_type", path, "%s must not be null; leave the field out instead", path)
	}
	return unknownField(path)
}

// findUnknown returns the path of the first unknown or null key in v and
// whether it is null.
func findUnknown(v any, t reflect.Type, prefix string) (path string, null bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if list, ok := v.([]any); ok && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
		for i, item := range list {
			if p, null := findUnknown(item, t.Elem(), fmt.Sprintf("%s[%d].", strings.TrimSuffix(prefix, "."), i)); p != "" {
				return p, null
			}
		}
		return "", false
	}
	obj, ok := v.(map[string]any)
	if !ok || t.Kind() != reflect.Struct {
		return "", false
	}
	fields := map[string]reflect.Type{}
	jsonFields(t, fields)
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ft, known := fields[k]
		switch {
		case !known:
			return prefix + k, false
		case obj[k] == nil:
			return prefix + k, true
		}
		if p, null := findUnknown(obj[k], ft, prefix+k+"."); p != "" {
			return p, null
		}
	}
	return "", false
}

// jsonFields collects the JSON names of t's fields and their types, with
// the fields of embedded structs promoted as encoding/json promotes them.
func jsonFields(t reflect.Type, fields map[string]reflect.Type) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct:
			jsonFields(f.Type, fields)
			continue
		case name == "-" || !f.IsExported():
			continue
		case name == "":
			name = f.Name
		}
		fields[name] = f.Type
	}
}

// jsonTypeName says what JSON value a Go type takes, without naming the
// Go type: clients never see our struct names.
func jsonTypeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	default:
		return "an object"
	}
}

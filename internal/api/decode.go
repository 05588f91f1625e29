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
// JSON object of at most s.maxBody bytes, with no fields dst does not have
// and no values of the wrong type. Every refusal names the problem.
func (s *Server) decodeJSON(c *gin.Context, dst any) error {
	return s.decodeJSONLimit(c, dst, s.maxBody)
}

// decodeJSONLimit is decodeJSON with a cap of limit bytes.
func (s *Server) decodeJSONLimit(c *gin.Context, dst any, limit int64) error {
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
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		e := jsonError(err)
		if e.Code == "unknown_field" {
			// encoding/json names only the key; find where it sits.
			if path := unknownFieldPath(body, reflect.TypeOf(dst)); path != "" {
				e.Field, e.Message = path, fmt.Sprintf("unknown field %q", path)
			}
		}
		return e
	}
	if dec.More() {
		return badRequest("malformed_json", "", "unexpected data after the JSON object")
	}
	return nil
}

func jsonError(err error) *Error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return badRequest("malformed_json", "", "malformed JSON at byte %d: %s", syntax.Offset, syntax.Error())
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("malformed_json", "", "the JSON body ends too early")
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return badRequest("malformed_json", "", "the body must be a JSON object, not %s", typ.Value)
		}
		return badRequest("wrong_type", field, "%s must be %s, not %s", field, jsonTypeName(typ.Type.String()), typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return badRequest("unknown_field", field, "unknown field %q", field)
	}
	return badRequest("malformed_json", "", "malformed JSON: %s", err.Error())
}

// unknownFieldPath returns the dotted path ("design.colour") of the first
// key in body that the struct type t has no field for.
func unknownFieldPath(body []byte, t reflect.Type) string {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return ""
	}
	return findUnknown(v, t, "")
}

func findUnknown(v any, t reflect.Type, prefix string) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	obj, ok := v.(map[string]any)
	if !ok || t.Kind() != reflect.Struct {
		return ""
	}
	fields := map[string]reflect.Type{}
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		fields[strings.ToLower(name)] = t.Field(i).Type
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ft, known := fields[strings.ToLower(k)]
		if !known {
			return prefix + k
		}
		if p := findUnknown(obj[k], ft, prefix+k+"."); p != "" {
			return p
		}
	}
	return ""
}

func jsonTypeName(goType string) string {
	switch strings.TrimPrefix(goType, "*") {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "int", "int64", "int32":
		return "an integer"
	default:
		return "a " + goType
	}
}

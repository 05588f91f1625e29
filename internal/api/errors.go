package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/store"
)

// Error is the one error type handlers return. Status, Code and Message are
// public; Err is the cause, logged but never shown to the client.
type Error struct {
	Status  int
	Code    string
	Message string
	Field   string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// errorBody is the JSON shape of every error answer.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field,omitempty"`
	} `json:"error"`
}

func badRequest(code, field, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

func invalid(field, format string, args ...any) *Error {
	return &Error{Status: http.StatusUnprocessableEntity, Code: "invalid_field", Field: field, Message: fmt.Sprintf(format, args...)}
}

func notFound(what string) *Error {
	return &Error{Status: http.StatusNotFound, Code: "not_found", Message: what + " not found"}
}

func internal(err error) *Error {
	return &Error{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error", Err: err}
}

// handler is a Gin handler that returns its error instead of writing it.
type handler func(c *gin.Context) error

// base is what every handler group shares: the one error renderer (and
// the log it writes to) and the cap on JSON bodies (decode.go). It holds
// no store.
type base struct {
	log     *slog.Logger
	maxBody int64
}

// wrap adapts a handler: a returned error is written once, as JSON, and
// logged once (5xx at error level with the cause, 4xx at debug).
func (b base) wrap(h handler) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := h(c); err != nil {
			b.writeError(c, err)
		}
	}
}

func (b base) writeError(c *gin.Context, err error) {
	var e *Error
	switch {
	case errors.Is(err, store.ErrFormUsed):
		// Only the console's in-process requests carry a form token.
		e = &Error{Status: http.StatusConflict, Code: "form_used", Err: err,
			Message: "this form was sent before; the change it made stands"}
	case !errors.As(err, &e):
		e = internal(err)
	}
	if e.Status >= 500 {
		b.log.ErrorContext(c.Request.Context(), "request failed", "route", c.FullPath(), "err", err)
	} else {
		b.log.DebugContext(c.Request.Context(), "request refused", "route", c.FullPath(), "code", e.Code, "field", e.Field)
	}
	var body errorBody
	body.Error.Code, body.Error.Message, body.Error.Field = e.Code, e.Message, e.Field
	c.AbortWithStatusJSON(e.Status, body)
}

// noRoute answers unknown paths and methods in the same JSON shape; under
// /koshelek/ in that API's own (koshelek.go).
func (b base) noRoute(c *gin.Context) {
	if strings.HasPrefix(c.Request.URL.Path, "/koshelek/") {
		b.koshelekNoRoute(c)
		return
	}
	b.writeError(c, &Error{Status: http.StatusNotFound, Code: "not_found", Message: "no such endpoint"})
}

func (b base) noMethod(c *gin.Context) {
	if strings.HasPrefix(c.Request.URL.Path, "/koshelek/") {
		b.koshelekNoRoute(c)
		return
	}
	b.writeError(c, &Error{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed",
		Message: c.Request.Method + " is not allowed here"})
}

// recoverer turns a panic into a logged 500 instead of a dropped connection.
func (b base) recoverer() gin.HandlerFunc {
	return gin.CustomRecoveryWithWriter(nil, func(c *gin.Context, rec any) {
		b.writeError(c, internal(fmt.Errorf("panic: %v", rec)))
	})
}

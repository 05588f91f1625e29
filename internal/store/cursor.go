package store

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Cursor marks a position in a list ordered by creation time, then id.
// The zero Cursor is the start of the list.
type Cursor struct {
	Time time.Time
	ID   string
}

// ErrBadCursor is returned by ParseCursor for a cursor we did not make.
var ErrBadCursor = errors.New("malformed cursor")

// String encodes the cursor as an opaque token for API clients.
func (c Cursor) String() string {
	if c.ID == "" {
		return ""
	}
	raw := strconv.FormatInt(c.Time.UnixNano(), 10) + "|" + c.ID
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// ParseCursor decodes a token made by Cursor.String; "" is the start.
func ParseCursor(s string) (Cursor, error) {
	if s == "" {
		return Cursor{}, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, ErrBadCursor
	}
	ns, id, ok := strings.Cut(string(raw), "|")
	n, err := strconv.ParseInt(ns, 10, 64)
	if !ok || err != nil || id == "" {
		return Cursor{}, ErrBadCursor
	}
	return Cursor{Time: time.Unix(0, n).UTC(), ID: id}, nil
}

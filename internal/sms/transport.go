package sms

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxResponseBytes caps what is read of a provider's answer; real answers
// are a few hundred bytes.
const maxResponseBytes = 64 << 10

// newClient returns the one HTTP client of an adapter.
func newClient(timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	return &http.Client{Timeout: timeout}
}

// baseURL checks a configured base URL and drops a trailing slash.
func baseURL(raw, def string) (string, error) {
	if raw == "" {
		raw = def
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("base URL %q: want http(s)://host", raw)
	}
	return strings.TrimRight(raw, "/"), nil
}

// reply is a provider's HTTP answer, its body capped.
type reply struct {
	status int
	body   []byte
}

// postForm posts form, UTF-8 and URL-encoded, and reads the capped answer.
// A failure to get an answer at all (timeout, refused connection, the
// caller's context ending) is Transient: nothing blames the number. It is
// also ambiguous, since the provider may have accepted the message before
// the connection broke, so a retry can send the text twice.
func postForm(ctx context.Context, c *http.Client, endpoint string, form url.Values, auth func(*http.Request)) (reply, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return reply{}, &Error{Kind: Config, Code: "request", Message: "cannot build request", Err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	req.Header.Set("Accept", "application/json")
	if auth != nil {
		auth(req)
	}
	resp, err := c.Do(req)
	if err != nil {
		return reply{}, &Error{Kind: Transient, Code: "transport", Message: "no answer from provider", Err: redact(err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return reply{}, &Error{Kind: Transient, Code: "transport", Message: "answer cut short", Err: redact(err)}
	}
	return reply{status: resp.StatusCode, body: body}, nil
}

// redact drops the URL from a transport error: SMS.ru and SMSC carry no
// secrets in it (we POST), but a misconfigured base URL might carry some.
func redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// httpError classifies an answer that the provider's own codes did not.
// postJSON posts form and decodes a 200 answer's JSON body into answer
// (SMS.ru and SMSC answer this way). It returns the raw body too, for
// error messages; any other status or an unreadable body is an *Error.
func postJSON(ctx context.Context, c *http.Client, endpoint string, form url.Values, answer any) ([]byte, error) {
	r, err := postForm(ctx, c, endpoint, form, nil)
	if err != nil {
		return nil, err
	}
	if r.status != http.StatusOK {
		return r.body, httpError(r.status, r.body)
	}
	if err := json.Unmarshal(r.body, answer); err != nil {
		return r.body, &Error{Kind: Transient, Code: "decode", Message: "unreadable answer: " + snippet(r.body), Err: err}
	}
	return r.body, nil
}

func httpError(status int, body []byte) *Error {
	e := &Error{Code: fmt.Sprintf("HTTP %d", status), Message: snippet(body)}
	switch {
	case status == http.StatusTooManyRequests || status >= 500:
		e.Kind = Transient
	case status == http.StatusUnauthorized || status == http.StatusForbidden || status == http.StatusNotFound:
		e.Kind = Config
	default:
		e.Kind = Permanent
	}
	return e
}

// snippet is the start of a body, for an error message.
func snippet(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > 200 {
		b = b[:200]
	}
	return strings.ToValidUTF8(string(b), "?")
}

// flexString decodes a JSON string or number as a string: Twilio sends
// num_segments as "1", SMSC sends id as a number or a string.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = ""
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*f = flexString(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("want a string or a number, got %s", b)
	}
	*f = flexString(n.String())
	return nil
}

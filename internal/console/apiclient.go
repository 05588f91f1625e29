package console

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/loyalpass/loyalpass/internal/api"
)

// apiClient sends requests to the merchant API's handler in-process, as a
// merchant (api.AsMerchant): the console's one road to programs, cards and
// the ledger, the same the API's clients take.
type apiClient struct{ h http.Handler }

// apiError is the API's error body: a stable code, a message in English
// and, for a bad field, its name.
type apiError struct {
	Status  int
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field"`
}

func (e *apiError) Error() string { return fmt.Sprintf("api %d %s: %s", e.Status, e.Code, e.Message) }

// maxAPIAnswer bounds what an in-process answer may hold (a page of 200
// cards is about 200 KB).
const maxAPIAnswer = 4 << 20

// call sends body (JSON-encoded; nil for none) to path as merchantID and
// decodes a 2xx answer into out (nil: ignore it). A 4xx comes back as
// *apiError; anything else is an error of the console's own.
// idempotencyKey, when set, goes in the Idempotency-Key header.
func (a apiClient) call(ctx context.Context, merchantID, method, path string, body any, idempotencyKey string, out any) error {
	var data []byte
	ctype := ""
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode %s %s: %w", method, path, err)
		}
		data, ctype = b, "application/json"
	}
	return a.do(ctx, merchantID, method, path, ctype, data, idempotencyKey, out)
}

// send is call with a body of its own type (an image), sent as it is.
func (a apiClient) send(ctx context.Context, merchantID, method, path, ctype string, body []byte, out any) error {
	return a.do(ctx, merchantID, method, path, ctype, body, "", out)
}

// fetch GETs path as merchantID and returns the answer as it is (a PDF,
// an image) with its content type; a 4xx is *apiError.
func (a apiClient) fetch(ctx context.Context, merchantID, path string) ([]byte, string, error) {
	var raw rawAnswer
	err := a.do(ctx, merchantID, http.MethodGet, path, "", nil, "", &raw)
	return raw.data, raw.ctype, err
}

// rawAnswer takes a 2xx answer as it is, for fetch.
type rawAnswer struct {
	data  []byte
	ctype string
}

func (a apiClient) do(ctx context.Context, merchantID, method, path, ctype string, body []byte, idempotencyKey string, out any) error {
	var rd io.Reader = http.NoBody
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(api.AsMerchant(ctx, merchantID), method, path, rd)
	if err != nil {
		return fmt.Errorf("request %s %s: %w", method, path, err)
	}
	req.RemoteAddr = "127.0.0.1:0"
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if idempotencyKey != "" {
		req.Header.Set("Idempotency-Key", idempotencyKey)
	}
	w := &answer{header: http.Header{}}
	a.h.ServeHTTP(w, req)
	switch {
	case w.status >= 200 && w.status < 300:
		if raw, ok := out.(*rawAnswer); ok {
			raw.data, raw.ctype = w.body.Bytes(), w.header.Get("Content-Type")
			return nil
		}
		if out == nil || w.body.Len() == 0 {
			return nil
		}
		if err := json.Unmarshal(w.body.Bytes(), out); err != nil {
			return fmt.Errorf("decode %s %s: %w", method, path, err)
		}
		return nil
	case w.status >= 400 && w.status < 500:
		var eb struct {
			Error apiError `json:"error"`
		}
		_ = json.Unmarshal(w.body.Bytes(), &eb)
		eb.Error.Status = w.status
		return &eb.Error
	}
	return fmt.Errorf("%s %s: status %d", method, path, w.status)
}

// answer is the http.ResponseWriter an in-process call writes to.
type answer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *answer) Header() http.Header { return w.header }

func (w *answer) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *answer) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	if w.body.Len()+len(b) > maxAPIAnswer {
		return 0, fmt.Errorf("in-process answer over %d bytes", maxAPIAnswer)
	}
	return w.body.Write(b)
}

package koshelektest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// ContentType is what every answer of the Loyalty Online API carries.
const ContentType = "application/json; charset=utf-8"

// Client is the Кошелёк platform calling a partner's Loyalty Online API
// at BaseURL (the base URL the partner gave Cardsmobile) with the login
// the partner issued. Every answer is held to the documented contract,
// and a breach fails the test: the status is 200 or 422 only, the
// Content-Type is ContentType, a 422 carries {"code","description"}
// with non-empty strings, and every scalar of a 200's body is a string.
type Client struct {
	T       testing.TB
	BaseURL string
	Login   string
	Pass    string
	// Handler, when set, serves the requests in-process instead of the
	// network (BaseURL then only names the path prefix).
	Handler http.Handler
}

// Answer is an answer as it came.
type Answer struct {
	Status      int
	ContentType string
	Body        []byte
}

// Error is a 422 answer's body.
type Error struct {
	Code        string `json:"code"`
	Description string `json:"description"`
}

// Barcode is a card's barcode as Кошелёк draws it.
type Barcode struct {
	BarcodeNumber string `json:"barcodeNumber"`
	BarcodeType   string `json:"barcodeType"`
}

// Card is the card object of the search, issue and info answers.
type Card struct {
	CardNumber string  `json:"cardNumber"`
	CardState  string  `json:"cardState"`
	Barcode    Barcode `json:"barcode"`
	Bonus      *Bonus  `json:"bonus,omitempty"`
	// Discount is a discount card's percent (our inference: koshelek.md).
	Discount string `json:"discount,omitempty"`
}

// Bonus is a card's balance, with what expires when.
type Bonus struct {
	Total     string      `json:"total"`
	Available string      `json:"available"`
	Bonuses   []BonusLine `json:"bonuses"`
}

// BonusLine is one part of a balance.
type BonusLine struct {
	Description string `json:"description"`
	Amount      string `json:"amount"`
	ValidUntil  string `json:"validUntil,omitempty"`
}

// Purchase is one line of a card's history.
type Purchase struct {
	Date     string `json:"date"`
	Item     string `json:"item"`
	Amount   string `json:"amount"`
	Quantity string `json:"quantity"`
	Location string `json:"location"`
	Bonuses  string `json:"bonuses"`
}

// Do sends a request with the client's Basic credentials (auth "" sends
// them; "-" sends none; anything else is sent as the Authorization
// header) and checks the answer against the contract.
func (c *Client) Do(method, path string, query url.Values, body any, auth string) Answer {
	c.T.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			c.T.Fatal(err)
		}
		r = bytes.NewReader(raw)
	}
	u := strings.TrimRight(c.BaseURL, "/") + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequest(method, u, r)
	if err != nil {
		c.T.Fatal(err)
	}
	switch auth {
	case "":
		req.SetBasicAuth(c.Login, c.Pass)
	case "-":
	default:
		req.Header.Set("Authorization", auth)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	req.Header.Set("Accept", "application/json")
	var a Answer
	if c.Handler != nil {
		rec := httptest.NewRecorder()
		c.Handler.ServeHTTP(rec, req)
		a = Answer{Status: rec.Code, ContentType: rec.Header().Get("Content-Type"), Body: rec.Body.Bytes()}
	} else {
		resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
		if err != nil {
			c.T.Fatalf("koshelektest: %s %s: %v", method, path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		a = Answer{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Body: b}
	}
	if p := ContractProblem(a); p != "" {
		c.T.Errorf("koshelektest: %s %s broke the Loyalty API contract: %s\n%s", method, path, p, a.Body)
	}
	return a
}

// ContractProblem says how an answer breaks the Loyalty API's rules, ""
// when it keeps them.
func ContractProblem(a Answer) string {
	if a.Status != http.StatusOK && a.Status != http.StatusUnprocessableEntity {
		return fmt.Sprintf("status %d: only 200 and 422 are allowed", a.Status)
	}
	if a.ContentType != ContentType {
		return fmt.Sprintf("Content-Type %q, want %q", a.ContentType, ContentType)
	}
	if a.Status == http.StatusUnprocessableEntity {
		var e map[string]any
		if err := json.Unmarshal(a.Body, &e); err != nil {
			return "a 422 without a JSON object body"
		}
		code, ok1 := e["code"].(string)
		desc, ok2 := e["description"].(string)
		if !ok1 || !ok2 || code == "" || desc == "" || len(e) != 2 {
			return `a 422 body must be exactly {"code","description"} with non-empty strings`
		}
		return ""
	}
	if len(bytes.TrimSpace(a.Body)) == 0 {
		return ""
	}
	var v any
	if err := json.Unmarshal(a.Body, &v); err != nil {
		return "a 200 body that is not JSON"
	}
	return nonString(v, "")
}

// nonString finds a scalar that is not a string.
func nonString(v any, path string) string {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if p := nonString(e, path+"."+k); p != "" {
				return p
			}
		}
	case []any:
		for i, e := range x {
			if p := nonString(e, fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
	case string:
	default:
		return fmt.Sprintf("%s is %v (%T), not a string", path, x, x)
	}
	return ""
}

// decode reads a 200's body into v, or a 422's into the returned Error.
func (c *Client) decode(a Answer, v any) *Error {
	c.T.Helper()
	if a.Status == http.StatusUnprocessableEntity {
		var e Error
		json.Unmarshal(a.Body, &e)
		return &e
	}
	if v != nil && len(bytes.TrimSpace(a.Body)) > 0 {
		if err := json.Unmarshal(a.Body, v); err != nil {
			c.T.Errorf("koshelektest: answer %s: %v", a.Body, err)
		}
	}
	return nil
}

type cardAnswer struct {
	Card *Card `json:"card"`
}

// Search is GET /v1/card with the profile data; a nil card is the empty
// answer of a miss.
func (c *Client) Search(params url.Values) (*Card, *Error) {
	c.T.Helper()
	a := c.Do(http.MethodGet, "/v1/card", params, nil, "")
	var out cardAnswer
	if e := c.decode(a, &out); e != nil {
		return nil, e
	}
	if len(bytes.TrimSpace(a.Body)) == 0 {
		return nil, nil
	}
	if out.Card == nil {
		c.T.Errorf("koshelektest: a search hit without a card: %s", a.Body)
	}
	return out.Card, nil
}

// Issue is POST /v1/card/anonymous with the user's profile.
func (c *Client) Issue(profile map[string]string) (*Card, *Error) {
	c.T.Helper()
	var out cardAnswer
	if e := c.decode(c.Do(http.MethodPost, "/v1/card/anonymous", nil, profile, ""), &out); e != nil {
		return nil, e
	}
	if out.Card == nil {
		c.T.Errorf("koshelektest: an issue without a card")
	}
	return out.Card, nil
}

// Card is GET /v1/card/{cardNumber}: the card with its balance.
func (c *Client) Card(number string) (*Card, *Error) {
	c.T.Helper()
	var out cardAnswer
	if e := c.decode(c.Do(http.MethodGet, "/v1/card/"+url.PathEscape(number), nil, nil, ""), &out); e != nil {
		return nil, e
	}
	return out.Card, nil
}

// History is GET /v1/card/{cardNumber}/purchases.
func (c *Client) History(number string, query url.Values) ([]Purchase, *Error) {
	c.T.Helper()
	var out []Purchase
	if e := c.decode(c.Do(http.MethodGet, "/v1/card/"+url.PathEscape(number)+"/purchases", query, nil, ""), &out); e != nil {
		return nil, e
	}
	return out, nil
}

// Communication is PUT /v1/card/{cardNumber}/communication.
func (c *Client) Communication(number string, allow, deny []string) *Error {
	c.T.Helper()
	body := map[string][]string{"allow": allow, "deny": deny}
	return c.decode(c.Do(http.MethodPut, "/v1/card/"+url.PathEscape(number)+"/communication", nil, body, ""), nil)
}

// UpdateProfile is PUT /v1/card/{cardNumber} with the changed profile.
func (c *Client) UpdateProfile(number string, profile map[string]string) *Error {
	c.T.Helper()
	return c.decode(c.Do(http.MethodPut, "/v1/card/"+url.PathEscape(number), nil, profile, ""), nil)
}

// Package koshelek sends messages to «Кошелёк» (Cardsmobile) users through
// Кошелёк's Push API (koshelek.md §8): one message to one phone number,
// on behalf of a partner's Push API account, and maps every answer onto
// push.Outcome. Кошелёк renders the card itself and pulls its state from
// our partner API (internal/api/koshelek.go); this package is only how
// a change reaches the holder's lock screen.
//
// What the documentation says and what is our reading of it:
//
//   - [D] POST <host>/push/delivery, HTTP Basic (RFC 7617), UTF-8 JSON:
//     pushType (TRANSACTION | SERVICE | PROMO), msisdn (an integer, no
//     "+"), payload {title ≤ 50, message ≤ 150, image (PROMO only),
//     deeplink {target card | campaign | campaigns, campaignId}}, qos
//     {deliveryStatusNotifications}, utm. The answer is {"messageId":
//     "<UUID>", "state": "ENQUEUED" | "MSISDN_NOT_REGISTERED"}.
//   - [D] Transactional and service messages are limited to 1,000 a
//     minute (one per 0.06 s) in the old docs, "retry later" beyond it.
//     The client holds each account to PerMinute itself.
//   - [D] A v1.1 account answers 401 to everything until its initial
//     password is changed (PUT /public/user/reset-password).
//   - [Inf] The status code of an exceeded limit is not documented: 429
//     (with Retry-After when given) and 5xx are passing failures, other
//     4xx are ours to fix. The error body's shape is not documented
//     either; its "description" or "message" is kept for the dead letter.
//   - [N] No de-duplication key exists: a message whose answer was lost
//     may be sent again by a retry.
package koshelek

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/time/rate"

	"github.com/loyalpass/loyalpass/internal/netguard"
	"github.com/loyalpass/loyalpass/push"
)

// Message types: Кошелёк counts anything it does not see as transactional
// or service as advertising (PROMO).
const (
	Transaction = "TRANSACTION"
	Service     = "SERVICE"
	Promo       = "PROMO"
)

// Deep link targets: the card's screen, one promotion, or the list.
const (
	TargetCard      = "card"
	TargetCampaign  = "campaign"
	TargetCampaigns = "campaigns"
)

// States of a message, as the Push API and its callbacks name them.
const (
	StateEnqueued      = "ENQUEUED"
	StateNotRegistered = "MSISDN_NOT_REGISTERED"
	StateDelivered     = "DELIVERED"
	StateOpened        = "OPENED"
)

// Limits of a message and of an account.
const (
	MaxTitle         = 50
	MaxText          = 150
	DefaultPerMinute = 1000
	// DefaultBaseURL is the host of the old English documentation
	// ("POST https://api.cardsmobile.ru/push/delivery"); Кошелёк hands
	// each partner its host with the login, which replaces it.
	DefaultBaseURL = "https://api.cardsmobile.ru"
	// DeliveryPath is the single-recipient send.
	DeliveryPath = "/push/delivery"
)

// Account is a partner's Push API login.
type Account struct {
	Login, Password string
}

// Message is one message to one Кошелёк user.
type Message struct {
	Type   string // Transaction, Service or Promo
	MSISDN string // the phone, digits only, country code first
	Title  string // at most MaxTitle characters
	Text   string // at most MaxText characters
	// Image is a 1024×512 JPG or PNG URL; Кошелёк shows it on PROMO only.
	Image string
	// Target is where a tap leads (default TargetCard); CampaignID names
	// the promotion of TargetCampaign.
	Target, CampaignID string
	// StatusCallbacks asks Кошелёк to post DELIVERED and OPENED to the
	// account's Callback API.
	StatusCallbacks bool
}

// wire shapes of POST /push/delivery.
type deliveryRequest struct {
	PushType string      `json:"pushType"`
	MSISDN   json.Number `json:"msisdn"`
	Payload  payload     `json:"payload"`
	QoS      *qos        `json:"qos,omitempty"`
}

type payload struct {
	Title    string   `json:"title"`
	Message  string   `json:"message"`
	Image    string   `json:"image,omitempty"`
	Deeplink deeplink `json:"deeplink"`
}

type deeplink struct {
	Target     string `json:"target"`
	CampaignID string `json:"campaignId,omitempty"`
}

type qos struct {
	DeliveryStatusNotifications bool `json:"deliveryStatusNotifications"`
}

type deliveryAnswer struct {
	MessageID string `json:"messageId"`
	State     string `json:"state"`
}

// Sent is what the Push API said of a message it took.
type Sent struct {
	MessageID string
	State     string
}

// Options configures a Client.
type Options struct {
	// BaseURL is the Push API host (default DefaultBaseURL).
	BaseURL string
	// Outbound guards every connection; nil refuses internal addresses.
	Outbound *netguard.Guard
	// Timeout bounds one call (default 15 s).
	Timeout time.Duration
	// PerMinute is how many messages one account sends a minute (default
	// DefaultPerMinute), evenly spaced.
	PerMinute int
	// MaxWait is the longest a send waits for its account's turn; beyond
	// it the message is a Retry after the wait (default 2 s).
	MaxWait time.Duration
	// Now is the clock for Retry-After dates (default time.Now).
	Now func() time.Time
}

// Client sends messages. It is safe for concurrent use.
type Client struct {
	base     string
	client   *http.Client
	every    time.Duration
	maxWait  time.Duration
	now      func() time.Time
	mu       sync.Mutex
	limiters map[string]*rate.Limiter // by account login
}

// New returns a Client.
func New(opts Options) (*Client, error) {
	base := strings.TrimRight(opts.BaseURL, "/")
	if base == "" {
		base = DefaultBaseURL
	}
	guard := opts.Outbound
	if guard == nil {
		guard = netguard.New(netguard.Options{})
	}
	if err := guard.CheckURL(base); err != nil && !errors.As(err, new(*netguard.RefusedError)) {
		// An internal address is the guard's to refuse at dial time (tests
		// allow loopback); anything else is a configuration mistake.
		return nil, fmt.Errorf("koshelek push URL %q %w", base, err)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 15 * time.Second
	}
	if opts.PerMinute <= 0 {
		opts.PerMinute = DefaultPerMinute
	}
	if opts.MaxWait <= 0 {
		opts.MaxWait = 2 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Client{base: base, client: guard.Client(opts.Timeout), every: time.Minute / time.Duration(opts.PerMinute),
		maxWait: opts.MaxWait, now: opts.Now, limiters: map[string]*rate.Limiter{}}, nil
}

// Clip shortens s to at most n characters, ending it with "…" when cut.
func Clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

// check refuses a message the Push API would refuse.
func (m Message) check() error {
	switch {
	case m.Type != Transaction && m.Type != Service && m.Type != Promo:
		return fmt.Errorf("pushType %q is not TRANSACTION, SERVICE or PROMO", m.Type)
	case m.MSISDN == "" || len(m.MSISDN) > 15 || strings.Trim(m.MSISDN, "0123456789") != "" || m.MSISDN[0] == '0':
		return errors.New("msisdn must be 1 to 15 digits, country code first")
	case m.Title == "" || utf8.RuneCountInString(m.Title) > MaxTitle:
		return fmt.Errorf("title must be 1 to %d characters", MaxTitle)
	case m.Text == "" || utf8.RuneCountInString(m.Text) > MaxText:
		return fmt.Errorf("message must be 1 to %d characters", MaxText)
	case m.Target == TargetCampaign && m.CampaignID == "":
		return errors.New("a campaign deep link needs its campaignId")
	}
	return nil
}

// Send sends one message on acct's behalf. The result is push.Delivered
// once the Push API took it (Sent says its id and state), push.Gone when
// Кошелёк has no user with the phone (MSISDN_NOT_REGISTERED), push.Retry
// for a limit, a 5xx or no answer, and push.Failed for what only a
// person can fix (credentials, a refused message).
func (c *Client) Send(ctx context.Context, acct Account, m Message) (Sent, push.Result) {
	r := push.Result{Token: m.MSISDN}
	if m.Target == "" {
		m.Target = TargetCard
	}
	if err := m.check(); err != nil {
		r.Outcome, r.Reason = push.Failed, "not sent: "+err.Error()
		return Sent{}, r
	}
	if wait, err := c.turn(ctx, acct.Login); err != nil {
		r.Outcome, r.Reason, r.RetryAfter = push.Retry, err.Error(), wait
		return Sent{}, r
	}
	req := deliveryRequest{PushType: m.Type, MSISDN: json.Number(m.MSISDN),
		Payload: payload{Title: m.Title, Message: m.Text, Deeplink: deeplink{Target: m.Target, CampaignID: m.CampaignID}}}
	if m.Type == Promo {
		req.Payload.Image = m.Image
	}
	if m.StatusCallbacks {
		req.QoS = &qos{DeliveryStatusNotifications: true}
	}
	body, err := json.Marshal(req)
	if err != nil {
		r.Outcome, r.Reason = push.Failed, err.Error()
		return Sent{}, r
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+DeliveryPath, bytes.NewReader(body))
	if err != nil {
		r.Outcome, r.Reason = push.Failed, "bad push URL"
		return Sent{}, r
	}
	hreq.SetBasicAuth(acct.Login, acct.Password)
	hreq.Header.Set("Content-Type", "application/json; charset=utf-8")
	hreq.Header.Set("Accept", "application/json")
	hreq.Header.Set("User-Agent", "loyalpass")
	resp, err := c.client.Do(hreq)
	if err != nil {
		r.Outcome, r.Reason = push.Retry, netguard.Describe(err)
		var refused *netguard.RefusedError
		if errors.As(err, &refused) {
			r.Outcome = push.Failed
		}
		return Sent{}, r
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return c.judge(resp, raw, r)
}

// judge maps an answer onto a result.
func (c *Client) judge(resp *http.Response, raw []byte, r push.Result) (Sent, push.Result) {
	status := resp.StatusCode
	switch {
	case status == http.StatusOK:
		var a deliveryAnswer
		if err := json.Unmarshal(raw, &a); err != nil {
			// It took the message; what it said is lost.
			r.Outcome, r.Reason = push.Delivered, "HTTP 200 with an unreadable answer"
			return Sent{}, r
		}
		if a.State == StateNotRegistered {
			r.Outcome, r.Reason = push.Gone, StateNotRegistered
			return Sent{MessageID: a.MessageID, State: a.State}, r
		}
		r.Outcome, r.Reason = push.Delivered, a.State
		return Sent{MessageID: a.MessageID, State: a.State}, r
	case status == http.StatusTooManyRequests || status >= 500:
		r.Outcome, r.Reason = push.Retry, "HTTP "+strconv.Itoa(status)+describe(raw)
		r.RetryAfter = push.RetryAfter(resp.Header.Get("Retry-After"), c.now())
	case status == http.StatusUnauthorized:
		r.Outcome, r.Reason = push.Failed, "HTTP 401: the Push API refused the login (a new account must first change "+
			"its initial password: PUT /public/user/reset-password)"
	default:
		r.Outcome, r.Reason = push.Failed, "HTTP "+strconv.Itoa(status)+describe(raw)
	}
	return Sent{}, r
}

// describe is the error description of an answer's body, when it has one
// in a shape we can read, as ": <text>" of at most 200 characters.
func describe(raw []byte) string {
	var e struct {
		Description string `json:"description"`
		Message     string `json:"message"`
		Error       string `json:"error"`
	}
	if json.Unmarshal(raw, &e) != nil {
		return ""
	}
	for _, s := range []string{e.Description, e.Message, e.Error} {
		if s = strings.TrimSpace(s); s != "" {
			return ": " + Clip(strings.Map(printable, s), 200)
		}
	}
	return ""
}

func printable(r rune) rune {
	if r < 0x20 || r == 0x7f {
		return ' '
	}
	return r
}

// errOverLimit is a message held back by its account's limit.
var errOverLimit = errors.New("over the account's limit of messages a minute (not sent)")

// turn waits for the account's next slot, up to maxWait; past that it
// gives the slot back and says how long it would have been.
func (c *Client) turn(ctx context.Context, login string) (time.Duration, error) {
	c.mu.Lock()
	lim := c.limiters[login]
	if lim == nil {
		lim = rate.NewLimiter(rate.Every(c.every), 1)
		c.limiters[login] = lim
	}
	c.mu.Unlock()
	res := lim.Reserve()
	d := res.Delay()
	if d > c.maxWait {
		res.Cancel()
		return d, errOverLimit
	}
	if d == 0 {
		return 0, nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return 0, nil
	case <-ctx.Done():
		res.Cancel()
		return 0, fmt.Errorf("canceled while waiting for the account's turn: %w", ctx.Err())
	}
}

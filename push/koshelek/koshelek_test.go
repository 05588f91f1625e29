package koshelek_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/internal/netguard/netguardtest"
	"github.com/loyalpass/loyalpass/push"
	"github.com/loyalpass/loyalpass/push/koshelek"
	"github.com/loyalpass/loyalpass/push/koshelek/koshelektest"
)

var acct = koshelek.Account{Login: "shop-push", Password: "n3w-pässword"}

func newClient(t *testing.T, fake *koshelektest.Server, perMinute int) *koshelek.Client {
	t.Helper()
	c, err := koshelek.New(koshelek.Options{BaseURL: fake.URL, Outbound: netguardtest.Loopback(), PerMinute: perMinute,
		MaxWait: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func balanceMessage() koshelek.Message {
	return koshelek.Message{Type: koshelek.Transaction, MSISDN: "79161234567", Title: "Кофейня «Зерно»",
		Text: "Начислено 62 балла. Баланс: 162 балла", StatusCallbacks: true}
}

func TestSendSpeaksThePushAPI(t *testing.T) {
	fake := koshelektest.NewServer(t)
	fake.AddAccount(koshelektest.Account{Login: acct.Login, Password: acct.Password})
	fake.Register("79161234567")
	c := newClient(t, fake, 60000)

	sent, r := c.Send(context.Background(), acct, balanceMessage())
	if r.Outcome != push.Delivered || sent.State != koshelek.StateEnqueued || len(sent.MessageID) != 36 {
		t.Fatalf("Send = %+v, %+v", sent, r)
	}
	got := fake.Received()
	if len(got) != 1 || got[0].MessageID != sent.MessageID || got[0].MSISDN != "79161234567" || got[0].PushType != "TRANSACTION" ||
		got[0].Title != "Кофейня «Зерно»" || got[0].Target != "card" || !got[0].StatusCallbacks || got[0].Login != acct.Login {
		t.Fatalf("the fake received %+v", got)
	}

	// A phone Кошелёк does not know: Gone, nothing delivered.
	m := balanceMessage()
	m.MSISDN = "79990000000"
	if sent, r := c.Send(context.Background(), acct, m); r.Outcome != push.Gone || sent.State != koshelek.StateNotRegistered {
		t.Fatalf("unknown phone: %+v %+v", sent, r)
	}
	// An image goes with PROMO only; a campaign link names its campaign.
	promo := balanceMessage()
	promo.Type, promo.Image, promo.Target, promo.CampaignID = koshelek.Promo, "https://cards.example.com/a.png", koshelek.TargetCampaign, "c-1"
	if _, r := c.Send(context.Background(), acct, promo); r.Outcome != push.Delivered {
		t.Fatalf("promo: %+v", r)
	}
	withImage := balanceMessage()
	withImage.Image = "https://cards.example.com/a.png"
	if _, r := c.Send(context.Background(), acct, withImage); r.Outcome != push.Delivered {
		t.Fatalf("transaction with an image (left out): %+v", r)
	}
	if last := fake.Received(); last[len(last)-1].Image != "" {
		t.Errorf("an image was sent with a TRANSACTION message")
	}
}

func TestSendRefusesWhatThePushAPIWouldRefuseWithoutCalling(t *testing.T) {
	fake := koshelektest.NewServer(t)
	fake.AddAccount(koshelektest.Account{Login: acct.Login, Password: acct.Password})
	c := newClient(t, fake, 60000)
	for name, change := range map[string]func(*koshelek.Message){
		"title of 51":         func(m *koshelek.Message) { m.Title = strings.Repeat("ж", 51) },
		"message of 151":      func(m *koshelek.Message) { m.Text = strings.Repeat("ж", 151) },
		"no title":            func(m *koshelek.Message) { m.Title = "" },
		"phone with a plus":   func(m *koshelek.Message) { m.MSISDN = "+79161234567" },
		"16 digits":           func(m *koshelek.Message) { m.MSISDN = "7916123456789012" },
		"type":                func(m *koshelek.Message) { m.Type = "ADVERT" },
		"campaign without id": func(m *koshelek.Message) { m.Target = koshelek.TargetCampaign },
	} {
		m := balanceMessage()
		change(&m)
		if _, r := c.Send(context.Background(), acct, m); r.Outcome != push.Failed || !strings.HasPrefix(r.Reason, "not sent: ") {
			t.Errorf("%s: %+v", name, r)
		}
	}
	if n := fake.Attempts(); n != 0 {
		t.Fatalf("%d refused messages reached the Push API", n)
	}
	if got := koshelek.Clip("  Кофейня на Тверской и ещё много слов ", 12); got != "Кофейня на…" {
		t.Errorf("Clip = %q", got)
	}
}

func TestSendMapsFailures(t *testing.T) {
	fake := koshelektest.NewServer(t)
	fake.AddAccount(koshelektest.Account{Login: acct.Login, Password: acct.Password})
	fake.AddAccount(koshelektest.Account{Login: "fresh", Password: "initial", MustReset: true})
	c := newClient(t, fake, 60000)
	ctx := context.Background()
	tests := []struct {
		name    string
		fault   *koshelektest.Fault
		acct    koshelek.Account
		outcome push.Outcome
		reason  string
		after   time.Duration
	}{
		{"wrong password", nil, koshelek.Account{Login: acct.Login, Password: "nope"}, push.Failed, "HTTP 401", 0},
		{"initial password not changed", nil, koshelek.Account{Login: "fresh", Password: "initial"}, push.Failed, "reset-password", 0},
		{"limit", &koshelektest.Fault{Status: 429, RetryAfter: "30", Body: `{"code":"429","description":"slow down"}`}, acct, push.Retry, "HTTP 429: slow down", 30 * time.Second},
		{"unavailable", &koshelektest.Fault{Status: 503, Body: "<html>"}, acct, push.Retry, "HTTP 503", 0},
		{"refused message", &koshelektest.Fault{Status: 400, Body: `{"description":"bad\u0007 payload"}`}, acct, push.Failed, "HTTP 400: bad  payload", 0},
	}
	for _, tt := range tests {
		if tt.fault != nil {
			fake.FailNext(*tt.fault)
		}
		_, r := c.Send(ctx, tt.acct, balanceMessage())
		if r.Outcome != tt.outcome || !strings.Contains(r.Reason, tt.reason) || r.RetryAfter != tt.after {
			t.Errorf("%s: %+v; want %v containing %q after %v", tt.name, r, tt.outcome, tt.reason, tt.after)
		}
	}
	// The guard refuses loopback unless the operator opened it.
	guarded, err := koshelek.New(koshelek.Options{BaseURL: fake.URL})
	if err != nil {
		t.Fatal(err)
	}
	before := fake.Attempts()
	if _, r := guarded.Send(ctx, acct, balanceMessage()); r.Outcome != push.Failed || !strings.Contains(r.Reason, "refused") {
		t.Errorf("guarded send to loopback: %+v", r)
	}
	if fake.Attempts() != before {
		t.Error("the guarded client reached the loopback fake")
	}
}

func TestLimitsOfMessagesAMinute(t *testing.T) {
	fake := koshelektest.NewServer(t)
	fake.AddAccount(koshelektest.Account{Login: acct.Login, Password: acct.Password})
	fake.AddAccount(koshelektest.Account{Login: "other", Password: "pw"})
	ctx := context.Background()

	// Our own limit: one a minute, so the second waits its turn as a retry
	// and never reaches Кошелёк; another account has its own turn.
	slow := newClient(t, fake, 1)
	if _, r := slow.Send(ctx, acct, balanceMessage()); r.Outcome != push.Delivered {
		t.Fatalf("first: %+v", r)
	}
	_, r := slow.Send(ctx, acct, balanceMessage())
	if r.Outcome != push.Retry || r.RetryAfter < 50*time.Second || fake.Attempts() != 1 {
		t.Fatalf("second within the minute: %+v after %d attempts", r, fake.Attempts())
	}
	if _, r := slow.Send(ctx, koshelek.Account{Login: "other", Password: "pw"}, balanceMessage()); r.Outcome != push.Delivered {
		t.Fatalf("other account: %+v", r)
	}

	// Кошелёк's limit: beyond it, 429 and a retry after its Retry-After.
	now := time.Now()
	fake.Limit(2, func() time.Time { return now })
	fast := newClient(t, fake, 60000)
	var outcomes []push.Outcome
	for range 3 {
		_, r := fast.Send(ctx, koshelek.Account{Login: "other", Password: "pw"}, balanceMessage())
		outcomes = append(outcomes, r.Outcome)
		if r.Outcome == push.Retry && r.RetryAfter != time.Minute {
			t.Errorf("429 retry after %v", r.RetryAfter)
		}
	}
	// "other" sent one already within the fake's minute.
	if outcomes[0] != push.Delivered || outcomes[1] != push.Retry || outcomes[2] != push.Retry {
		t.Fatalf("outcomes = %v", outcomes)
	}
}

func TestParseCallbacks(t *testing.T) {
	tests := []struct {
		body string
		want []koshelek.Callback
		bad  bool
	}{
		{`{"messageId":"m1","state":"DELIVERED","msisdn":79161234567}`, []koshelek.Callback{{MessageID: "m1", State: "DELIVERED"}}, false},
		{`[{"messageId":"m1","status":"opened"},{"messageId":"m2","state":"DELIVERED"}]`,
			[]koshelek.Callback{{MessageID: "m1", State: "OPENED"}, {MessageID: "m2", State: "DELIVERED"}}, false},
		{`{"messageId":"m1"}`, nil, true},
		{`{"state":"DELIVERED"}`, nil, true},
		{``, nil, true},
		{`"x"`, nil, true},
	}
	for _, tt := range tests {
		got, err := koshelek.ParseCallbacks([]byte(tt.body))
		if (err != nil) != tt.bad || len(got) != len(tt.want) {
			t.Errorf("ParseCallbacks(%s) = %+v, %v", tt.body, got, err)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("ParseCallbacks(%s)[%d] = %+v", tt.body, i, got[i])
			}
		}
	}
}

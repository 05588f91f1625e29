package relay_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/loyalpass/loyalpass/internal/netguard/netguardtest"
	"github.com/loyalpass/loyalpass/push"
	"github.com/loyalpass/loyalpass/push/relay"
	"github.com/loyalpass/loyalpass/push/relay/relaytest"
)

const passType = "pass.com.example.loyalty"

// newRelays returns Relays pointed at srv; opts may add a clock or limits.
func newRelays(t *testing.T, srv *relaytest.Server, opts relay.Options) *relay.Relays {
	t.Helper()
	if opts.Vendors == nil {
		opts.Vendors = srv.Config()
	}
	if opts.Outbound == nil {
		opts.Outbound = netguardtest.Loopback() // the fake listens on loopback
	}
	r, err := relay.New(opts)
	if err != nil {
		t.Fatalf("relay.New: %v", err)
	}
	return r
}

func makeTokens(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%04d", prefix, i)
	}
	return out
}

// wantAll fails unless every result is o, for its own token, in order.
func wantAll(t *testing.T, got []push.Result, tokens []string, o push.Outcome) {
	t.Helper()
	if len(got) != len(tokens) {
		t.Fatalf("got %d results, want %d", len(got), len(tokens))
	}
	for i, r := range got {
		if r.Token != tokens[i] || r.Outcome != o {
			t.Fatalf("result %d = %+v, want token %s %v", i, r, tokens[i], o)
		}
	}
}

func TestWire(t *testing.T) {
	srv := relaytest.NewServer(t)
	r := newRelays(t, srv, relay.Options{})
	tests := []struct {
		vendor             relay.Vendor
		path               string
		authHeader, authIs string
		body               string
	}{
		{relay.WalletPasses, "/api/v1/push", "Authorization", srv.Key(relay.WalletPasses),
			`{"passTypeIdentifier":"pass.com.example.loyalty","pushTokens":["t1","t2"]}`},
		{relay.PassWallet, "/passwallet/v1/pushUpdates", "Authorization", "",
			`{"passTypeID":"pass.com.example.loyalty","pushTokens":["t1","t2"]}`},
		{relay.Pass2U, "/v2/registrations/pass.com.example.loyalty/push", "x-api-key", srv.Key(relay.Pass2U),
			`{"registrationIds":["t1","t2"]}`},
		{relay.WalletUnion, relaytest.WalletUnionPath, "Authorization", srv.Key(relay.WalletUnion),
			`{"passTypeIdentifier":"pass.com.example.loyalty","pushTokens":["t1","t2"],"hms":false}`},
		{relay.WalletUnionHMS, relaytest.WalletUnionPath, "Authorization", srv.Key(relay.WalletUnion),
			`{"passTypeIdentifier":"pass.com.example.loyalty","pushTokens":["t1","t2"],"hms":true}`},
		{relay.Passworks, "/v1/pushUpdate", "Authorization", srv.Key(relay.Passworks),
			`{"passTypeIdentifier":"pass.com.example.loyalty","pushTokens":["t1","t2"]}`},
		{relay.PassHub, "/v1/push", "Authorization", "Bearer " + srv.Key(relay.PassHub),
			`{"pass_type_id":"pass.com.example.loyalty","push_tokens":["t1","t2"]}`},
	}
	for _, tt := range tests {
		t.Run(string(tt.vendor), func(t *testing.T) {
			tokens := []string{"t1", "t2"}
			wantAll(t, r.Push(t.Context(), tt.vendor, passType, srv.PassWalletURL(), tokens), tokens, push.Delivered)
			calls := srv.Calls(tt.vendor)
			if len(calls) != 1 {
				t.Fatalf("relay got %d calls, want 1", len(calls))
			}
			c := calls[0]
			if c.Path != tt.path {
				t.Errorf("path = %s, want %s", c.Path, tt.path)
			}
			if got := c.Header.Get(tt.authHeader); got != tt.authIs {
				t.Errorf("%s = %q, want %q", tt.authHeader, got, tt.authIs)
			}
			if got := c.Header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type = %q", got)
			}
			if string(c.Body) != tt.body {
				t.Errorf("body = %s\nwant   %s", c.Body, tt.body)
			}
		})
	}
}

func TestWalletPassesWithoutKey(t *testing.T) {
	srv := relaytest.NewServer(t)
	r := newRelays(t, srv, relay.Options{Vendors: map[relay.Vendor]relay.Config{relay.WalletPasses: {BaseURL: srv.URL}}})
	tokens := []string{"t1"}
	wantAll(t, r.Push(t.Context(), relay.WalletPasses, passType, "", tokens), tokens, push.Delivered)
	if got := srv.Calls(relay.WalletPasses)[0].Header.Get("Authorization"); got != "" {
		t.Errorf("Authorization = %q, want none without a key", got)
	}
}

func TestBatching(t *testing.T) {
	tests := []struct {
		vendor relay.Vendor
		tokens int
		sizes  []int
	}{
		{relay.Pass2U, 2500, []int{1000, 1000, 500}},
		{relay.WalletUnion, 120, []int{50, 50, 20}},
		{relay.WalletUnionHMS, 2001, []int{1000, 1000, 1}},
		{relay.WalletPasses, 1200, []int{500, 500, 200}},
	}
	for _, tt := range tests {
		t.Run(string(tt.vendor), func(t *testing.T) {
			srv := relaytest.NewServer(t)
			r := newRelays(t, srv, relay.Options{})
			tokens := makeTokens(string(tt.vendor), tt.tokens)
			wantAll(t, r.Push(t.Context(), tt.vendor, passType, "", tokens), tokens, push.Delivered)
			var sizes []int
			for _, c := range srv.Calls(tt.vendor) {
				sizes = append(sizes, len(c.Tokens))
			}
			slices.Sort(sizes)
			slices.Reverse(sizes)
			if !slices.Equal(sizes, tt.sizes) {
				t.Errorf("batch sizes = %v, want %v", sizes, tt.sizes)
			}
			got := srv.Tokens(tt.vendor)
			slices.Sort(got) // batches run concurrently
			if !slices.Equal(got, tokens) {
				t.Errorf("relay received %d tokens, want each of the %d once", len(got), len(tokens))
			}
		})
	}
}

func TestSplitOn413(t *testing.T) {
	srv := relaytest.NewServer(t)
	srv.Limit(relay.Passworks, 100)
	r := newRelays(t, srv, relay.Options{})
	tokens := makeTokens("pw", 250)
	wantAll(t, r.Push(t.Context(), relay.Passworks, passType, "", tokens), tokens, push.Delivered)
	got := srv.Tokens(relay.Passworks)
	slices.Sort(got)
	if !slices.Equal(got, tokens) {
		t.Errorf("relay accepted %d tokens, want all %d after splitting", len(got), len(tokens))
	}
	for _, c := range srv.Calls(relay.Passworks) {
		if c.Status == 200 && len(c.Tokens) > 100 {
			t.Errorf("a call of %d tokens was accepted above the limit", len(c.Tokens))
		}
	}
}

func TestPassWalletFallsBackToSingleTokens(t *testing.T) {
	srv := relaytest.NewServer(t)
	srv.RefusePassWalletBatch()
	r := newRelays(t, srv, relay.Options{})
	tokens := []string{"a1", "a2", "a3"}
	wantAll(t, r.Push(t.Context(), relay.PassWallet, passType, srv.PassWalletURL()+"/", tokens), tokens, push.Delivered)
	calls := srv.Calls(relay.PassWallet)
	if len(calls) != 4 || calls[0].Status != 404 {
		t.Fatalf("calls = %d (first %d), want a refused batch and 3 singles", len(calls), calls[0].Status)
	}
	for i, c := range calls[1:] {
		want := fmt.Sprintf(`{"passTypeID":"%s","pushToken":"%s"}`, passType, tokens[i])
		if c.Path != "/passwallet/v1/pushUpdate" || string(c.Body) != want {
			t.Errorf("single %d: %s %s, want /passwallet/v1/pushUpdate %s", i, c.Path, c.Body, want)
		}
	}
}

func TestNewValidates(t *testing.T) {
	for name, cfg := range map[string]map[relay.Vendor]relay.Config{
		"unknown vendor":     {"nokia": {BaseURL: "https://x.example"}},
		"apple is no relay":  {relay.Apple: {BaseURL: "https://x.example"}},
		"relative base":      {relay.Pass2U: {BaseURL: "api.example/v2", APIKey: "k"}},
		"base with query":    {relay.Pass2U: {BaseURL: "https://api.example?x=1", APIKey: "k"}},
		"base with userinfo": {relay.Pass2U: {BaseURL: "https://u:p@api.example", APIKey: "k"}},
		"unsupported scheme": {relay.WalletUnion: {BaseURL: "ftp://wu.example/push", APIKey: "k"}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := relay.New(relay.Options{Vendors: cfg}); err == nil {
				t.Fatal("New accepted it")
			}
		})
	}
}

package fcm

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"firebase.google.com/go/v4/messaging"
	"google.golang.org/api/option"

	"github.com/loyalpass/loyalpass/push"
	"github.com/loyalpass/loyalpass/push/fcm/fcmtest"
)

const project = "loyalpass-app"

var balanceData = map[string]string{"kind": "balance", "serial": "k7q2m4xw9zt5r3ybn6vc8dh2aj", "balance": "0"}

func newTestSender(t *testing.T) (*Sender, *fcmtest.Server) {
	t.Helper()
	srv := fcmtest.NewServer(t)
	s, err := New(context.Background(), nil, project, option.WithEndpoint(srv.Endpoint()), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	return s, srv
}

// TestSendWire runs the production path against the fake: a service
// account key whose token_uri is the fake's, the OAuth exchange, the v1
// send request, and an UNREGISTERED answer in FCM's real error shape.
func TestSendWire(t *testing.T) {
	srv := fcmtest.NewServer(t)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	const email = "fcm@loyalpass-app.iam.gserviceaccount.com"
	srv.RequireServiceAccount(email, &key.PublicKey)
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	keyFile, _ := json.Marshal(map[string]string{
		"type": "service_account", "project_id": project, "private_key_id": "0123abcd",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": email, "client_id": "100000000000000000002", "token_uri": srv.TokenURL(),
	})
	s, err := New(context.Background(), keyFile, project, option.WithEndpoint(srv.Endpoint()))
	if err != nil {
		t.Fatal(err)
	}
	srv.Fail("tok-uninstalled", fcmtest.Unregistered)

	got := s.Send(context.Background(), []string{"tok-live", "tok-uninstalled"}, balanceData)
	if len(got) != 2 || got[0] != (push.Result{Token: "tok-live", Outcome: push.Delivered}) {
		t.Fatalf("results = %+v", got)
	}
	if got[1].Token != "tok-uninstalled" || got[1].Outcome != push.Gone || !strings.HasPrefix(got[1].Reason, "UNREGISTERED") {
		t.Errorf("uninstalled token = %+v, want Gone UNREGISTERED", got[1])
	}

	reqs := srv.Requests()
	if len(reqs) != 2 || srv.TokenExchanges() != 1 {
		t.Fatalf("%d sends, %d token exchanges", len(reqs), srv.TokenExchanges())
	}
	for _, r := range reqs {
		if r.Project != project || r.Header.Get("Authorization") != "Bearer ya29.fake-1" {
			t.Errorf("project %q, Authorization %q", r.Project, r.Header.Get("Authorization"))
		}
		want := fmt.Sprintf(`{"message":{"data":{"balance":"0","kind":"balance","serial":"k7q2m4xw9zt5r3ybn6vc8dh2aj"},`+
			`"android":{"priority":"high"},"token":%q}}`, r.Message.Token)
		if !sameJSON(t, r.Body, want) {
			t.Errorf("body %s\nwant %s", r.Body, want)
		}
	}
}

func TestSendMapsErrors(t *testing.T) {
	tests := []struct {
		fault      fcmtest.Fault
		want       push.Outcome
		reason     string
		retryAfter time.Duration
	}{
		{fcmtest.Unregistered, push.Gone, "UNREGISTERED", 0},
		{fcmtest.InvalidToken, push.Gone, "INVALID_ARGUMENT (token)", 0},
		{fcmtest.InvalidPayload, push.Failed, "HTTP 400", 0},
		{fcmtest.SenderIDMismatch, push.Failed, "SENDER_ID_MISMATCH", 0},
		{fcmtest.QuotaExceeded, push.Retry, "QUOTA_EXCEEDED", 30 * time.Second},
		{fcmtest.Unavailable, push.Retry, "UNAVAILABLE", 300 * time.Second},
		{fcmtest.Internal, push.Retry, "INTERNAL", 0},
		{fcmtest.Fault{Status: 401, Body: `{"error":{"code":401,"status":"UNAUTHENTICATED"}}`}, push.Failed, "HTTP 401", 0},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			s, srv := newTestSender(t)
			srv.Fail("tok-bad", tt.fault)
			got := s.Send(context.Background(), []string{"tok-bad", "tok-good"}, balanceData)
			r := got[0]
			if r.Token != "tok-bad" || r.Outcome != tt.want || !strings.HasPrefix(r.Reason, tt.reason) || r.RetryAfter != tt.retryAfter {
				t.Errorf("got %+v, want %v %q after %v", r, tt.want, tt.reason, tt.retryAfter)
			}
			if got[1].Outcome != push.Delivered {
				t.Errorf("the good token of the same batch: %+v", got[1])
			}
		})
	}
}

// countingClient counts SendEach calls on the real SDK client.
type countingClient struct {
	inner sendEacher
	mu    sync.Mutex
	sizes []int
}

func (c *countingClient) SendEach(ctx context.Context, msgs []*messaging.Message) (*messaging.BatchResponse, error) {
	c.mu.Lock()
	c.sizes = append(c.sizes, len(msgs))
	c.mu.Unlock()
	return c.inner.SendEach(ctx, msgs)
}

func TestSendSplitsIntoBatchesOf500(t *testing.T) {
	s, srv := newTestSender(t)
	counter := &countingClient{inner: s.client}
	s.client = counter
	tokens := make([]string, 600)
	for i := range tokens {
		tokens[i] = fmt.Sprintf("tok-%03d", i)
	}
	srv.Fail("tok-550", fcmtest.Unregistered)

	got := s.Send(context.Background(), tokens, balanceData)
	if fmt.Sprint(counter.sizes) != "[500 100]" {
		t.Errorf("SendEach batches = %v, want [500 100]", counter.sizes)
	}
	if len(got) != 600 || len(srv.Requests()) != 600 {
		t.Fatalf("%d results, %d requests", len(got), len(srv.Requests()))
	}
	for i, r := range got {
		want := push.Delivered
		if i == 550 {
			want = push.Gone
		}
		if r.Token != tokens[i] || r.Outcome != want {
			t.Fatalf("result %d = %+v, want %s %v", i, r, tokens[i], want)
		}
	}
}

func TestSendWithoutSending(t *testing.T) {
	s, srv := newTestSender(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, r := range s.Send(ctx, []string{"a", "b"}, balanceData) {
		if r.Outcome != push.Retry {
			t.Errorf("cancelled: %+v, want Retry", r)
		}
	}
	got := s.Send(context.Background(), []string{"", "c"}, balanceData)
	if got[0].Outcome != push.Gone || got[1].Outcome != push.Delivered {
		t.Errorf("empty token among others: %+v", got)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}

	s.client = failingClient{}
	for _, r := range s.Send(context.Background(), []string{"a"}, balanceData) {
		if r.Outcome != push.Failed || r.Reason != "refused" {
			t.Errorf("SDK refusal: %+v, want Failed", r)
		}
	}
}

type failingClient struct{}

func (failingClient) SendEach(context.Context, []*messaging.Message) (*messaging.BatchResponse, error) {
	return nil, errors.New("refused")
}

func sameJSON(t *testing.T, got []byte, want string) bool {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	return string(gb) == string(wb)
}

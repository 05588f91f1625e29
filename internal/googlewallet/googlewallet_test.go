package googlewallet

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/api/option"

	"github.com/loyalpass/loyalpass/internal/cardpass"
	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/store"
	"github.com/loyalpass/loyalpass/internal/store/storetest"
	"github.com/loyalpass/loyalpass/passes/google"
	"github.com/loyalpass/loyalpass/push"
	"github.com/loyalpass/loyalpass/push/gwallet"
	"github.com/loyalpass/loyalpass/push/gwallet/gwallettest"
)

var (
	_ Store  = StoreOf(nil)
	_ Client = (*gwallet.Client)(nil)
)

const issuerID = "3388000000022141777"

// failingMessages is the real client with AddMessage failing on demand.
type failingMessages struct {
	*gwallet.Client
	fail int
}

func (f *failingMessages) AddMessage(ctx context.Context, object google.ObjectRef, header, body string, notify gwallet.Notification) push.Result {
	if f.fail > 0 {
		f.fail--
		return push.Result{Token: object.ID, Outcome: push.Retry, Reason: "HTTP 503 backendError"}
	}
	return f.Client.AddMessage(ctx, object, header, body, notify)
}

type fixture struct {
	svc    *Service
	store  *store.Store
	wallet *gwallettest.Server
	client *failingMessages
	card   loyalty.Card
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{URL: storetest.SQLiteURL(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	m, _, err := st.Merchants().EnsureMerchant(ctx, "Кофейня", "RU")
	if err != nil {
		t.Fatal(err)
	}
	p := loyalty.Program{MerchantID: m.ID, Name: "Зерно+", CurrencyLabel: "баллы", EarnRateBP: 500, BarcodeFormat: "qr", Locale: "ru"}
	if err := st.Programs().CreateProgram(ctx, &p); err != nil {
		t.Fatal(err)
	}
	card, _, err := st.Cards().IssueCard(ctx, store.IssueCard{MerchantID: m.ID, ProgramID: p.ID, Phone: "+79123456789"})
	if err != nil {
		t.Fatal(err)
	}
	srv := gwallettest.NewServer(t)
	c, err := gwallet.New(ctx, nil, option.WithEndpoint(srv.URL+"/"), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 1024) // signing speed, not strength, matters here
	if err != nil {
		t.Fatal(err)
	}
	client := &failingMessages{Client: c}
	svc, err := New(Options{Store: StoreOf(st), Client: client, PublicURL: "https://cards.example.com",
		Key: &google.ServiceAccount{Email: "sa@p.iam.gserviceaccount.com", Key: key, IssuerID: issuerID}})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{svc: svc, store: st, wallet: srv, client: client, card: card}
}

func TestSaveURLErrors(t *testing.T) {
	tests := []struct {
		code int
		want error
	}{
		{http.StatusServiceUnavailable, ErrUnavailable},
		{http.StatusTooManyRequests, ErrUnavailable},
		{http.StatusForbidden, ErrRefused}, // the service account is not a user of the issuer
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.code), func(t *testing.T) {
			f := newFixture(t)
			f.wallet.FailNext(1, tt.code)
			if _, err := f.svc.SaveURL(context.Background(), f.card); !errors.Is(err, tt.want) {
				t.Fatalf("SaveURL = %v, want %v", err, tt.want)
			}
			if _, err := f.store.Devices().GoogleObject(context.Background(), f.card.SerialNumber); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("object recorded after a failure: %v", err)
			}
			// Google is back: the next click inserts and links.
			if u, err := f.svc.SaveURL(context.Background(), f.card); err != nil || len(u) > google.MaxSaveURLLen {
				t.Fatalf("SaveURL = %q, %v", u, err)
			}
		})
	}
}

// TestMessageRetriedAlone: when the PATCH went through but the message
// did not, the next sync sends the message (and clears the old ones)
// without notifying about the balance again.
func TestMessageRetriedAlone(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.svc.SaveURL(ctx, f.card); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.Cards().SetCardMessage(ctx, f.card.MerchantID, f.card.SerialNumber, "Скидка 10%"); err != nil {
		t.Fatal(err)
	}
	f.client.fail = 1
	if r, err := f.svc.SyncCard(ctx, f.card.SerialNumber); err != nil || r.Outcome != push.Retry {
		t.Fatalf("first sync = %+v, %v", r, err)
	}
	o, _ := f.store.Devices().GoogleObject(ctx, f.card.SerialNumber)
	if o.Message != "" || o.CardVersion != 2 {
		t.Fatalf("after the failed message: %+v", o)
	}
	seen := len(f.wallet.Requests())
	if r, err := f.svc.SyncCard(ctx, f.card.SerialNumber); err != nil || r.Outcome != push.Delivered {
		t.Fatalf("retry = %+v, %v", r, err)
	}
	rs := f.wallet.Requests()[seen:]
	if len(rs) != 2 || rs[0].Method != "PATCH" || rs[0].JSON()["notifyPreference"] != nil || rs[1].Path[len(rs[1].Path)-len("addMessage"):] != "addMessage" {
		t.Fatalf("retry sent %d requests: %+v", len(rs), rs)
	}
	if obj, _ := f.wallet.Object(issuerID + "." + f.card.SerialNumber); len(obj["messages"].([]any)) != 1 {
		t.Fatalf("messages = %v", obj["messages"])
	}
	if r, _ := f.svc.SyncCard(ctx, f.card.SerialNumber); r.Reason != "current" {
		t.Fatalf("third sync = %+v, want nothing to do", r)
	}
	sent, _ := f.store.Devices().GoogleNotifications(ctx, f.card.SerialNumber, time.Now().Add(-time.Hour))
	if len(sent) != 1 {
		t.Fatalf("%d notifications recorded, want the message's 1", len(sent))
	}
}

// TestObjectCarriesTheReferralLink: a card of a program that pays for
// referrals gets its referral link in its Google object, as a text
// module and as a tappable link, the same link its Apple pass shows.
func TestObjectCarriesTheReferralLink(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p := loyalty.Program{MerchantID: f.card.MerchantID, Name: "Друзья", CurrencyLabel: "баллы", EarnRateBP: 500,
		BarcodeFormat: "qr", Locale: "ru", Referral: loyalty.ReferralTerms{ReferrerPoints: 100, FriendPoints: 50}}
	if err := f.store.Programs().CreateProgram(ctx, &p); err != nil {
		t.Fatal(err)
	}
	card, _, err := f.store.Cards().IssueCard(ctx, store.IssueCard{MerchantID: p.MerchantID, ProgramID: p.ID, Phone: "+79123456780"})
	if err != nil {
		t.Fatal(err)
	}
	code, err := f.store.Referrals().Code(ctx, card.SerialNumber)
	if err != nil {
		t.Fatalf("no referral code: %v", err)
	}
	f.svc.referrals = cardpass.NewReferrals(f.store.Referrals(), "https://k.example.ru/")
	if _, err := f.svc.SaveURL(ctx, card); err != nil {
		t.Fatal(err)
	}
	obj, ok := f.wallet.Object(issuerID + "." + card.SerialNumber)
	if !ok {
		t.Fatal("no object inserted")
	}
	link := "https://k.example.ru/r/" + code
	links, _ := obj["linksModuleData"].(map[string]any)
	uris, _ := links["uris"].([]any)
	if len(uris) != 1 || uris[0].(map[string]any)["uri"] != link {
		t.Fatalf("links module %v, want the one link %s", obj["linksModuleData"], link)
	}
	found := false
	for _, m := range obj["textModulesData"].([]any) {
		found = found || strings.HasSuffix(m.(map[string]any)["body"].(string), link)
	}
	if !found {
		t.Errorf("no text module ends with the link: %v", obj["textModulesData"])
	}
}

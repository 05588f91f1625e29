package delivery_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"log/slog"
	"sync"
	"testing"
	"time"

	"google.golang.org/api/option"

	"github.com/loyalpass/loyalpass/internal/api"
	"github.com/loyalpass/loyalpass/internal/cardpass"
	"github.com/loyalpass/loyalpass/internal/delivery"
	"github.com/loyalpass/loyalpass/internal/googlewallet"
	"github.com/loyalpass/loyalpass/passes"
	"github.com/loyalpass/loyalpass/passes/google"
	"github.com/loyalpass/loyalpass/passes/google/googletest"
	"github.com/loyalpass/loyalpass/push/fcm"
	"github.com/loyalpass/loyalpass/push/fcm/fcmtest"
	"github.com/loyalpass/loyalpass/push/gwallet"
	"github.com/loyalpass/loyalpass/push/gwallet/gwallettest"
)

const testIssuerID = "3388000000022141777"

var (
	_ delivery.GoogleWallet = (*googlewallet.Service)(nil)
	_ delivery.FCMSender    = (*fcm.Sender)(nil)
)

// saKey is one service-account RSA key for the test binary: generating
// one per test is slow.
var saKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// googleWorld is the test world with Google Wallet and FCM on: the server
// and the worker talk to gwallettest and fcmtest over HTTP, and Google's
// callbacks are signed by keys the world holds.
type googleWorld struct {
	*world
	wallet  *gwallettest.Server
	fcm     *fcmtest.Server
	account *google.ServiceAccount
	signer  *googletest.Signer
	svc     *googlewallet.Service
}

// newGoogleWorld builds the world; wrap, when set, stands between the
// worker and the real FCM sender.
func newGoogleWorld(t *testing.T, wrap func(delivery.FCMSender) delivery.FCMSender) *googleWorld {
	t.Helper()
	w := newWorld(t, 5*time.Second)
	ctx := context.Background()
	fakeWallet := gwallettest.NewServer(t)
	client, err := gwallet.New(ctx, nil, option.WithEndpoint(fakeWallet.URL+"/"), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	account := &google.ServiceAccount{Email: "loyalpass@test-project.iam.gserviceaccount.com", PrivateKeyID: "key-1",
		Key: saKey(), IssuerID: testIssuerID}
	log := slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	svc, err := googlewallet.New(googlewallet.Options{Store: googlewallet.StoreOf(w.store), Client: client, Key: account,
		PublicURL: "https://cards.example.com", Origins: []string{"https://shop.example"}, Now: w.clock.Now, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	signer, err := googletest.NewSigner()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := google.ParseRootKeys(signer.KeysDoc(w.clock.Now().Add(30 * 24 * time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	fakeFCM := fcmtest.NewServer(t)
	sender, err := fcm.New(ctx, nil, "loyalpass-test", option.WithEndpoint(fakeFCM.Endpoint()), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	var fcmSender delivery.FCMSender = sender
	if wrap != nil {
		fcmSender = wrap(sender)
	}

	_, material := devChain(t)
	srv := api.New(api.Options{Stores: api.StoresOf(w.store), PublicURL: "https://cards.example.com", PassTypeID: material.PassTypeID,
		Log: log, Passes: cardpass.New(cardpass.StoreOf(w.store), passes.NewRenderer(material, "https://cards.example.com/wallet"), nil),
		Google: svc, GoogleCallbacks: google.CallbackVerifier{IssuerID: testIssuerID, Keys: keys, Now: w.clock.Now}, FCM: true})
	w.http = srv.Handler()
	w.worker = delivery.New(delivery.Options{Store: delivery.StoreOf(w.store), Google: svc, FCM: fcmSender, PassTypeID: material.PassTypeID,
		Log: log, MaxAttempts: 3, Backoff: func(int) time.Duration { return time.Minute }, Now: w.clock.Now})
	return &googleWorld{world: w, wallet: fakeWallet, fcm: fakeFCM, account: account, signer: signer, svc: svc}
}

// balance reads a card's balance through the API.
func (w *googleWorld) balance(serial string) int64 {
	w.t.Helper()
	return int64(w.merchant("GET", "/api/v1/cards/"+serial, "", "")["balance"].(float64))
}

// walletCalls returns the fake's requests after the first skip.
func (w *googleWorld) walletCalls(skip int) []gwallettest.Request {
	return w.wallet.Requests()[skip:]
}

// callback returns the body Google posts for an event on a card's object,
// signed by signer.
func callback(signer *googletest.Signer, serial, programID, event, nonce string, now time.Time) []byte {
	return signer.Callback(googletest.Event{IssuerID: testIssuerID, ClassID: testIssuerID + "." + programID,
		ObjectID: testIssuerID + "." + serial, EventType: event, Nonce: nonce, Expires: now.Add(time.Minute)})
}

package delivery_test

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"image/png"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/loyalpass/loyalpass/internal/delivery"
	"github.com/loyalpass/loyalpass/passes/passcheck"
	"github.com/loyalpass/loyalpass/push/apns"
)

// newKindsWorld is the Google world with Apple Wallet on as well: the
// worker pushes to the fake APNs and patches the fake Google Wallet.
func newKindsWorld(t *testing.T) *googleWorld {
	t.Helper()
	w := newGoogleWorld(t, nil)
	_, material := devChain(t)
	cert := material.TLSCertificate()
	apple, err := apns.New(apns.Options{Certificate: &cert, Topic: material.PassTypeID, Host: w.apns.URL,
		RootCAs: w.apns.CertPool(), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	w.worker = delivery.New(delivery.Options{Store: delivery.StoreOf(w.store), Apple: apple, Google: w.svc,
		PassTypeID: material.PassTypeID, Log: log, MaxAttempts: 3, Backoff: func(int) time.Duration { return time.Minute },
		Now: w.clock.Now})
	return w
}

// kindCase is one program kind's journey: the program, its transactions
// (each the body of one POST, all expected to succeed), then what the
// re-rendered pass and Google's object must show.
type kindCase struct {
	name     string
	program  string
	issue    string // extra fields of the issue body
	txns     []string
	refusals map[string]string // a body → the 409 code it must get after txns
	vertical string            // the Google resource kind of the object
	pass     func(t *testing.T, pass map[string]any)
	google   func(t *testing.T, w *googleWorld, obj map[string]any)
}

// TestEveryKindEndToEnd: for each kind, create the program, issue a card,
// install it on an Apple device and in Google Wallet, post its
// transactions, and follow the change: the re-rendered pass passes
// passcheck and openssl cms -verify and shows the new state, the push
// reaches the fake APNs, and the fake Google Wallet holds the right
// resource type with the new state.
func TestEveryKindEndToEnd(t *testing.T) {
	cases := []kindCase{{
		name:    "stamps",
		program: `{"name":"Кофе","kind":"stamps","stamps_required":3,"reward":"Кофе в подарок"}`,
		// 2 stamps; 4 make a reward and leave 1; the reward is used; 4
		// again make one and leave 1.
		txns: []string{`{"kind":"stamp","count":2}`, `{"kind":"stamp","count":2}`, `{"kind":"redeem_reward"}`,
			`{"kind":"stamp","count":3}`},
		refusals: map[string]string{`{"kind":"spend","amount":1}`: ""},
		vertical: "loyaltyObject",
		pass: func(t *testing.T, pass map[string]any) {
			sec := fields(t, pass, "storeCard", "secondaryFields")
			if sec["stamps"]["value"] != "1 из 3" || sec["rewards"]["value"] != 1.0 {
				t.Errorf("stamp card shows %v", sec)
			}
		},
		google: func(t *testing.T, w *googleWorld, obj map[string]any) {
			pts := obj["loyaltyPoints"].(map[string]any)["balance"].(map[string]any)
			rewards := obj["secondaryLoyaltyPoints"].(map[string]any)["balance"].(map[string]any)
			hero := obj["heroImage"].(map[string]any)["sourceUri"].(map[string]any)["uri"].(string)
			if pts["string"] != "1/3" || rewards["int"] != 1.0 || !strings.HasSuffix(hero, "/1-of-3.png") {
				t.Errorf("Google shows %v, rewards %v, hero %s", pts, rewards, hero)
			}
			// Google fetches the hero from us: a PNG of the stamps.
			rec := w.do("GET", strings.TrimPrefix(hero, "https://cards.example.com"), nil, "")
			if rec.Code != http.StatusOK {
				t.Fatalf("hero %s = %d %s", hero, rec.Code, rec.Body.String())
			}
			if img, err := png.Decode(bytes.NewReader(rec.Body.Bytes())); err != nil || img.Bounds().Dx() != 1032 {
				t.Errorf("hero image: %v", err)
			}
		},
	}, {
		name: "discount",
		program: `{"name":"Скидки","kind":"discount","discount_percent":5,"tiers":[{"code":"base","name":"Базовый"},` +
			`{"code":"gold","name":"Золотой","threshold":1000000,"discount_percent":10}]}`,
		txns:     []string{`{"kind":"purchase","purchase_amount":1000000}`},
		refusals: map[string]string{},
		vertical: "loyaltyObject",
		pass: func(t *testing.T, pass map[string]any) {
			if v := fields(t, pass, "storeCard", "primaryFields")["discount"]["value"]; v != "10%" {
				t.Errorf("discount on the pass %v", v)
			}
			if v := fields(t, pass, "storeCard", "headerFields")["tier"]["value"]; v != "Золотой" {
				t.Errorf("tier on the pass %v", v)
			}
		},
		google: func(t *testing.T, w *googleWorld, obj map[string]any) {
			if b := obj["loyaltyPoints"].(map[string]any)["balance"].(map[string]any); b["string"] != "10%" {
				t.Errorf("Google shows %v", b)
			}
		},
	}, {
		name:     "coupon",
		program:  `{"name":"Купон","kind":"coupon","offer":"−20% на всё","valid_days":30}`,
		txns:     []string{`{"kind":"redeem_coupon"}`},
		refusals: map[string]string{`{"kind":"redeem_coupon"}`: "coupon_redeemed"},
		vertical: "offerObject",
		pass: func(t *testing.T, pass map[string]any) {
			exp, _ := time.Parse(time.RFC3339, pass["expirationDate"].(string))
			if pass["voided"] != true || time.Until(exp) < 29*24*time.Hour {
				t.Errorf("redeemed coupon: voided %v, expirationDate %v", pass["voided"], pass["expirationDate"])
			}
			if v := fields(t, pass, "coupon", "primaryFields")["offer"]["value"]; v != "−20% на всё" {
				t.Errorf("offer %v", v)
			}
		},
		google: func(t *testing.T, w *googleWorld, obj map[string]any) {
			end := obj["validTimeInterval"].(map[string]any)["end"].(map[string]any)["date"]
			if obj["state"] != "COMPLETED" || end == nil {
				t.Errorf("Google offer state %v, valid until %v", obj["state"], end)
			}
		},
	}, {
		name:     "gift",
		program:  `{"name":"Сертификат","kind":"gift","currency":"RUB"}`,
		issue:    `,"initial_amount":300000`,
		txns:     []string{`{"kind":"spend","amount":120000}`, `{"kind":"spend","amount":180000}`},
		refusals: map[string]string{`{"kind":"spend","amount":1}`: "insufficient_funds"},
		vertical: "giftCardObject",
		pass: func(t *testing.T, pass map[string]any) {
			b := fields(t, pass, "storeCard", "primaryFields")["balance"]
			if b["value"] != 0.0 || b["currencyCode"] != "RUB" {
				t.Errorf("gift balance on the pass %v", b)
			}
		},
		google: func(t *testing.T, w *googleWorld, obj map[string]any) {
			if b := obj["balance"].(map[string]any); b["micros"] != "0" || b["currencyCode"] != "RUB" {
				t.Errorf("Google gift balance %v", b)
			}
		},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newKindsWorld(t)
			prog := w.merchant("POST", "/api/v1/programs", tc.program, "")["id"].(string)
			card := w.merchant("POST", "/api/v1/programs/"+prog+"/cards", `{"phone":"+79123456789"`+tc.issue+`}`, "")
			serial := card["serial_number"].(string)
			p := &phone{w: w.world, device: "iphone", scheme: "ApplePass", regPath: "registrations", token: strings.Repeat("cd", 32)}
			rec := w.do("GET", "/api/v1/cards/"+serial+"/pass.pkpass", map[string]string{"Authorization": "Bearer " + w.key}, "")
			authToken := passJSON(t, rec.Body.Bytes())["authenticationToken"].(string)
			if code := p.register(serial, authToken); code != http.StatusCreated {
				t.Fatalf("register = %d", code)
			}
			p.changed()
			if code, _ := p.fetch(serial, authToken); code != 200 {
				t.Fatalf("first fetch = %d", code)
			}
			// Google Wallet: the save link inserts the class and object of
			// the program's vertical and names it in the JWT.
			link := strings.TrimPrefix(card["google_save_url"].(string), "https://cards.example.com")
			saved := w.do("GET", link, nil, "")
			if saved.Code != http.StatusFound {
				t.Fatalf("save link = %d %s", saved.Code, saved.Body.String())
			}
			claims := jwt.MapClaims{}
			jwt.NewParser().ParseUnverified(strings.TrimPrefix(saved.Header().Get("Location"), "https://pay.google.com/gp/v/save/"), claims)
			payloadKey := tc.vertical + "s"
			if objs, _ := claims["payload"].(map[string]any)[payloadKey].([]any); len(objs) != 1 {
				t.Fatalf("save JWT payload %v has no %s", claims["payload"], payloadKey)
			}
			objectID := testIssuerID + "." + serial
			if _, ok := w.wallet.Resource(tc.vertical, objectID); !ok {
				t.Fatalf("Google holds no %s %s", tc.vertical, objectID)
			}
			w.drain()
			pushes := len(w.apns.Requests())

			for i, body := range tc.txns {
				w.merchant("POST", "/api/v1/cards/"+serial+"/transactions", body, tc.name+"-"+string(rune('a'+i)))
			}
			for body, code := range tc.refusals {
				rec := w.do("POST", "/api/v1/cards/"+serial+"/transactions", map[string]string{"Authorization": "Bearer " + w.key,
					"Content-Type": "application/json", "Idempotency-Key": "refused-" + body}, body)
				var e struct{ Error struct{ Code string } }
				json.Unmarshal(rec.Body.Bytes(), &e)
				if code != "" && (rec.Code != http.StatusConflict || e.Error.Code != code) {
					t.Errorf("%s = %d %s, want 409 %s", body, rec.Code, e.Error.Code, code)
				}
				if code == "" && rec.Code < 400 {
					t.Errorf("%s was accepted", body)
				}
			}
			w.drain()

			// The push reached the fake APNs, for the registered device.
			reqs := w.apns.Requests()
			if len(reqs) <= pushes || reqs[len(reqs)-1].Token != p.token || string(reqs[len(reqs)-1].Body) != "{}" {
				t.Fatalf("APNs got %d pushes after %d: %+v", len(reqs), pushes, reqs)
			}
			// The device asks what changed and downloads the new pass.
			if code, serials := p.changed(); code != 200 || len(serials) != 1 || serials[0] != serial {
				t.Fatalf("changed = %d %v", code, serials)
			}
			code, pkpass := p.fetch(serial, authToken)
			if code != 200 {
				t.Fatalf("fetch after the change = %d", code)
			}
			rep := passcheck.Check(pkpass, passcheck.Options{Roots: rootPool(t, w.files.Root), PassTypeID: w.typeID})
			if !rep.OK() {
				t.Errorf("passcheck: %v", rep.Problems)
			}
			verifyWithOpenSSL(t, pkpass, w.files.Root)
			tc.pass(t, passJSON(t, pkpass))

			// Google holds the right resource with the new state.
			obj, ok := w.wallet.Resource(tc.vertical, objectID)
			if !ok {
				t.Fatalf("no %s at Google", tc.vertical)
			}
			tc.google(t, w, obj)
			last := w.wallet.Requests()[len(w.wallet.Requests())-1]
			if last.Method != "PATCH" || !strings.Contains(last.Path, "/"+tc.vertical+"/") {
				t.Errorf("last Google call %s %s", last.Method, last.Path)
			}
		})
	}
}

// fields returns a style's field group of a pass by key.
func fields(t *testing.T, pass map[string]any, style, group string) map[string]map[string]any {
	t.Helper()
	s, ok := pass[style].(map[string]any)
	if !ok {
		t.Fatalf("pass is not a %s: %v", style, pass)
	}
	out := map[string]map[string]any{}
	list, _ := s[group].([]any)
	for _, f := range list {
		m := f.(map[string]any)
		out[m["key"].(string)] = m
	}
	return out
}

func rootPool(t *testing.T, file string) *x509.CertPool {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	block, _ := pem.Decode(b)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	pool.AddCert(cert)
	return pool
}

// TestCouponExpiryReachesGoogle: a coupon nobody used lapses at its date;
// the expiry job takes it like any lapsed lot, and the change reaches
// Google as an EXPIRED offer (Google would move it within a day anyway).
func TestCouponExpiryReachesGoogle(t *testing.T) {
	w := newKindsWorld(t)
	prog := w.merchant("POST", "/api/v1/programs", `{"name":"Купон","kind":"coupon","offer":"−20%","valid_days":7}`, "")["id"].(string)
	card := w.merchant("POST", "/api/v1/programs/"+prog+"/cards", `{"phone":"+79123456789"}`, "")
	serial := card["serial_number"].(string)
	if rec := w.do("GET", strings.TrimPrefix(card["google_save_url"].(string), "https://cards.example.com"), nil, ""); rec.Code != http.StatusFound {
		t.Fatalf("save link = %d", rec.Code)
	}
	w.drain()
	w.clock.Advance(7*24*time.Hour + time.Minute)
	n, _, err := w.store.Cards().ExpirePoints(t.Context(), w.clock.Now(), 100)
	if err != nil || n != 1 {
		t.Fatalf("ExpirePoints = %d, %v", n, err)
	}
	w.drain()
	obj, _ := w.wallet.Resource("offerObject", testIssuerID+"."+serial)
	if obj["state"] != "EXPIRED" {
		t.Errorf("Google offer state %v, want EXPIRED", obj["state"])
	}
	c := w.merchant("GET", "/api/v1/cards/"+serial, "", "")
	if c["coupon_state"] != "expired" || c["balance"] != 0.0 {
		t.Errorf("card after its date: %v", c)
	}
}

package delivery_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/loyalpass/loyalpass/passes/google"
	"github.com/loyalpass/loyalpass/push/gwallet/gwallettest"
)

// lastPatch returns the last PATCH of the object among the fake's requests.
func lastPatch(t *testing.T, rs []gwallettest.Request, objectID string) gwallettest.Request {
	t.Helper()
	for i := len(rs) - 1; i >= 0; i-- {
		if rs[i].Method == "PATCH" && rs[i].Path == "/walletobjects/v1/loyaltyObject/"+objectID {
			return rs[i]
		}
	}
	t.Fatalf("no PATCH of %s among %d requests", objectID, len(rs))
	return gwallettest.Request{}
}

// shownBalance is the balance the fake Google holds for the object.
func shownBalance(t *testing.T, srv *gwallettest.Server, objectID string) any {
	t.Helper()
	o, ok := srv.Object(objectID)
	if !ok {
		t.Fatalf("object %s is not at Google", objectID)
	}
	return o["loyaltyPoints"].(map[string]any)["balance"].(map[string]any)["int"]
}

// TestGoogleWalletFollowsTheLedger runs a card through the whole Google
// path against the fake Wallet API: the save link inserts class and
// object and redirects to a verifiable skinny JWT; every earn and redeem
// is PATCHed with the new balance (zero included), visibly 3 times a day
// and silently beyond; a 503 is retried through the outbox; messages
// become Wallet messages.
func TestGoogleWalletFollowsTheLedger(t *testing.T) {
	w := newGoogleWorld(t, nil)
	serial, authToken := w.issue("+79123456789")
	prog := w.merchant("GET", "/api/v1/cards/"+serial, "", "")["program_id"].(string)
	objectID, classID := testIssuerID+"."+serial, testIssuerID+"."+prog

	// The card's JSON carries its save link, which needs the card's token.
	link := w.merchant("GET", "/api/v1/cards/"+serial, "", "")["google_save_url"].(string)
	if want := "https://cards.example.com/google/save/" + serial + "?t="; !strings.HasPrefix(link, want) {
		t.Fatalf("google_save_url = %q", link)
	}
	for _, bad := range []string{"/google/save/" + serial + "?t=wrong", "/google/save/" + serial, "/google/save/nosuchcard?t=" + authToken} {
		if rec := w.do("GET", bad, nil, ""); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", bad, rec.Code)
		}
	}
	if n := len(w.wallet.Requests()); n != 0 {
		t.Fatalf("refused links called Google %d times", n)
	}

	// First save: class and object inserted, then a 302 to Google.
	rec := w.do("GET", strings.TrimPrefix(link, "https://cards.example.com"), nil, "")
	if rec.Code != http.StatusFound {
		t.Fatalf("save link = %d %s", rec.Code, rec.Body.String())
	}
	saveURL := rec.Header().Get("Location")
	t.Logf("save URL: %d characters (limit %d)", len(saveURL), google.MaxSaveURLLen)
	if !strings.HasPrefix(saveURL, google.SaveURLPrefix) || len(saveURL) >= google.MaxSaveURLLen {
		t.Fatalf("Location = %q (%d characters)", saveURL, len(saveURL))
	}
	claims := jwt.MapClaims{}
	tok, err := jwt.ParseWithClaims(strings.TrimPrefix(saveURL, google.SaveURLPrefix), claims,
		func(*jwt.Token) (any, error) { return &saKey().PublicKey, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(w.account.Email), jwt.WithAudience("google"),
		jwt.WithIssuedAt(), jwt.WithTimeFunc(w.clock.Now))
	if err != nil {
		t.Fatalf("save JWT does not verify with the service account's public key: %v", err)
	}
	payload := claims["payload"].(map[string]any)
	objects := payload["loyaltyObjects"].([]any)
	if tok.Header["kid"] != "key-1" || claims["typ"] != "savetowallet" || claims["iat"] != float64(w.clock.Now().Unix()) ||
		len(payload) != 1 || len(objects) != 1 || objects[0].(map[string]any)["id"] != objectID ||
		len(claims["origins"].([]any)) != 1 || claims["origins"].([]any)[0] != "https://shop.example" {
		t.Fatalf("JWT header %v claims %v", tok.Header, claims)
	}
	got := calls(w.wallet.Requests())
	want := []string{"GET /walletobjects/v1/loyaltyClass/" + classID, "POST /walletobjects/v1/loyaltyClass",
		"POST /walletobjects/v1/loyaltyObject"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("first save called\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if rs := w.wallet.Requests(); rs[1].JSON()["reviewStatus"] != "UNDER_REVIEW" ||
		rs[1].JSON()["callbackOptions"].(map[string]any)["url"] != "https://cards.example.com/hooks/google" {
		t.Errorf("class sent as %s", rs[1].Body)
	}
	// Google fetches the class's logo from us.
	logo := w.wallet.Requests()[1].JSON()["programLogo"].(map[string]any)["sourceUri"].(map[string]any)["uri"].(string)
	if rec := w.do("GET", strings.TrimPrefix(logo, "https://cards.example.com"), nil, ""); rec.Code != http.StatusOK ||
		rec.Header().Get("Content-Type") != "image/png" || !strings.HasPrefix(rec.Body.String(), "\x89PNG") {
		t.Errorf("logo %s = %d %s", logo, rec.Code, rec.Header().Get("Content-Type"))
	}
	if b := shownBalance(t, w.wallet, objectID); b != 0.0 { // a new card: zero, sent as {"int":0}
		t.Fatalf("inserted balance = %v", b)
	}
	// A second save needs no call: the object is there.
	if rec := w.do("GET", strings.TrimPrefix(link, "https://cards.example.com"), nil, ""); rec.Code != http.StatusFound {
		t.Fatal(rec.Code)
	}
	if n := len(w.wallet.Requests()); n != 3 {
		t.Fatalf("second save made %d calls in all, want the 3 of the first", n)
	}

	// Earns: PATCHed with the new balance; 3 visible in 24 h, then silent.
	for i := 1; i <= 4; i++ {
		seen := len(w.wallet.Requests())
		w.earn(serial, "earn-"+strconv.Itoa(i), "10000")
		w.drain()
		p := lastPatch(t, w.walletCalls(seen), objectID)
		balance := w.balance(serial)
		if got := p.JSON()["loyaltyPoints"].(map[string]any)["balance"].(map[string]any)["int"]; got != float64(balance) {
			t.Errorf("earn %d: PATCH balance %v, card %d", i, got, balance)
		}
		notify, visible := p.JSON()["notifyPreference"], i <= 3
		if (notify == "NOTIFY_ON_UPDATE") != visible {
			t.Errorf("earn %d: notifyPreference %v, want visible=%v", i, notify, visible)
		}
		if b := shownBalance(t, w.wallet, objectID); b != float64(balance) {
			t.Errorf("earn %d: Google shows %v, card has %d", i, b, balance)
		}
		w.clock.Advance(time.Hour)
	}

	// Spending everything: the zero balance goes out, not "balance":{}.
	seen := len(w.wallet.Requests())
	w.merchant("POST", "/api/v1/cards/"+serial+"/transactions",
		`{"kind":"redeem","points":`+strconv.FormatInt(w.balance(serial), 10)+`}`, "redeem-all")
	w.drain()
	if p := lastPatch(t, w.walletCalls(seen), objectID); !strings.Contains(string(p.Body), `"balance":{"int":0}`) {
		t.Errorf("zero balance PATCH body: %s", p.Body)
	}
	if b := shownBalance(t, w.wallet, objectID); b != 0.0 {
		t.Errorf("Google shows %v after redeeming everything", b)
	}

	// A day after the third notification the budget is back.
	w.clock.Advance(23 * time.Hour)
	seen = len(w.wallet.Requests())
	w.earn(serial, "earn-next-day", "10000")
	w.drain()
	if p := lastPatch(t, w.walletCalls(seen), objectID); p.JSON()["notifyPreference"] != "NOTIFY_ON_UPDATE" {
		t.Errorf("next day: notifyPreference %v", p.JSON()["notifyPreference"])
	}

	// Google answers 503: the change waits in the outbox and goes out on
	// the retry.
	w.wallet.FailNext(1, http.StatusServiceUnavailable)
	w.earn(serial, "earn-503", "10000")
	w.drain()
	pendingRetries := func() (n int) {
		w.db.QueryRow(`SELECT COUNT(*) FROM outbox WHERE topic = 'push.retry' AND serial_number = ?
			AND payload LIKE '%"channel":"google"%' AND done_at IS NULL AND NOT dead`, serial).Scan(&n)
		return n
	}
	if n := pendingRetries(); n != 1 {
		t.Fatalf("%d google retries pending after a 503, want 1", n)
	}
	if b := shownBalance(t, w.wallet, objectID); b == float64(w.balance(serial)) {
		t.Fatal("the balance reached Google through a 503")
	}
	w.clock.Advance(2 * time.Minute) // past the back-off
	w.drain()
	if n := pendingRetries(); n != 0 {
		t.Fatalf("%d google retries still pending", n)
	}
	if b := shownBalance(t, w.wallet, objectID); b != float64(w.balance(serial)) {
		t.Fatalf("after the retry Google shows %v, card has %d", b, w.balance(serial))
	}

	// Lock-screen messages become Wallet messages; the object keeps only
	// the current one. Two visible notifications are spent today, so the
	// first message notifies and the second is silent.
	for i, text := range []string{"Двойные баллы до воскресенья!", "Скидка 10% на десерты"} {
		w.merchant("POST", "/api/v1/cards/"+serial+"/messages", `{"text":"`+text+`"}`, "")
		w.drain()
		o, _ := w.wallet.Object(objectID)
		msgs, _ := o["messages"].([]any)
		if len(msgs) != 1 || msgs[0].(map[string]any)["body"] != text {
			t.Fatalf("message %d: object messages = %v", i, msgs)
		}
		wantType := []string{"TEXT_AND_NOTIFY", "TEXT"}[i]
		if typ := msgs[0].(map[string]any)["messageType"]; typ != wantType {
			t.Errorf("message %d: type %v, want %s", i, typ, wantType)
		}
	}
	if n := w.wallet.Notified(objectID); n != 1 {
		t.Errorf("Google counted %d notifying messages, want 1", n)
	}
}

// TestGoogleWalletProgramChange renames a program: the class is patched
// (as UNDER_REVIEW, though Google approved it) and so is the object.
func TestGoogleWalletProgramChange(t *testing.T) {
	w := newGoogleWorld(t, nil)
	serial, authToken := w.issue("+79123456789")
	prog := w.merchant("GET", "/api/v1/cards/"+serial, "", "")["program_id"].(string)
	if rec := w.do("GET", "/google/save/"+serial+"?t="+authToken, nil, ""); rec.Code != http.StatusFound {
		t.Fatal(rec.Code)
	}
	seen := len(w.wallet.Requests())
	w.merchant("PATCH", "/api/v1/programs/"+prog, `{"name":"Зерно+","currency_label":"бонусы"}`, "")
	w.drain()
	got := calls(w.walletCalls(seen))
	classPath, objectPath := "/walletobjects/v1/loyaltyClass/"+testIssuerID+"."+prog, "/walletobjects/v1/loyaltyObject/"+testIssuerID+"."+serial
	want := []string{"GET " + classPath, "PATCH " + classPath, "PATCH " + objectPath}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("program change called\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	rs := w.walletCalls(seen)
	if c := rs[1].JSON(); c["reviewStatus"] != "UNDER_REVIEW" || c["programName"] != "Зерно+" {
		t.Errorf("class patched as %s", rs[1].Body)
	}
	if p := rs[2].JSON(); p["loyaltyPoints"].(map[string]any)["label"] != "бонусы" || p["notifyPreference"] != nil {
		t.Errorf("object patch = %s", rs[2].Body)
	}
	// Nothing more to do: another round calls nothing.
	w.drain()
	if n := len(w.wallet.Requests()); n != seen+3 {
		t.Errorf("%d more calls after the change was synced", n-seen-3)
	}
}

// TestGoogleWalletGivesUp keeps Google failing: the change becomes a dead
// letter after MaxAttempts (3) and shows in the API.
func TestGoogleWalletGivesUp(t *testing.T) {
	w := newGoogleWorld(t, nil)
	serial, authToken := w.issue("+79123456789")
	if rec := w.do("GET", "/google/save/"+serial+"?t="+authToken, nil, ""); rec.Code != http.StatusFound {
		t.Fatal(rec.Code)
	}
	w.wallet.FailNext(100, http.StatusServiceUnavailable)
	w.earn(serial, "earn", "10000")
	w.drain()
	for range 3 {
		w.clock.Advance(2 * time.Minute)
		w.drain()
	}
	letters := w.merchant("GET", "/api/v1/dead-letters", "", "")["dead_letters"].([]any)
	if len(letters) != 1 || letters[0].(map[string]any)["serial_number"] != serial ||
		!strings.Contains(letters[0].(map[string]any)["last_error"].(string), "503") {
		t.Fatalf("dead letters = %v", letters)
	}
	// Google unavailable at save time: 503 with Retry-After, no redirect.
	other, otherToken := w.issue("+79123456780")
	rec := w.do("GET", "/google/save/"+other+"?t="+otherToken, nil, "")
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("save while Google is down = %d %v", rec.Code, rec.Header())
	}
}

// calls lists "METHOD path" of the fake's requests.
func calls(rs []gwallettest.Request) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Method + " " + r.Path
	}
	return out
}

package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/passes/google"
	"github.com/loyalpass/loyalpass/passes/google/googletest"
	"github.com/loyalpass/loyalpass/push/fcm/fcmtest"
	"github.com/loyalpass/loyalpass/push/gwallet/gwallettest"
)

// serviceAccountFile writes a service-account key file whose token_uri is
// a fake's, as the Cloud console would (with Google's token URL).
func serviceAccountFile(t *testing.T, dir, name, email, tokenURI string, key *rsa.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]string{"type": "service_account", "project_id": "loyalpass-test",
		"private_key_id": "k1", "private_key": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": email, "client_id": "1", "token_uri": tokenURI})
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// waitFor polls cond until it holds or 10 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestServeWithGoogleWalletAndFCM runs serve configured for Google Wallet
// and FCM against the fakes, with the service-account OAuth exchange on
// both: a save link inserts and redirects, an earn reaches the Wallet
// object and the app's token, and Google's signed save callback counts
// as an install.
func TestServeWithGoogleWalletAndFCM(t *testing.T) {
	dir, data := t.TempDir(), t.TempDir()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	const issuer, walletEmail, fcmEmail = "3388000000022141777", "wallet@loyalpass-test.iam.gserviceaccount.com", "fcm@loyalpass-test.iam.gserviceaccount.com"
	wallet, push := gwallettest.NewServer(t), fcmtest.NewServer(t)
	wallet.RequireServiceAccount(walletEmail, &key.PublicKey)
	push.RequireServiceAccount(fcmEmail, &key.PublicKey)
	signer, err := googletest.NewSigner()
	if err != nil {
		t.Fatal(err)
	}
	keysFile := filepath.Join(dir, "root-keys.json")
	os.WriteFile(keysFile, signer.KeysDoc(time.Now().Add(30*24*time.Hour)), 0o600)
	for k, v := range map[string]string{
		"LOYALPASS_DEMO":                        "false",
		"LOYALPASS_GOOGLE_SERVICE_ACCOUNT_FILE": serviceAccountFile(t, dir, "wallet.json", walletEmail, wallet.TokenURL(), key),
		"LOYALPASS_GOOGLE_ISSUER_ID":            issuer,
		"LOYALPASS_GOOGLE_ENDPOINT":             wallet.URL + "/",
		"LOYALPASS_GOOGLE_CALLBACK_KEYS_FILE":   keysFile,
		"LOYALPASS_FCM_CREDENTIALS_FILE":        serviceAccountFile(t, dir, "fcm.json", fcmEmail, push.TokenURL(), key),
		"LOYALPASS_FCM_PROJECT_ID":              "loyalpass-app",
		"LOYALPASS_FCM_ENDPOINT":                push.Endpoint(),
	} {
		t.Setenv(k, v)
	}

	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data", data}, io.Discard, pw)
		pw.Close()
	}()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exited %d", code)
		}
	}()
	sc := bufio.NewScanner(pr)
	addrRE := regexp.MustCompile(`loyalpass is serving.* addr=(\S+)`)
	var addr, log string
	for addr == "" && sc.Scan() {
		log += sc.Text() + "\n"
		if m := addrRE.FindStringSubmatch(sc.Text()); m != nil {
			addr = m[1]
		}
	}
	var rest strings.Builder
	var restMu sync.Mutex
	go func() {
		for sc.Scan() {
			restMu.Lock()
			rest.WriteString(sc.Text() + "\n")
			restMu.Unlock()
		}
	}()
	t.Cleanup(func() {
		if t.Failed() {
			restMu.Lock()
			t.Logf("serve log:\n%s%s", log, rest.String())
			restMu.Unlock()
		}
	})
	if addr == "" || !strings.Contains(log, "Google Wallet is on") || !strings.Contains(log, "FCM data messages are on") {
		t.Fatalf("serve log:\n%s", log)
	}
	code, out, errOut := runCLI(t, "keys", "create", "--merchant", "Кофейня", "--data", data)
	if code != 0 {
		t.Fatalf("keys create: %s", errOut)
	}
	apiKey := strings.TrimSpace(out)
	client := &http.Client{Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	call := func(method, path, body string) (*http.Response, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+apiKey)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", method+path+body)
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var m map[string]any
		json.NewDecoder(res.Body).Decode(&m)
		return res, m
	}

	_, prog := call("POST", "/api/v1/programs", `{"name":"Зерно+","earn_rate_bp":500}`)
	_, card := call("POST", "/api/v1/programs/"+prog["id"].(string)+"/cards", `{"phone":"+79123456789"}`)
	serial := card["serial_number"].(string)
	link, err := url.Parse(card["google_save_url"].(string))
	if err != nil {
		t.Fatal(err)
	}
	res, _ := call("GET", link.RequestURI(), "")
	if res.StatusCode != http.StatusFound || !strings.HasPrefix(res.Header.Get("Location"), google.SaveURLPrefix) {
		t.Fatalf("save link = %d %v", res.StatusCode, res.Header)
	}
	objectID := issuer + "." + serial
	if _, ok := wallet.Object(objectID); !ok || wallet.TokenExchanges() != 1 {
		t.Fatalf("object inserted %v, token exchanges %d", ok, wallet.TokenExchanges())
	}

	if res, _ := call("POST", "/api/v1/cards/"+serial+"/fcm-tokens", `{"token":"app:APA91bTest"}`); res.StatusCode != http.StatusCreated {
		t.Fatalf("register fcm token = %d", res.StatusCode)
	}
	res, txn := call("POST", "/api/v1/cards/"+serial+"/transactions", `{"kind":"earn","purchase_amount":100000}`)
	balance := txn["card"].(map[string]any)["balance"]
	if res.StatusCode != http.StatusCreated || balance == 0.0 {
		t.Fatalf("earn = %d %v", res.StatusCode, txn)
	}
	waitFor(t, "the balance at Google", func() bool {
		o, _ := wallet.Object(objectID)
		return o["loyaltyPoints"].(map[string]any)["balance"].(map[string]any)["int"] == balance
	})
	waitFor(t, "the data message at FCM", func() bool { return len(push.Requests()) == 1 })
	if m := push.Requests()[0]; m.Message.Data["serial_number"] != serial || push.TokenExchanges() != 1 {
		t.Fatalf("FCM got %+v after %d token exchanges", m.Message, push.TokenExchanges())
	}

	body := signer.Callback(googletest.Event{IssuerID: issuer, ClassID: issuer + "." + prog["id"].(string), ObjectID: objectID,
		EventType: google.EventSave, Nonce: "n-1", Expires: time.Now().Add(time.Minute)})
	req, _ := http.NewRequest("POST", "http://"+addr+"/hooks/google", strings.NewReader(string(body)))
	res, err = client.Do(req)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("callback = %v %v", res, err)
	}
	res.Body.Close()
	_, c := call("GET", "/api/v1/cards/"+serial, "")
	if in, _ := c["installs"].([]any); len(in) != 1 || in[0].(map[string]any)["channel"] != "google" {
		t.Fatalf("installs = %v", c["installs"])
	}
}

// TestCallbackKeysFileIsReadAgain: operators refresh the keys file when
// Google rotates its keys; the server takes the new keys without a
// restart, and a broken file refuses callbacks instead of crashing.
func TestCallbackKeysFileIsReadAgain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	first, _ := googletest.NewSigner()
	second, _ := googletest.NewSigner()
	os.WriteFile(path, first.KeysDoc(time.Now().Add(time.Hour)), 0o600)
	k := &callbackKeys{path: path, issuerID: "42", log: slog.New(slog.DiscardHandler)}
	ev := googletest.Event{IssuerID: "42", ClassID: "42.p", ObjectID: "42.c", EventType: google.EventSave, Nonce: "n",
		Expires: time.Now().Add(time.Minute)}
	if _, err := k.Verify(first.Callback(ev)); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Verify(second.Callback(ev)); !errors.Is(err, google.ErrCallback) {
		t.Fatalf("second signer before rotation: %v", err)
	}
	os.WriteFile(path, second.KeysDoc(time.Now().Add(time.Hour)), 0o600)
	later := time.Now().Add(time.Second)
	os.Chtimes(path, later, later)
	if _, err := k.Verify(second.Callback(ev)); err != nil {
		t.Fatalf("after rotation: %v", err)
	}
	os.WriteFile(path, []byte("{"), 0o600)
	later = later.Add(time.Second)
	os.Chtimes(path, later, later)
	if _, err := k.Verify(second.Callback(ev)); !errors.Is(err, google.ErrCallback) {
		t.Fatalf("broken keys file: %v", err)
	}
}

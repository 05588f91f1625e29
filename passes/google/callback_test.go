package google

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

var cbNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeGoogle signs callbacks the way Google does: a root key signs an
// intermediate key, which signs the message.
type fakeGoogle struct {
	root, intermediate *ecdsa.PrivateKey
	rootExp, interExp  time.Time
	sender             string
}

func newFakeGoogle(t *testing.T) *fakeGoogle {
	t.Helper()
	root, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	inter, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	return &fakeGoogle{root: root, intermediate: inter, sender: SenderID,
		rootExp: cbNow.Add(30 * 24 * time.Hour), interExp: cbNow.Add(7 * 24 * time.Hour)}
}

func spki(t *testing.T, k *ecdsa.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}

func sign(t *testing.T, k *ecdsa.PrivateKey, data []byte) string {
	t.Helper()
	h := sha256.Sum256(data)
	sig, err := ecdsa.SignASN1(rand.Reader, k, h[:])
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

// keys renders the document published at RootKeysURL, with a key of
// another protocol in front as the real one has.
func (g *fakeGoogle) keys(t *testing.T) *RootKeys {
	t.Helper()
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	doc := fmt.Sprintf(`{"keys":[{"keyValue":%q,"protocolVersion":"ECv2","keyExpiration":"%d"},`+
		`{"keyValue":%q,"protocolVersion":"ECv2SigningOnly","keyExpiration":"%d"}]}`,
		spki(t, other), g.rootExp.UnixMilli(), spki(t, g.root), g.rootExp.UnixMilli())
	rk, err := ParseRootKeys([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return rk
}

func message(eventType string, exp time.Time) string {
	return fmt.Sprintf(`{"classId":"%[1]s.prg_d4k2j7","objectId":"%[1]s.%[2]s","eventType":%[3]q,"expTimeMillis":%[4]d,"count":1,"nonce":"5f0c3f7e-1b2a-4c9d-8e7f-0a1b2c3d4e5f"}`,
		testIssuerID, testSerial, eventType, exp.UnixMilli())
}

// callback returns the body Google posts, as a map tests may tamper with.
func (g *fakeGoogle) callback(t *testing.T, recipient, signedMessage string) map[string]any {
	t.Helper()
	signedKey := fmt.Sprintf(`{"keyValue":%q,"keyExpiration":"%d"}`, spki(t, g.intermediate), g.interExp.UnixMilli())
	return map[string]any{
		"protocolVersion": ProtocolVersion,
		"signature":       sign(t, g.intermediate, lengthValue(g.sender, recipient, ProtocolVersion, signedMessage)),
		"signedMessage":   signedMessage,
		"intermediateSigningKey": map[string]any{
			"signedKey":  signedKey,
			"signatures": []string{sign(t, g.root, lengthValue(g.sender, ProtocolVersion, signedKey))},
		},
	}
}

func body(t *testing.T, m map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestVerifyCallback(t *testing.T) {
	g := newFakeGoogle(t)
	v := CallbackVerifier{IssuerID: testIssuerID, Keys: g.keys(t), Now: func() time.Time { return cbNow }}
	for _, ev := range []string{EventSave, EventDelete} {
		cb, err := v.Verify(body(t, g.callback(t, testIssuerID, message(ev, cbNow.Add(time.Minute)))))
		if err != nil {
			t.Fatalf("%s: %v", ev, err)
		}
		want := Callback{ClassID: testIssuerID + ".prg_d4k2j7", ObjectID: testIssuerID + "." + testSerial, EventType: ev,
			Nonce: "5f0c3f7e-1b2a-4c9d-8e7f-0a1b2c3d4e5f", Expires: time.UnixMilli(cbNow.Add(time.Minute).UnixMilli()), Count: 1}
		if cb != want {
			t.Errorf("got %+v\nwant %+v", cb, want)
		}
	}
}

func TestVerifyCallbackRejects(t *testing.T) {
	g := newFakeGoogle(t)
	keys := g.keys(t)
	stranger, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	good := message(EventSave, cbNow.Add(time.Minute))
	isk := func(m map[string]any) map[string]any { return m["intermediateSigningKey"].(map[string]any) }

	tests := []struct {
		name   string
		build  func() map[string]any
		now    time.Time
		sender string
		want   string
	}{
		{"signed for another issuer", func() map[string]any { return g.callback(t, "1234567890", good) }, cbNow, "", "message signature does not verify"},
		{"message altered", func() map[string]any {
			m := g.callback(t, testIssuerID, good)
			m["signedMessage"] = strings.Replace(good, `"save"`, `"del"`, 1)
			return m
		}, cbNow, "", "message signature does not verify"},
		{"intermediate key swapped", func() map[string]any {
			m := g.callback(t, testIssuerID, good)
			fake := &fakeGoogle{root: g.root, intermediate: stranger, sender: SenderID, interExp: g.interExp}
			isk(m)["signedKey"] = isk(fake.callback(t, testIssuerID, good))["signedKey"] // unsigned by root
			return m
		}, cbNow, "", "not signed by a current root key"},
		{"intermediate not signed by a root key", func() map[string]any {
			return (&fakeGoogle{root: stranger, intermediate: g.intermediate, sender: SenderID, interExp: g.interExp}).callback(t, testIssuerID, good)
		}, cbNow, "", "not signed by a current root key"},
		{"root key expired", func() map[string]any { return g.callback(t, testIssuerID, good) }, g.rootExp, "", "not signed by a current root key"},
		{"intermediate key expired", func() map[string]any {
			return g.callback(t, testIssuerID, message(EventSave, g.interExp.Add(time.Hour)))
		}, g.interExp, "", "intermediate signing key expired"},
		{"message expired", func() map[string]any { return g.callback(t, testIssuerID, good) }, cbNow.Add(time.Minute), "", "message expired"},
		{"other sender", func() map[string]any { return g.callback(t, testIssuerID, good) }, cbNow, "GooglePay", "not signed by a current root key"},
		{"wrong protocol", func() map[string]any {
			m := g.callback(t, testIssuerID, good)
			m["protocolVersion"] = "ECv2"
			return m
		}, cbNow, "", "protocol version"},
		{"extra member", func() map[string]any {
			m := g.callback(t, testIssuerID, good)
			m["extra"] = 1
			return m
		}, cbNow, "", "want exactly the members"},
		{"no signatures", func() map[string]any {
			m := g.callback(t, testIssuerID, good)
			isk(m)["signatures"] = []string{}
			return m
		}, cbNow, "", "not signed by a current root key"},
		{"unknown event", func() map[string]any {
			return g.callback(t, testIssuerID, message("update", cbNow.Add(time.Minute)))
		}, cbNow, "", "event type"},
		{"object of another issuer", func() map[string]any {
			return g.callback(t, testIssuerID, strings.ReplaceAll(good, testIssuerID, "1234567890"))
		}, cbNow, "", "are not issuer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := CallbackVerifier{IssuerID: testIssuerID, Keys: keys, Now: func() time.Time { return tt.now }, Sender: tt.sender}
			_, err := v.Verify(body(t, tt.build()))
			if !errors.Is(err, ErrCallback) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrCallback with %q", err, tt.want)
			}
		})
	}
	if _, err := (CallbackVerifier{IssuerID: testIssuerID, Keys: keys}).Verify([]byte("not json")); !errors.Is(err, ErrCallback) {
		t.Errorf("garbage: err = %v", err)
	}
}

func TestParseRootKeys(t *testing.T) {
	g := newFakeGoogle(t)
	if got := g.keys(t).Expires(); !got.Equal(time.UnixMilli(g.rootExp.UnixMilli())) {
		t.Errorf("Expires = %v", got)
	}
	for name, doc := range map[string]string{
		"not json":           `{"keys":`,
		"no signing key":     `{"keys":[{"keyValue":"AAAA","protocolVersion":"ECv2","keyExpiration":"1"}]}`,
		"no expiry":          fmt.Sprintf(`{"keys":[{"keyValue":%q,"protocolVersion":"ECv2SigningOnly"}]}`, spki(t, g.root)),
		"key not base64":     `{"keys":[{"keyValue":"%%%","protocolVersion":"ECv2SigningOnly","keyExpiration":"1"}]}`,
		"expiry not numeric": fmt.Sprintf(`{"keys":[{"keyValue":%q,"protocolVersion":"ECv2SigningOnly","keyExpiration":"soon"}]}`, spki(t, g.root)),
	} {
		if _, err := ParseRootKeys([]byte(doc)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

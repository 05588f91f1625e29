package googletest

import (
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/passes/google"
)

// TestCallbacksVerify pins the signer to the real verifier.
func TestCallbacksVerify(t *testing.T) {
	s, err := NewSigner()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	keys, err := google.ParseRootKeys(s.KeysDoc(now.Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	ev := Event{IssuerID: "3388000000022141777", ClassID: "3388000000022141777.prg", ObjectID: "3388000000022141777.card",
		EventType: google.EventDelete, Nonce: "n", Expires: now.Add(time.Minute)}
	cb, err := google.CallbackVerifier{IssuerID: ev.IssuerID, Keys: keys}.Verify(s.Callback(ev))
	if err != nil || cb.ObjectID != ev.ObjectID || cb.EventType != google.EventDelete || cb.Nonce != "n" {
		t.Fatalf("Verify = %+v, %v", cb, err)
	}
	other, _ := NewSigner()
	if _, err := (google.CallbackVerifier{IssuerID: ev.IssuerID, Keys: keys}).Verify(other.Callback(ev)); err == nil {
		t.Fatal("another signer's callback verified")
	}
}

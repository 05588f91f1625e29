package google

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Constants of Google's callback signatures: the ECv2SigningOnly variant of
// the Google Pay payment-method-token protocol (Tink's
// PaymentMethodTokenRecipient), which exists as a library only for Java.
const (
	// RootKeysURL publishes Google's root signing keys for pass callbacks,
	// as JSON {"keys":[{"keyValue","protocolVersion","keyExpiration"}]}.
	// Fetching and caching it is the caller's job; Google rotates the keys
	// and each carries its expiry.
	RootKeysURL = "https://pay.google.com/gp/m/issuer/keys"
	// ProtocolVersion is the only protocol pass callbacks use.
	ProtocolVersion = "ECv2SigningOnly"
	// SenderID is Google's sender for pass callbacks. Some newer Google
	// pages write "GoogleWalletPasses"; real callbacks from 2024-12 and
	// 2025-10 verify with this one only.
	SenderID = "GooglePayPasses"
)

// Event types of a callback.
const (
	EventSave   = "save"
	EventDelete = "del"
)

// ErrCallback is wrapped by every error of Verify: the request did not
// come from Google, or came too late. Answer it with 400 and drop it.
var ErrCallback = errors.New("google wallet callback rejected")

// Callback is a verified save or delete of one object.
type Callback struct {
	ClassID   string
	ObjectID  string
	EventType string // EventSave or EventDelete
	// Nonce tells a redelivery from a new event: Google retries on
	// failure and may deliver twice, so drop a nonce already handled.
	Nonce   string
	Expires time.Time // expTimeMillis: the message is refused after it
	Count   int       // sent by Google ("count":1), undocumented
}

// CallbackVerifier checks the callbacks of one issuer.
type CallbackVerifier struct {
	// IssuerID is the recipient ID the message signature covers.
	IssuerID string
	// Keys are Google's current root signing keys (ParseRootKeys).
	Keys *RootKeys
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Sender overrides SenderID when non-empty.
	Sender string
}

// Verify checks a callback request body and returns its event. In order:
//
//  1. the body is exactly {protocolVersion, intermediateSigningKey,
//     signature, signedMessage}, protocolVersion is ECv2SigningOnly, and
//     intermediateSigningKey is exactly {signedKey, signatures};
//  2. one of intermediateSigningKey.signatures is a valid ECDSA P-256
//     SHA-256 signature, by a root key of protocol ECv2SigningOnly that has
//     not expired, over LV(sender) ‖ LV("ECv2SigningOnly") ‖ LV(signedKey),
//     LV being a 4-byte little-endian length followed by the UTF-8 bytes;
//  3. signedKey holds keyValue and keyExpiration, and has not expired;
//  4. signature is valid, by that intermediate key, over LV(sender) ‖
//     LV(issuerID) ‖ LV("ECv2SigningOnly") ‖ LV(signedMessage);
//  5. signedMessage is JSON with classId and objectId of this issuer,
//     eventType save or del, a nonce, and expTimeMillis not yet past.
//
// Not checked here: whether the nonce was seen before (the store's job),
// and whether the keys are Google's current ones (the caller's fetch).
func (v CallbackVerifier) Verify(body []byte) (Callback, error) {
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	sender := SenderID
	if v.Sender != "" {
		sender = v.Sender
	}
	if v.IssuerID == "" || v.Keys == nil {
		return Callback{}, fmt.Errorf("%w: verifier needs an issuer ID and root keys", ErrCallback)
	}
	var msg struct {
		ProtocolVersion        string          `json:"protocolVersion"`
		Signature              string          `json:"signature"`
		SignedMessage          string          `json:"signedMessage"`
		IntermediateSigningKey json.RawMessage `json:"intermediateSigningKey"`
	}
	if err := decodeExact(body, &msg, "protocolVersion", "signature", "signedMessage", "intermediateSigningKey"); err != nil {
		return Callback{}, fmt.Errorf("%w: %v", ErrCallback, err)
	}
	if msg.ProtocolVersion != ProtocolVersion {
		return Callback{}, fmt.Errorf("%w: protocol version %q", ErrCallback, msg.ProtocolVersion)
	}
	var isk struct {
		SignedKey  string   `json:"signedKey"`
		Signatures []string `json:"signatures"`
	}
	if err := decodeExact(msg.IntermediateSigningKey, &isk, "signedKey", "signatures"); err != nil {
		return Callback{}, fmt.Errorf("%w: intermediateSigningKey: %v", ErrCallback, err)
	}

	if !v.Keys.verifyAny(now, isk.Signatures, lengthValue(sender, ProtocolVersion, isk.SignedKey)) {
		return Callback{}, fmt.Errorf("%w: intermediate signing key is not signed by a current root key", ErrCallback)
	}
	var sk struct {
		KeyValue      string `json:"keyValue"`
		KeyExpiration string `json:"keyExpiration"`
	}
	if err := json.Unmarshal([]byte(isk.SignedKey), &sk); err != nil || sk.KeyValue == "" || sk.KeyExpiration == "" {
		return Callback{}, fmt.Errorf("%w: signedKey must hold keyValue and keyExpiration", ErrCallback)
	}
	if exp, err := millis(sk.KeyExpiration); err != nil || !now.Before(exp) {
		return Callback{}, fmt.Errorf("%w: intermediate signing key expired or has a bad expiry %q", ErrCallback, sk.KeyExpiration)
	}
	intermediate, err := parseP256(sk.KeyValue)
	if err != nil {
		return Callback{}, fmt.Errorf("%w: intermediate key: %v", ErrCallback, err)
	}
	if !verifySig(intermediate, msg.Signature, lengthValue(sender, v.IssuerID, ProtocolVersion, msg.SignedMessage)) {
		return Callback{}, fmt.Errorf("%w: message signature does not verify for issuer %s", ErrCallback, v.IssuerID)
	}
	return v.event(now, msg.SignedMessage)
}

// event checks and returns the content of a verified signedMessage.
func (v CallbackVerifier) event(now time.Time, signed string) (Callback, error) {
	var m struct {
		ClassID       string      `json:"classId"`
		ObjectID      string      `json:"objectId"`
		EventType     string      `json:"eventType"`
		ExpTimeMillis json.Number `json:"expTimeMillis"`
		Count         int         `json:"count"`
		Nonce         string      `json:"nonce"`
	}
	dec := json.NewDecoder(strings.NewReader(signed))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return Callback{}, fmt.Errorf("%w: signedMessage: %v", ErrCallback, err)
	}
	prefix := v.IssuerID + "."
	switch {
	case !strings.HasPrefix(m.ClassID, prefix) || !strings.HasPrefix(m.ObjectID, prefix):
		return Callback{}, fmt.Errorf("%w: class %q / object %q are not issuer %s's", ErrCallback, m.ClassID, m.ObjectID, v.IssuerID)
	case m.EventType != EventSave && m.EventType != EventDelete:
		return Callback{}, fmt.Errorf("%w: event type %q", ErrCallback, m.EventType)
	case m.Nonce == "":
		return Callback{}, fmt.Errorf("%w: no nonce", ErrCallback)
	}
	exp, err := millis(m.ExpTimeMillis.String())
	if err != nil || !now.Before(exp) {
		return Callback{}, fmt.Errorf("%w: message expired or has a bad expTimeMillis %q", ErrCallback, m.ExpTimeMillis)
	}
	return Callback{ClassID: m.ClassID, ObjectID: m.ObjectID, EventType: m.EventType,
		Nonce: m.Nonce, Expires: exp, Count: m.Count}, nil
}

// decodeExact decodes a JSON object into v after checking it has exactly
// the named members, as Tink does: an extra member is not Google's format.
func decodeExact(data []byte, v any, names ...string) error {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(data, &members); err != nil {
		return fmt.Errorf("not a JSON object: %w", err)
	}
	if len(members) != len(names) {
		return fmt.Errorf("want exactly the members %s", strings.Join(names, ", "))
	}
	for _, n := range names {
		if _, ok := members[n]; !ok {
			return fmt.Errorf("member %s is missing", n)
		}
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("member of the wrong type: %w", err)
	}
	return nil
}

// lengthValue is the byte string the protocol signs: each part as its
// byte length (4 bytes, little-endian) followed by its UTF-8 bytes.
func lengthValue(parts ...string) []byte {
	var b bytes.Buffer
	for _, p := range parts {
		b.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(p))))
		b.WriteString(p)
	}
	return b.Bytes()
}

// verifySig checks a base64 DER ECDSA signature of SHA-256(data).
func verifySig(pub *ecdsa.PublicKey, sigB64 string, data []byte) bool {
	sig, err := base64.StdEncoding.DecodeString(sigB64)
	if err != nil {
		return false
	}
	h := sha256.Sum256(data)
	return ecdsa.VerifyASN1(pub, h[:], sig)
}

// parseP256 parses a base64 X.509 SubjectPublicKeyInfo of a P-256 key.
func parseP256(b64 string) (*ecdsa.PublicKey, error) {
	der, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("key is not base64: %w", err)
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("key is not a SubjectPublicKeyInfo: %w", err)
	}
	ec, ok := pub.(*ecdsa.PublicKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, errors.New("key is not ECDSA P-256")
	}
	return ec, nil
}

// millis parses a decimal count of milliseconds since the epoch.
func millis(s string) (time.Time, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("not milliseconds: %q", s)
	}
	return time.UnixMilli(n), nil
}

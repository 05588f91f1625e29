// Package googletest signs Google Wallet save/delete callbacks the way
// Google does, for tests of code that receives them: a root key, published
// in a keys document like the one at google.RootKeysURL, signs an
// intermediate key, which signs the message (ECv2SigningOnly).
package googletest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/loyalpass/loyalpass/passes/google"
)

// Signer holds a root and an intermediate signing key.
type Signer struct {
	root, intermediate *ecdsa.PrivateKey
}

// NewSigner makes a Signer with fresh P-256 keys.
func NewSigner() (*Signer, error) {
	root, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	inter, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	return &Signer{root: root, intermediate: inter}, nil
}

// KeysDoc is the root keys document, the root key expiring at expires.
func (s *Signer) KeysDoc(expires time.Time) []byte {
	return fmt.Appendf(nil, `{"keys":[{"keyValue":%q,"protocolVersion":%q,"keyExpiration":"%d"}]}`,
		spki(s.root), google.ProtocolVersion, expires.UnixMilli())
}

// Event is one callback's content.
type Event struct {
	IssuerID  string
	ClassID   string // full class ID, "<issuer>.<suffix>"
	ObjectID  string // full object ID
	EventType string // google.EventSave or google.EventDelete
	Nonce     string
	Expires   time.Time // expTimeMillis
}

// Callback returns the JSON body Google posts for ev, its intermediate key
// valid until a week after ev.Expires.
func (s *Signer) Callback(ev Event) []byte {
	msg := fmt.Sprintf(`{"classId":%q,"objectId":%q,"eventType":%q,"expTimeMillis":%d,"count":1,"nonce":%q}`,
		ev.ClassID, ev.ObjectID, ev.EventType, ev.Expires.UnixMilli(), ev.Nonce)
	signedKey := fmt.Sprintf(`{"keyValue":%q,"keyExpiration":"%d"}`, spki(s.intermediate),
		ev.Expires.Add(7*24*time.Hour).UnixMilli())
	body, _ := json.Marshal(map[string]any{
		"protocolVersion": google.ProtocolVersion,
		"signature":       sign(s.intermediate, lengthValue(google.SenderID, ev.IssuerID, google.ProtocolVersion, msg)),
		"signedMessage":   msg,
		"intermediateSigningKey": map[string]any{
			"signedKey":  signedKey,
			"signatures": []string{sign(s.root, lengthValue(google.SenderID, google.ProtocolVersion, signedKey))},
		},
	})
	return body
}

func spki(k *ecdsa.PrivateKey) string {
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		panic(err) // a P-256 key always marshals
	}
	return base64.StdEncoding.EncodeToString(der)
}

// lengthValue is what the protocol signs: each part as its 4-byte
// little-endian length followed by its bytes.
func lengthValue(parts ...string) []byte {
	var b bytes.Buffer
	for _, p := range parts {
		b.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(p))))
		b.WriteString(p)
	}
	return b.Bytes()
}

func sign(k *ecdsa.PrivateKey, data []byte) string {
	h := sha256.Sum256(data)
	sig, err := ecdsa.SignASN1(rand.Reader, k, h[:])
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	return base64.StdEncoding.EncodeToString(sig)
}

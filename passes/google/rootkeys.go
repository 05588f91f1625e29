package google

import (
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// RootKeys are Google's root signing keys for pass callbacks, as
// published at RootKeysURL. Only keys of protocol ECv2SigningOnly that
// carry an expiry are kept, as Tink keeps them for that protocol.
type RootKeys struct {
	keys []rootKey
}

type rootKey struct {
	pub     *ecdsa.PublicKey
	expires time.Time
}

// ParseRootKeys parses the keys document:
//
//	{"keys":[{"keyValue":"<base64 SubjectPublicKeyInfo>",
//	          "protocolVersion":"ECv2SigningOnly",
//	          "keyExpiration":"<ms since epoch>"}]}
//
// Keys of other protocols are skipped; a malformed ECv2SigningOnly key is
// an error, and so is a document without any.
func ParseRootKeys(doc []byte) (*RootKeys, error) {
	var d struct {
		Keys []struct {
			KeyValue        string `json:"keyValue"`
			ProtocolVersion string `json:"protocolVersion"`
			KeyExpiration   string `json:"keyExpiration"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("parse google root signing keys: %w", err)
	}
	rk := &RootKeys{}
	for i, k := range d.Keys {
		if k.ProtocolVersion != ProtocolVersion || k.KeyExpiration == "" {
			continue
		}
		exp, err := millis(k.KeyExpiration)
		if err != nil {
			return nil, fmt.Errorf("google root signing key %d: keyExpiration: %w", i, err)
		}
		pub, err := parseP256(k.KeyValue)
		if err != nil {
			return nil, fmt.Errorf("google root signing key %d: %w", i, err)
		}
		rk.keys = append(rk.keys, rootKey{pub: pub, expires: exp})
	}
	if len(rk.keys) == 0 {
		return nil, errors.New("google root signing keys: no " + ProtocolVersion + " key with an expiry")
	}
	return rk, nil
}

// Expires returns when the first of the keys expires: refetch the document
// before then.
func (rk *RootKeys) Expires() time.Time {
	var first time.Time
	for _, k := range rk.keys {
		if first.IsZero() || k.expires.Before(first) {
			first = k.expires
		}
	}
	return first
}

// verifyAny reports whether any of the signatures verifies data under any
// root key not expired at now.
func (rk *RootKeys) verifyAny(now time.Time, signatures []string, data []byte) bool {
	for _, k := range rk.keys {
		if !now.Before(k.expires) {
			continue
		}
		for _, sig := range signatures {
			if verifySig(k.pub, sig, data) {
				return true
			}
		}
	}
	return false
}

package apnstest

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"time"
)

// providerTokenLife is how long APNs accepts a provider token after its
// iat.
const providerTokenLife = time.Hour

// jwtCheck verifies APNs provider tokens by hand, the way APNs does: ES256
// over "header.claims", kid and iss as configured, iat within the last
// hour. Verified tokens are cached, since clients reuse one for up to an
// hour and ECDSA verification would dominate a benchmark.
type jwtCheck struct {
	pub    *ecdsa.PublicKey
	keyID  string
	teamID string

	mu  sync.Mutex
	iat map[string]time.Time // verified bearer → issued at
}

type jwtHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
}

type jwtClaims struct {
	Iss string `json:"iss"`
	Iat int64  `json:"iat"`
}

func (c *jwtCheck) verify(bearer string, now time.Time) error {
	c.mu.Lock()
	iat, ok := c.iat[bearer]
	c.mu.Unlock()
	if !ok {
		var err error
		if iat, err = c.verifySignature(bearer); err != nil {
			return err
		}
		c.mu.Lock()
		if c.iat == nil {
			c.iat = make(map[string]time.Time)
		}
		c.iat[bearer] = iat
		c.mu.Unlock()
	}
	if now.Sub(iat) > providerTokenLife || iat.After(now.Add(time.Minute)) {
		return fmt.Errorf("iat %s outside the accepted hour", iat.UTC().Format(time.RFC3339))
	}
	return nil
}

func (c *jwtCheck) verifySignature(bearer string) (time.Time, error) {
	parts := strings.Split(bearer, ".")
	if len(parts) != 3 {
		return time.Time{}, errors.New("not a compact JWS")
	}
	var h jwtHeader
	if err := decodeSegment(parts[0], &h); err != nil {
		return time.Time{}, fmt.Errorf("header: %w", err)
	}
	if h.Alg != "ES256" || h.Kid != c.keyID {
		return time.Time{}, fmt.Errorf("header alg %q kid %q", h.Alg, h.Kid)
	}
	var cl jwtClaims
	if err := decodeSegment(parts[1], &cl); err != nil {
		return time.Time{}, fmt.Errorf("claims: %w", err)
	}
	if cl.Iss != c.teamID || cl.Iat == 0 {
		return time.Time{}, fmt.Errorf("claims iss %q iat %d", cl.Iss, cl.Iat)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return time.Time{}, errors.New("signature is not 64 bytes of base64url")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if !ecdsa.Verify(c.pub, digest[:], r, s) {
		return time.Time{}, errors.New("signature does not verify")
	}
	return time.Unix(cl.Iat, 0), nil
}

func decodeSegment(seg string, v any) error {
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, v)
}

// Package oauthfake is Google's OAuth token endpoint for a service
// account, as the test fakes of Google services need it: it takes the
// RFC 7523 JWT-bearer grant the client signs with the account's key
// (checking signature, issuer, audience, expiry and scope), issues access
// tokens, and tells whether a request carries one of them.
package oauthfake

import (
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/golang-jwt/jwt/v5"
)

// Issuer is the token endpoint of one service account. It is safe for
// concurrent use.
type Issuer struct {
	email    string
	pub      *rsa.PublicKey
	tokenURL string
	scopes   []string // a grant must ask for at least one of these

	mu        sync.Mutex
	issued    map[string]bool
	exchanges int
}

// New returns an Issuer for the account email with public key pub, whose
// grants are addressed to tokenURL and ask for one of scopes.
func New(email string, pub *rsa.PublicKey, tokenURL string, scopes ...string) *Issuer {
	return &Issuer{email: email, pub: pub, tokenURL: tokenURL, scopes: scopes, issued: map[string]bool{}}
}

// ServeToken answers POST /token.
func (i *Issuer) ServeToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(r.PostForm.Get("assertion"), claims,
		func(*jwt.Token) (any, error) { return i.pub, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(i.email), jwt.WithAudience(i.tokenURL),
		jwt.WithExpirationRequired())
	if err == nil {
		scope, _ := claims["scope"].(string)
		if !slices.ContainsFunc(strings.Fields(scope), func(sc string) bool { return slices.Contains(i.scopes, sc) }) {
			err = fmt.Errorf("scope %q has none of %v", scope, i.scopes)
		}
	}
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": err.Error()})
		return
	}
	i.mu.Lock()
	i.exchanges++
	tok := fmt.Sprintf("ya29.fake-%d", i.exchanges)
	i.issued[tok] = true
	i.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 3600})
}

// Authorized reports whether r carries an access token this Issuer issued.
func (i *Issuer) Authorized(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	i.mu.Lock()
	defer i.mu.Unlock()
	return ok && i.issued[tok]
}

// Exchanges returns how many access tokens the Issuer issued.
func (i *Issuer) Exchanges() int {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.exchanges
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

package gwallettest

import (
	"crypto/rsa"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// scopeIssuer is the Wallet API's only OAuth scope.
const scopeIssuer = "https://www.googleapis.com/auth/wallet_object.issuer"

// saAuth is the state of RequireServiceAccount. Guarded by Server.mu.
type saAuth struct {
	email     string
	pub       *rsa.PublicKey
	issued    map[string]bool
	exchanges int
}

// RequireServiceAccount makes the server behave like Google's OAuth for a
// service account: POST /token takes the RFC 7523 JWT-bearer grant the
// client signs with the account's key (checking signature, iss, aud and
// the Wallet scope) and issues an access token, and every API request must
// then carry "Authorization: Bearer <that token>", else 401. Put TokenURL
// in the key file's token_uri.
func (s *Server) RequireServiceAccount(email string, pub *rsa.PublicKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.auth = &saAuth{email: email, pub: pub, issued: map[string]bool{}}
}

// TokenURL is the fake token endpoint.
func (s *Server) TokenURL() string { return s.URL + "/token" }

// TokenExchanges returns how many access tokens the server issued.
func (s *Server) TokenExchanges() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.auth == nil {
		return 0
	}
	return s.auth.exchanges
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	a := s.auth
	s.mu.Unlock()
	if a == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "not_found"})
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(r.PostForm.Get("assertion"), claims,
		func(*jwt.Token) (any, error) { return a.pub, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(a.email), jwt.WithAudience(s.TokenURL()),
		jwt.WithExpirationRequired())
	if err == nil {
		if scope, _ := claims["scope"].(string); !slices.Contains(strings.Fields(scope), scopeIssuer) {
			err = fmt.Errorf("scope %q lacks %s", scope, scopeIssuer)
		}
	}
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": err.Error()})
		return
	}
	s.mu.Lock()
	a.exchanges++
	tok := fmt.Sprintf("ya29.fake-%d", a.exchanges)
	a.issued[tok] = true
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 3600})
}

// authorized checks the bearer token when RequireServiceAccount is on.
func (s *Server) authorized(r *http.Request) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.auth == nil {
		return true
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && s.auth.issued[tok]
}

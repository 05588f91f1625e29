package fcmtest

import (
	"crypto/rsa"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// scopeMessaging is any scope that lets a service account send: the
// Admin SDK asks for cloud-platform among others.
var scopeMessaging = []string{
	"https://www.googleapis.com/auth/firebase.messaging",
	"https://www.googleapis.com/auth/cloud-platform",
}

// RequireServiceAccount makes the fake behave like Google's OAuth for a
// service account: POST /token takes the RFC 7523 JWT-bearer grant signed
// with the account's key (signature, iss, aud and a messaging scope are
// checked) and issues an access token; every send must then carry
// "Authorization: Bearer <that token>", else 401. Put TokenURL in the key
// file's token_uri.
func (s *Server) RequireServiceAccount(email string, pub *rsa.PublicKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.auth = &saAuth{email: email, pub: pub, issued: map[string]bool{}}
}

// TokenURL is the fake token endpoint.
func (s *Server) TokenURL() string { return s.URL + "/token" }

// TokenExchanges returns how many access tokens the fake issued.
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
	w.Header().Set("Content-Type", "application/json")
	if a == nil {
		http.Error(w, `{"error":"not_found"}`, http.StatusNotFound)
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		http.Error(w, `{"error":"unsupported_grant_type"}`, http.StatusBadRequest)
		return
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(r.PostForm.Get("assertion"), claims,
		func(*jwt.Token) (any, error) { return a.pub, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(a.email), jwt.WithAudience(s.TokenURL()),
		jwt.WithExpirationRequired())
	if err == nil {
		scope, _ := claims["scope"].(string)
		if !slices.ContainsFunc(strings.Fields(scope), func(sc string) bool { return slices.Contains(scopeMessaging, sc) }) {
			err = fmt.Errorf("scope %q allows no messaging", scope)
		}
	}
	if err != nil {
		http.Error(w, fmt.Sprintf(`{"error":"invalid_grant","error_description":%q}`, err.Error()), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	a.exchanges++
	tok := fmt.Sprintf("ya29.fake-%d", a.exchanges)
	a.issued[tok] = true
	s.mu.Unlock()
	fmt.Fprintf(w, `{"access_token":%q,"token_type":"Bearer","expires_in":3600}`, tok)
}

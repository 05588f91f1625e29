package fcmtest

import (
	"crypto/rsa"
	"net/http"

	"github.com/loyalpass/loyalpass/push/internal/oauthfake"
)

// scopesMessaging are the scopes that let a service account send: the
// Admin SDK asks for cloud-platform among others.
var scopesMessaging = []string{
	"https://www.googleapis.com/auth/firebase.messaging",
	"https://www.googleapis.com/auth/cloud-platform",
}

// RequireServiceAccount makes the fake behave like Google's OAuth for a
// service account: POST /token takes the JWT-bearer grant signed with the
// account's key and issues an access token, and every send must then
// carry "Authorization: Bearer <that token>", else 401. Put TokenURL in
// the key file's token_uri.
func (s *Server) RequireServiceAccount(email string, pub *rsa.PublicKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.auth = oauthfake.New(email, pub, s.TokenURL(), scopesMessaging...)
}

// TokenURL is the fake token endpoint.
func (s *Server) TokenURL() string { return s.URL + "/token" }

// TokenExchanges returns how many access tokens the fake issued.
func (s *Server) TokenExchanges() int {
	s.mu.Lock()
	a := s.auth
	s.mu.Unlock()
	if a == nil {
		return 0
	}
	return a.Exchanges()
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	a := s.auth
	s.mu.Unlock()
	if a == nil {
		http.Error(w, `{"error":"not_found"}`, http.StatusNotFound)
		return
	}
	a.ServeToken(w, r)
}

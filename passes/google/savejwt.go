package google

import (
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// SaveURLPrefix starts every "Add to Google Wallet" link.
const SaveURLPrefix = "https://pay.google.com/gp/v/save/"

// MaxSaveURLLen is Google's limit for a JWT in a web link ("must not
// exceed 1800 characters" because browsers truncate). SaveURL holds the
// whole URL to it, which is stricter than holding the JWT alone.
const MaxSaveURLLen = 1800

// ErrSaveURLTooLong is returned when a save link would pass MaxSaveURLLen.
var ErrSaveURLTooLong = errors.New("google wallet: save link longer than 1800 characters")

// ServiceAccount is the key that signs save links and authenticates REST
// calls, with the issuer it acts for.
type ServiceAccount struct {
	Email        string // client_email: the JWT's iss
	PrivateKeyID string // private_key_id: the JWT header's kid
	Key          *rsa.PrivateKey
	IssuerID     string // numeric issuer ID from the Pay & Wallet Console
}

// LoadServiceAccount parses a Google service-account key file (the JSON
// the Cloud console downloads). Errors name the missing or bad member and
// never quote the key.
func LoadServiceAccount(jsonBytes []byte, issuerID string) (*ServiceAccount, error) {
	var f struct {
		Type         string `json:"type"`
		ClientEmail  string `json:"client_email"`
		PrivateKeyID string `json:"private_key_id"`
		PrivateKey   string `json:"private_key"`
	}
	if err := json.Unmarshal(jsonBytes, &f); err != nil {
		return nil, fmt.Errorf("google service account key: not JSON: %w", err)
	}
	switch {
	case f.Type != "service_account":
		return nil, fmt.Errorf("google service account key: type is %q, want \"service_account\"", f.Type)
	case f.ClientEmail == "":
		return nil, errors.New("google service account key: client_email is missing")
	case f.PrivateKey == "":
		return nil, errors.New("google service account key: private_key is missing")
	}
	key, err := jwt.ParseRSAPrivateKeyFromPEM([]byte(f.PrivateKey))
	if err != nil {
		return nil, fmt.Errorf("google service account key %s: private_key is not an RSA key in PEM: %w", f.ClientEmail, err)
	}
	if _, err := resourceID(issuerID, "x"); err != nil {
		return nil, fmt.Errorf("google service account key %s: %w", f.ClientEmail, err)
	}
	return &ServiceAccount{Email: f.ClientEmail, PrivateKeyID: f.PrivateKeyID, Key: key, IssuerID: issuerID}, nil
}

// ObjectRef names an object of a vertical (VerticalLoyalty, …) by ID.
type ObjectRef struct {
	Vertical string
	ID       string
}

// Loyalty names loyalty objects by ID.
func Loyalty(ids ...string) []ObjectRef {
	refs := make([]ObjectRef, len(ids))
	for i, id := range ids {
		refs[i] = ObjectRef{Vertical: VerticalLoyalty, ID: id}
	}
	return refs
}

// payloadKeys are the save JWT's payload keys of each vertical's objects.
var payloadKeys = map[string]string{
	VerticalLoyalty:  "loyaltyObjects",
	VerticalOffer:    "offerObjects",
	VerticalGiftCard: "giftCardObjects",
}

// SaveURL returns an "Add to Google Wallet" link for objects that are
// already inserted (a "skinny" JWT: the payload names them by ID only).
// Opening it again never updates an object; balance changes go by PATCH.
//
// The JWT is RS256-signed by the service account, with iss = its email,
// aud "google", typ "savetowallet", iat = now, origins (the web origins
// of a JS save button; nil for plain links) and a payload naming each
// object under its vertical's key: {"loyaltyObjects":[{"id":…}]},
// "offerObjects", "giftCardObjects". It carries no exp: Google names
// none, and the link may sit in an SMS for a while.
//
// Every ID must belong to the account's issuer. A link over MaxSaveURLLen
// is an error (ErrSaveURLTooLong): browsers truncate it.
func SaveURL(key *ServiceAccount, refs []ObjectRef, origins []string, now time.Time) (string, error) {
	if key == nil || key.Key == nil || key.Email == "" {
		return "", errors.New("save link: no service account key")
	}
	if len(refs) == 0 {
		return "", errors.New("save link: no object")
	}
	payload := map[string]any{}
	for _, ref := range refs {
		id := ref.ID
		suffix, ok := strings.CutPrefix(id, key.IssuerID+".")
		if !ok {
			return "", fmt.Errorf("save link: %w: object %q is not of issuer %s", ErrInvalidID, id, key.IssuerID)
		}
		if _, err := resourceID(key.IssuerID, suffix); err != nil {
			return "", fmt.Errorf("save link: %w", err)
		}
		k, ok := payloadKeys[ref.Vertical]
		if !ok {
			return "", fmt.Errorf("save link: object %q of unknown vertical %q", id, ref.Vertical)
		}
		objects, _ := payload[k].([]map[string]string)
		payload[k] = append(objects, map[string]string{"id": id})
	}
	if origins == nil {
		origins = []string{} // "origins":[] rather than null, as Google's own links have it
	}
	claims := jwt.MapClaims{
		"iss":     key.Email,
		"aud":     "google",
		"typ":     "savetowallet",
		"iat":     now.Unix(),
		"origins": origins,
		"payload": payload,
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	if key.PrivateKeyID != "" {
		tok.Header["kid"] = key.PrivateKeyID
	}
	signed, err := tok.SignedString(key.Key)
	if err != nil {
		return "", fmt.Errorf("save link: sign jwt: %w", err)
	}
	u := SaveURLPrefix + signed
	if len(u) > MaxSaveURLLen {
		return "", fmt.Errorf("%w: %d characters for %d objects", ErrSaveURLTooLong, len(u), len(refs))
	}
	return u, nil
}
